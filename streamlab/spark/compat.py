"""Which Spark is this, and what can it do: versions, connector coordinates, feature gates.

Small pure functions (plus two that ask a running JVM), so readers, the session and
`--print-spark-submit` agree on one answer:

  - `parse_version` / `maven_version`: "3.5.1-amzn-0" -> (3, 5, 1) / "3.5.1" (EMR suffixes its builds;
    Maven Central publishes the plain version, and a connector built for 3.5.1 runs on 3.5.1-amzn-0).
  - `installed_versions()`: Spark and Scala versions read from the `spark-core_<scala>-<spark>.jar`
    file name, without starting a JVM or importing pyspark (works for the pip wheel, $SPARK_HOME and
    EMR's /usr/lib/spark alike). `running_versions(spark)` asks the session's JVM instead.
  - `kafka_packages(spark, scala)`: the `spark-sql-kafka-0-10` coordinates matching that Spark.
  - `jvm_has_class` / `jvm_has_format` and the `has_*_connector` helpers: whether a connector is on the
    driver's classpath (False under Spark Connect, where there is no JVM to ask).
  - `require_python_reader(version, source)`: Python data sources (`pyspark.sql.datasource`) exist
    from Spark 4.0; below that, one ConfigError saying what to use instead.
  - `python_available_now(version)`: Trigger.AvailableNow for Python streaming sources needs 4.2+
    (`SupportsTriggerAvailableNow`); without it Spark silently reads only part of the backlog.

No pyspark import at module level: the CLI may import this for `--print-spark-submit` on a machine
without Spark.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from streamlab.errors import ConfigError

Version = tuple[int, int, int]

#: Spark's own Kafka source (spark-sql-kafka-0-10); `format("kafka")` resolves to it.
KAFKA_PROVIDER = "org.apache.spark.sql.kafka010.KafkaSourceProvider"
KAFKA_FORMAT = "kafka"
#: The `aws-kinesis` connector EMR 7.1+ ships (awslabs/spark-sql-kinesis-connector): its
#: META-INF/services/org.apache.spark.sql.sources.DataSourceRegister names this class, and its README
#: reads with `.format("aws-kinesis")` and options `kinesis.streamName`, `kinesis.endpointUrl`
#: (required), `kinesis.region`, `kinesis.startingPosition`. The same README lists
#: "Trigger.AvailableNow is not supported". EMR's release guide, "Using the Spark structured
#: streaming Amazon Kinesis Data Streams connector", says 7.1.0+ include it in the release image.
KINESIS_PROVIDER = "org.apache.spark.sql.connector.kinesis.KinesisV2TableProvider"
KINESIS_FORMAT = "aws-kinesis"

#: Spark 4.0 dropped Scala 2.12; every 3.x release on PyPI and EMR 7.x is built for 2.12.
SCALA_FOR_MAJOR = {3: "2.12", 4: "2.13"}
PYTHON_SOURCES_SINCE: Version = (4, 0, 0)
PYTHON_AVAILABLE_NOW_SINCE: Version = (4, 2, 0)

#: Where Spark's jars are when nothing says otherwise: EMR (and Bigtop-style installs).
SYSTEM_SPARK_HOMES = ("/usr/lib/spark",)

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_CORE_JAR_RE = re.compile(r"^spark-core_(\d+\.\d+)-(\d+\.\d+\.\d+[^/]*?)\.jar$")


@dataclass(frozen=True)
class SparkVersions:
    spark: str  # as Spark reports it, e.g. "3.5.1-amzn-0"
    scala: str  # binary version, e.g. "2.12"
    where: str  # what answered: "jvm", or the jars folder read

    @property
    def version(self) -> Version:
        return parse_version(self.spark)

    def describe(self) -> str:
        return f"Spark {self.spark} (Scala {self.scala})"


def parse_version(text: str) -> Version:
    """'3.5.1-amzn-0' -> (3, 5, 1); '4.0' -> (4, 0, 0); ValueError when there is no version in it."""
    m = _VERSION_RE.search(text or "")
    if not m:
        raise ValueError(f"not a Spark version: {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def maven_version(text: str) -> str:
    """The version published on Maven Central for a Spark build: vendor suffixes dropped."""
    return ".".join(str(n) for n in parse_version(text))


def default_scala(spark_version: str) -> str:
    major = parse_version(spark_version)[0]
    if major not in SCALA_FOR_MAJOR:
        raise ConfigError(f"Spark {spark_version} is not supported", "use Spark 3.5 or 4.x")
    return SCALA_FOR_MAJOR[major]


def scala_binary(text: str) -> str:
    """'2.12.18' -> '2.12' (the part artifact names carry)."""
    major, minor, _ = parse_version(text)
    return f"{major}.{minor}"


def kafka_packages(spark_version: Optional[str] = None, scala_version: Optional[str] = None) -> str:
    """`org.apache.spark:spark-sql-kafka-0-10_<scala>:<spark>` for `spark.jars.packages` / `--packages`.

    The connector must match the running Spark exactly (minor and Scala binary version), or the
    query fails at start with a NoSuchMethodError/ClassNotFoundException far from the cause.
    Without arguments: for the Spark installed here (`installed_versions()`).
    """
    if spark_version is None:
        found = installed_versions()
        if found is None:
            raise ConfigError("no Spark found to match the Kafka connector to", 'install it with: pip install "streamlab[spark]"')
        spark_version, scala_version = found.spark, scala_version or found.scala
    scala = scala_binary(scala_version) if scala_version else default_scala(spark_version)
    return f"org.apache.spark:spark-sql-kafka-0-10_{scala}:{maven_version(spark_version)}"


def versions_from_jars(jars_dir: os.PathLike | str) -> Optional[SparkVersions]:
    """Spark and Scala versions from the `spark-core_<scala>-<spark>.jar` in a jars folder."""
    try:
        names = sorted(os.listdir(jars_dir))
    except OSError:
        return None
    for name in names:
        m = _CORE_JAR_RE.match(name)
        if m:
            return SparkVersions(spark=m.group(2), scala=m.group(1), where=str(jars_dir))
    return None


def _jar_dirs(environ: Optional[dict] = None) -> Iterable[Path]:
    env = os.environ if environ is None else environ
    if env.get("SPARK_HOME"):
        yield Path(env["SPARK_HOME"]) / "jars"
    spec = importlib.util.find_spec("pyspark")  # finds the package without importing it
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            yield Path(loc) / "jars"
    for home in SYSTEM_SPARK_HOMES:
        yield Path(home) / "jars"


def installed_versions(environ: Optional[dict] = None) -> Optional[SparkVersions]:
    """The Spark this machine would run ($SPARK_HOME, else the pyspark package, else /usr/lib/spark).

    Read from jar names, so it is instant and needs no JVM. None when no Spark is found.
    """
    for d in _jar_dirs(environ):
        found = versions_from_jars(d)
        if found is not None:
            return found
    return None


def running_versions(spark) -> SparkVersions:
    """Versions of the JVM behind a session (authoritative: what actually runs)."""
    try:
        scala = spark._jvm.scala.util.Properties.versionNumberString()  # noqa: SLF001
    except Exception:  # Spark Connect: no JVM in this process; fall back to the installed jars
        installed = installed_versions()
        scala = installed.scala if installed else default_scala(spark.version)
        return SparkVersions(spark=spark.version, scala=scala_binary(scala), where="installed jars")
    return SparkVersions(spark=spark.version, scala=scala_binary(scala), where="jvm")


# -- connectors on the classpath ------------------------------------------------------------------
def jvm_has_class(spark, class_name: str) -> bool:
    """Whether `class_name` loads in the driver JVM, through the loader that sees `--jars`/`--packages`."""
    try:
        jvm = spark._jvm  # noqa: SLF001 - the only way to ask the classpath from Python
        loader = jvm.org.apache.spark.util.Utils.getContextOrSparkClassLoader()
        jvm.java.lang.Class.forName(class_name, False, loader)
        return True
    except Exception:
        return False


def jvm_has_format(spark, name: str) -> bool:
    """Whether `format(name)` resolves to a JVM data source (the lookup Spark itself makes)."""
    try:
        jvm = spark._jvm  # noqa: SLF001
        conf = spark._jsparkSession.sessionState().conf()  # noqa: SLF001
        jvm.org.apache.spark.sql.execution.datasources.DataSource.lookupDataSource(name, conf)
        return True
    except Exception:
        return False


def has_kafka_connector(spark) -> bool:
    return jvm_has_class(spark, KAFKA_PROVIDER)


def has_kinesis_connector(spark) -> bool:
    return jvm_has_class(spark, KINESIS_PROVIDER)


# -- feature gates --------------------------------------------------------------------------------
def supports_python_sources(spark_version: str) -> bool:
    return parse_version(spark_version) >= PYTHON_SOURCES_SINCE


def python_available_now(spark_version: str) -> bool:
    """Trigger.AvailableNow for a Python streaming source (the `SupportsTriggerAvailableNow` mixin)."""
    return parse_version(spark_version) >= PYTHON_AVAILABLE_NOW_SINCE


_NATIVE_INSTEAD = {
    "kinesis": "use the native connector (--reader native; EMR 7.1+ ships aws-kinesis)",
    "kafka": "use Spark's Kafka connector (--packages, or its jar on the classpath)",
}


def require_python_reader(spark_version: str, source: str = "kinesis") -> None:
    """Raise one ConfigError when streamlab's Python `source` reader cannot run on this Spark."""
    if supports_python_sources(spark_version):
        return
    native = _NATIVE_INSTEAD.get(source, "use a native Spark connector")
    raise ConfigError(
        f"streamlab's Python {source} reader needs Spark 4.0 or later (Python data sources); this is Spark {spark_version}",
        f"{native}, or run on Spark 4.x (pip install \"streamlab[spark]\", or EMR release emr-spark-8.0.0)",
    )


def require_python_datasource(spark, what: str) -> None:
    """`require_python_reader` for a running session; `what` names the reader ("streamlab's Kafka reader")."""
    lowered = what.lower()
    source = next((name for name in _NATIVE_INSTEAD if name in lowered), what)
    require_python_reader(spark.version, source)


def require_available_now(spark_version: str, source: str = "kinesis") -> None:
    """Raise when `--trigger available-now` is asked of a Python source that would read only part of the backlog."""
    if python_available_now(spark_version):
        return
    raise ConfigError(
        f"--trigger available-now with streamlab's Python {source} reader needs Spark 4.2 or later; this is Spark {spark_version}",
        "use an interval trigger with --timeout (e.g. --trigger 5s --timeout 60), or Spark 4.2+ (pip install \"streamlab[spark]\")",
    )

