"""Source name -> reader. Each reader returns a streaming DataFrame in one shape, whatever runs below.

Shape: `data` (binary, the record as sent), `key` (partition key), `position` (sequence number or
offset, as text), `arrival` (timestamp the service stamped, null when unknown). Transforms read only
these, so the native connector and streamlab's Python source are interchangeable.

Native first: when the JVM connector's format is on the classpath (EMR 7.1+ ships `aws-kinesis`;
`kafka` with the spark-sql-kafka jar, or `--packages`) it runs; otherwise streamlab's Python
source (`kinesis_source.py`, `kafka_source.py`, Spark 4.0+ only). `--reader native|python` forces
one. The choice is logged. Kafka's `position` is `partition:offset`; socket lines have no key or
position; file lines carry their file's path as `position`. No pyspark import at module level:
the CLI reads READERS for its choices.

KPL aggregates (Kinesis, streamlab's Python source): each user record is a row, `key` its own
partition key and `position` `<sequence number>:<sub-sequence number>`; a corrupt aggregate is one
row with its raw bytes and a fifth column, `reader_error` (`bad KPL aggregate (md5)`), which
`reader_errors.ReaderErrors` turns into the quarantine reason whatever the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from streamlab.errors import ConfigError
from streamlab.spark import compat

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings

READER_CHOICES = ("auto", "native", "python")
#: the optional fifth column: why the reader itself found a record unusable (null when it did not)
READER_ERROR = "reader_error"


@dataclass
class ReadRequest:
    """What a consume run asks of its source (fields a source does not use are ignored)."""

    stream: Optional[str] = None
    starting_position: str = "trim-horizon"
    max_records_per_batch: Optional[int] = None
    reader: str = "auto"
    # kafka
    topic: Optional[str] = None
    bootstrap: Optional[str] = None
    starting_offsets: Optional[str] = None  # earliest | latest (default: from starting_position)
    max_offsets_per_trigger: Optional[int] = None
    isolation_level: str = "read_uncommitted"  # Kafka: read_committed skips aborted transactions
    packages: bool = False  # --packages: spark.jars.packages was set to the Kafka connector
    security_protocol: Optional[str] = None
    sasl_mechanism: Optional[str] = None
    ca_file: Optional[str] = None
    kafka: Any = None  # the resolved KafkaSecurity (set by check_kafka, before Spark starts)
    # socket
    host: str = "127.0.0.1"
    port: Optional[int] = None
    # files
    input_path: Optional[str] = None
    file_format: str = "text"

    def kafka_offsets(self) -> str:
        if self.starting_offsets:
            return self.starting_offsets
        return "latest" if self.starting_position == "latest" else "earliest"


@dataclass
class Reader:
    df: Any  # the streaming DataFrame, in the shape described above
    description: str  # for the log: which implementation reads what
    python_module: Optional[str] = None  # a Python source's module: its tasks run in Python workers


def _need_aws(aws, source: str) -> None:
    if aws is None:  # a programming error, not a user's: run_consume always passes one
        raise TypeError(f"the {source} reader needs the command's AWS handle (streamlab.aws.session.AWS)")


def kinesis(spark, settings: Settings, req: ReadRequest, aws=None) -> Reader:
    from pyspark.sql import functions as F

    if not req.stream:
        raise ConfigError("--stream is required for --source kinesis", "name the Kinesis stream, e.g. --stream ticker")
    position = req.starting_position.upper().replace("-", "_")
    native = req.reader == "native" or (req.reader == "auto" and compat.jvm_has_format(spark, "aws-kinesis"))
    if req.reader == "native" and not compat.jvm_has_format(spark, "aws-kinesis"):
        raise ConfigError(
            "the aws-kinesis Spark connector is not on the classpath",
            "run on EMR 7.1+ (or add the spark-sql-kinesis jar), or use --reader python",
        )
    _need_aws(aws, "kinesis")
    opts = aws.worker_options()  # plain strings for the executors (endpoint, region, explicit credentials)
    if native:
        endpoint = opts.get("endpointUrl") or f"https://kinesis.{opts['region']}.amazonaws.com"
        reader = (
            spark.readStream.format("aws-kinesis")
            .option("kinesis.streamName", req.stream)
            .option("kinesis.endpointUrl", endpoint)
            .option("kinesis.region", opts["region"])
            .option("kinesis.startingPosition", position)
        )
        if req.max_records_per_batch:
            reader = reader.option("kinesis.maxFetchRecordsPerShard", str(req.max_records_per_batch))
        df = reader.load()
        label = "native aws-kinesis connector"
        python_module = None
    else:
        require_python_sources(spark, "streamlab's Kinesis reader")
        from streamlab.spark.kinesis_source import FORMAT, KinesisDataSource

        spark.dataSource.register(KinesisDataSource)
        reader = spark.readStream.format(FORMAT).option("streamName", req.stream).option("startingPosition", position)
        for k, v in opts.items():
            reader = reader.option(k, v)
        if req.max_records_per_batch:
            reader = reader.option("maxRecordsPerBatch", str(req.max_records_per_batch))
        df = reader.load()
        label = "streamlab's Python Kinesis source"
        python_module = KinesisDataSource.__module__
    seq = F.col("sequenceNumber")
    columns = [F.col("data"), F.col("partitionKey").alias("key"), seq.alias("position"), F.col("approximateArrivalTimestamp").alias("arrival")]
    if not native:  # a KPL aggregate's user records: SEQ:SUB, and the reader's verdict on a corrupt one
        sub = F.col("subSequenceNumber")
        columns[2] = F.when(sub.isNull(), seq).otherwise(F.concat_ws(":", seq, sub.cast("string"))).alias("position")
        columns.append(F.col("kplError").alias(READER_ERROR))
    shaped = df.select(*columns)
    where = opts.get("endpointUrl") or f"region {opts['region']}"
    return Reader(shaped, f"{label}: stream {req.stream} at {where}, from {req.starting_position}", python_module)


def check_kinesis(settings: Settings, req: ReadRequest, aws=None) -> None:
    """Driver-side check before Spark starts: the stream exists (one-line 'create it with' error)."""
    from streamlab.aws.kinesis import require_stream

    if not req.stream:
        raise ConfigError("--stream is required for --source kinesis", "name the Kinesis stream, e.g. --stream ticker")
    _need_aws(aws, "kinesis")
    require_stream(aws, req.stream)


# ----------------------------------------------------------------------------------------------
# Kafka
def require_python_sources(spark, what: str) -> None:
    """streamlab's Python readers are `pyspark.sql.datasource` sources: Spark 4.0+ only (compat decides)."""
    compat.require_python_datasource(spark, what)


def kafka_native_options(sec, req: ReadRequest) -> dict[str, str]:
    """Everything handed to Spark's `kafka` format (contains the JAAS password: never log it)."""
    from streamlab.kafka.settings import spark_options

    opts = dict(spark_options(sec))
    opts["subscribe"] = req.topic
    opts["startingOffsets"] = req.kafka_offsets()
    opts["kafka.isolation.level"] = req.isolation_level
    if req.max_offsets_per_trigger:
        opts["maxOffsetsPerTrigger"] = str(req.max_offsets_per_trigger)
    return opts


def kafka_python_options(sec, req: ReadRequest) -> dict[str, str]:
    """Everything handed to streamlab's `streamlab-kafka` format (see kafka_source)."""
    opts = {
        "topic": req.topic,
        "bootstrapServers": ",".join(sec.servers),
        "startingOffsets": req.kafka_offsets(),
        "securityProtocol": sec.protocol,
        "isolationLevel": req.isolation_level,
    }
    if req.max_offsets_per_trigger:
        opts["maxOffsetsPerTrigger"] = str(req.max_offsets_per_trigger)
    if sec.uses_sasl:
        opts["saslMechanism"] = sec.mechanism
        opts["username"] = sec.username
        opts["password"] = sec.secret()  # Spark redacts option names containing "password"
    if sec.ca_file:
        opts["caFile"] = sec.ca_file
    return opts


def kafka(spark, settings: Settings, req: ReadRequest, aws=None) -> Reader:
    from pyspark.sql import functions as F

    sec = req.kafka if req.kafka is not None else _kafka_security(settings, req)
    has_jar = compat.jvm_has_format(spark, "kafka")
    if req.reader == "native" and not (has_jar or req.packages):
        raise ConfigError(
            "Spark's kafka connector (spark-sql-kafka-0-10) is not on the classpath",
            "add --packages (downloads the connector matching this Spark), run where the jar is installed, or use --reader python",
        )
    native = req.reader == "native" or (req.reader == "auto" and (has_jar or req.packages))
    if native:
        df = spark.readStream.format("kafka").options(**kafka_native_options(sec, req)).load()
        label = "Spark's native kafka connector"
        python_module = None
    else:
        require_python_sources(spark, "streamlab's Kafka reader")
        from streamlab.spark.kafka_source import FORMAT, KafkaDataSource

        spark.dataSource.register(KafkaDataSource)
        df = spark.readStream.format(FORMAT).options(**kafka_python_options(sec, req)).load()
        label = "streamlab's Python Kafka reader"
        python_module = KafkaDataSource.__module__
    shaped = df.select(
        F.col("value").alias("data"),
        F.col("key").cast("string").alias("key"),
        F.concat_ws(":", F.col("partition").cast("string"), F.col("offset").cast("string")).alias("position"),
        F.col("timestamp").alias("arrival"),
    )
    return Reader(shaped, f"{label}: topic {req.topic} at {sec.describe()}, from {req.kafka_offsets()}", python_module)


def _kafka_security(settings: Settings, req: ReadRequest):
    from streamlab.kafka.settings import resolve

    return resolve(settings, bootstrap=req.bootstrap, security_protocol=req.security_protocol,
                   sasl_mechanism=req.sasl_mechanism, ca_file=req.ca_file)


def check_kafka(settings: Settings, req: ReadRequest, aws=None) -> None:
    """Before Spark starts: a topic, a resolvable and reachable broker, and the topic exists there."""
    if not req.topic:
        raise ConfigError("--source kafka needs --topic", "name the topic, e.g. --topic reviews")
    if req.starting_offsets and req.starting_offsets not in ("earliest", "latest"):
        raise ConfigError(f"--starting-offsets {req.starting_offsets!r} is not understood", "use earliest or latest")
    from streamlab.kafka.diagnose import KafkaLogCapture, connect, preflight
    from streamlab.kafka.settings import admin_kwargs

    sec = req.kafka = _kafka_security(settings, req)
    preflight(sec)
    from kafka import KafkaAdminClient

    from streamlab.errors import ResourceNotFound

    with KafkaLogCapture() as logs:
        admin = connect(lambda: KafkaAdminClient(**admin_kwargs(sec)), sec, logs)
        try:
            topics = connect(admin.list_topics, sec, logs)
        finally:
            admin.close()
    if req.topic not in topics:
        raise ResourceNotFound(
            f"Kafka topic {req.topic} does not exist at {sec.describe()}",
            f"produce to it first (e.g. `streamlab produce reviews --sink kafka --topic {req.topic} --create-topic`) or check the name",
        )


# ----------------------------------------------------------------------------------------------
# socket
def socket(spark, settings: Settings, req: ReadRequest, aws=None) -> Reader:
    from pyspark.sql import functions as F

    df = (
        spark.readStream.format("socket")
        .option("host", req.host)
        .option("port", str(req.port))
        .option("includeTimestamp", "true")
        .load()
    )
    shaped = df.select(
        F.col("value").cast("binary").alias("data"),
        F.lit(None).cast("string").alias("key"),
        F.lit(None).cast("string").alias("position"),
        F.col("timestamp").alias("arrival"),
    )
    return Reader(shaped, f"Spark's socket source: {req.host}:{req.port} (not replayable: lines sent while no query runs are lost)")


def check_socket(settings: Settings, req: ReadRequest, aws=None) -> None:
    # No test connection here: a producer such as `produce --sink socket` hands the lines it holds
    # to the first client that connects, and a probe would take them. Spark's refusal is explained
    # instead (`failures.explain_source_failure`).
    if not req.port:
        raise ConfigError("--source socket needs --port", "e.g. --port 9999 (start `streamlab produce tweets --sink socket --port 9999` first)")


# ----------------------------------------------------------------------------------------------
# files
FILE_FORMATS = ("text", "json", "tsv")


def files(spark, settings: Settings, req: ReadRequest, aws=None) -> Reader:
    from pyspark.sql import functions as F

    # Line by line whatever the format: the dataset parses each line (a JSON document, a TSV row,
    # a text line). Folders are read recursively (Firehose writes YYYY/MM/DD/HH/); .gz is unpacked.
    df = spark.readStream.format("text").option("recursiveFileLookup", "true").load(req.input_path)
    value = F.col("value")
    if req.file_format == "tsv":  # the header row of a TSV file is not a record
        df = df.where(~value.startswith("marketplace\t"))
    elif req.file_format == "json":
        df = df.where(F.trim(value) != "")
    shaped = df.select(
        value.cast("binary").alias("data"),
        F.lit(None).cast("string").alias("key"),
        F.col("_metadata.file_path").alias("position"),
        F.lit(None).cast("timestamp").alias("arrival"),
    )
    return Reader(shaped, f"Spark's file source: {req.file_format} lines under {req.input_path} (new files as they appear)")


def check_files(settings: Settings, req: ReadRequest, aws=None) -> None:
    if not req.input_path:
        raise ConfigError("--source files needs the folder to read", "give it with --input DIR (or --path DIR when no sink writes files)")
    if req.file_format not in FILE_FORMATS:
        raise ConfigError(f"unknown file format {req.file_format!r}", f"use one of {', '.join(FILE_FORMATS)}")
    if "://" not in req.input_path or req.input_path.startswith("file://"):
        from pathlib import Path

        local = Path(req.input_path.removeprefix("file://")).expanduser()
        if not local.is_dir():
            raise ConfigError(f"input folder {local} does not exist", "give an existing folder (Spark watches it for new files)")
        req.input_path = str(local.resolve())


# name -> (reader, pre-flight check run before the SparkSession starts). Both take
# (settings, request, aws): `aws` is the command's AWS handle (None when the run needs no AWS).
READERS: dict[str, tuple[Callable[..., Reader], Callable[..., None]]] = {
    "kinesis": (kinesis, check_kinesis),
    "kafka": (kafka, check_kafka),
    "socket": (socket, check_socket),
    "files": (files, check_files),
}
