"""Source name -> reader. Each reader returns a streaming DataFrame in one shape, whatever runs below.

Shape: `data` (binary, the record as sent), `key` (partition key), `position` (sequence number or
offset, as text), `arrival` (timestamp the service stamped, null when unknown). Transforms read only
these, so the native connector and streamlab's Python source are interchangeable.

Native first: when the JVM connector's format is on the classpath (EMR 7.1+ ships `aws-kinesis`)
it runs; otherwise streamlab's Python source (`kinesis_source.py`). `--reader native|python` forces
one. The choice is logged. A later source (Kafka, socket, files) is a function and one line in
READERS. No pyspark import at module level: the CLI reads READERS for its choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from streamlab.errors import ConfigError
from streamlab.settings import Settings

READER_CHOICES = ("auto", "native", "python")


@dataclass
class ReadRequest:
    """What a consume run asks of its source (fields a source does not use are ignored)."""

    stream: Optional[str] = None
    starting_position: str = "trim-horizon"
    max_records_per_batch: Optional[int] = None
    reader: str = "auto"


@dataclass
class Reader:
    df: Any  # the streaming DataFrame, in the shape described above
    description: str  # for the log: which implementation reads what


def jvm_has_format(spark, name: str) -> bool:
    """Whether a JVM data source `name` can be loaded (False under Spark Connect or without the jar)."""
    try:
        jvm = spark._jvm  # noqa: SLF001 - the only way to ask the classpath from Python
        conf = spark._jsparkSession.sessionState().conf()  # noqa: SLF001
        jvm.org.apache.spark.sql.execution.datasources.DataSource.lookupDataSource(name, conf)
        return True
    except Exception:
        return False


def _aws_options(settings: Settings) -> dict[str, str]:
    """Endpoint, region and explicitly configured credentials, for readers running on executors."""
    from streamlab.aws.session import AWS

    aws = AWS(settings)
    opts = {"region": aws.region}
    if aws.endpoint_url:
        opts["endpointUrl"] = aws.endpoint_url
    if settings.profile:
        opts["profile"] = settings.profile
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        # Option names contain "accesskey"/"secret"/"token": Spark redacts them in plans and logs.
        opts["awsAccessKeyId"] = settings.aws_access_key_id.get_secret_value()
        opts["awsSecretAccessKey"] = settings.aws_secret_access_key.get_secret_value()
        if settings.aws_session_token:
            opts["awsSessionToken"] = settings.aws_session_token.get_secret_value()
    return opts


def kinesis(spark, settings: Settings, req: ReadRequest) -> Reader:
    from pyspark.sql import functions as F

    if not req.stream:
        raise ConfigError("--stream is required for --source kinesis", "name the Kinesis stream, e.g. --stream ticker")
    position = req.starting_position.upper().replace("-", "_")
    native = req.reader == "native" or (req.reader == "auto" and jvm_has_format(spark, "aws-kinesis"))
    if req.reader == "native" and not jvm_has_format(spark, "aws-kinesis"):
        raise ConfigError(
            "the aws-kinesis Spark connector is not on the classpath",
            "run on EMR 7.1+ (or add the spark-sql-kinesis jar), or use --reader python",
        )
    aws = _aws_options(settings)
    if native:
        endpoint = aws.get("endpointUrl") or f"https://kinesis.{aws['region']}.amazonaws.com"
        reader = (
            spark.readStream.format("aws-kinesis")
            .option("kinesis.streamName", req.stream)
            .option("kinesis.endpointUrl", endpoint)
            .option("kinesis.region", aws["region"])
            .option("kinesis.startingPosition", position)
        )
        if req.max_records_per_batch:
            reader = reader.option("kinesis.maxFetchRecordsPerShard", str(req.max_records_per_batch))
        df = reader.load()
        label = "native aws-kinesis connector"
    else:
        from streamlab.spark.kinesis_source import FORMAT, KinesisDataSource

        spark.dataSource.register(KinesisDataSource)
        reader = spark.readStream.format(FORMAT).option("streamName", req.stream).option("startingPosition", position)
        for k, v in aws.items():
            reader = reader.option(k, v)
        if req.max_records_per_batch:
            reader = reader.option("maxRecordsPerBatch", str(req.max_records_per_batch))
        df = reader.load()
        label = "streamlab's Python Kinesis source"
    shaped = df.select(
        F.col("data"),
        F.col("partitionKey").alias("key"),
        F.col("sequenceNumber").alias("position"),
        F.col("approximateArrivalTimestamp").alias("arrival"),
    )
    where = aws.get("endpointUrl") or f"region {aws['region']}"
    return Reader(shaped, f"{label}: stream {req.stream} at {where}, from {req.starting_position}")


def check_kinesis(settings: Settings, req: ReadRequest) -> None:
    """Driver-side check before Spark starts: the stream exists (one-line 'create it with' error)."""
    from streamlab.aws.kinesis import require_stream
    from streamlab.aws.session import AWS

    if not req.stream:
        raise ConfigError("--stream is required for --source kinesis", "name the Kinesis stream, e.g. --stream ticker")
    require_stream(AWS(settings), req.stream)


# name -> (reader, pre-flight check run before the SparkSession starts)
READERS: dict[str, tuple[Callable[..., Reader], Callable[[Settings, ReadRequest], None]]] = {
    "kinesis": (kinesis, check_kinesis),
}
