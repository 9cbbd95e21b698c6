"""Spark version facts: connector coordinates, feature gates, classpath checks, versions from jars.

Every test here also runs under pyspark 3.5 (`make test-spark35`), where the Python-reader refusal
must be the one line a student sees.
"""

from __future__ import annotations

import pytest

from streamlab.errors import ConfigError
from streamlab.spark import compat
from streamlab.testing import assert_one_line

pytestmark = pytest.mark.spark35


@pytest.mark.parametrize(
    "spark, scala, expected",
    [
        ("3.5.6", None, "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.6"),  # EMR 7.x
        ("3.5.1-amzn-0", None, "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.1"),  # EMR's build suffix dropped
        ("4.0.2", None, "org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.2"),  # emr-spark-8.0.0
        ("4.3.0", "2.13.18", "org.apache.spark:spark-sql-kafka-0-10_2.13:4.3.0"),  # full Scala version from the JVM
        ("3.5.9", "2.13", "org.apache.spark:spark-sql-kafka-0-10_2.13:3.5.9"),  # a Scala 2.13 build of 3.5
    ],
)
def test_kafka_packages_match_spark_and_scala(spark, scala, expected):
    assert compat.kafka_packages(spark, scala) == expected


def test_kafka_packages_default_to_the_installed_spark():
    import pyspark

    scala = compat.default_scala(pyspark.__version__)
    assert compat.kafka_packages() == f"org.apache.spark:spark-sql-kafka-0-10_{scala}:{pyspark.__version__}"


def test_unsupported_spark_is_one_line():
    with pytest.raises(ConfigError) as e:
        compat.kafka_packages("2.4.8")
    assert e.value.one_line() == "Spark 2.4.8 is not supported; use Spark 3.5 or 4.x"


@pytest.mark.parametrize(
    "version, python_sources, available_now",
    [("3.5.6", False, False), ("3.5.1-amzn-0", False, False), ("4.0.2", True, False), ("4.1.4", True, False),
     ("4.2.0", True, True), ("4.3.0", True, True)],
)
def test_feature_gates(version, python_sources, available_now):
    assert compat.supports_python_sources(version) is python_sources
    assert compat.python_available_now(version) is available_now


def test_python_reader_refusal_names_every_way_out():
    with pytest.raises(ConfigError) as e:
        compat.require_python_reader("3.5.6", "kinesis")
    line = e.value.one_line()
    assert "\n" not in line
    assert line.startswith("streamlab's Python kinesis reader needs Spark 4.0 or later (Python data sources); this is Spark 3.5.6;")
    for way in ("--reader native", "aws-kinesis", "emr-spark-8.0.0", "Spark 4.x"):
        assert way in line
    with pytest.raises(ConfigError) as e:
        compat.require_python_reader("3.5.6", "kafka")
    assert "--packages" in e.value.one_line()
    compat.require_python_reader("4.0.2", "kinesis")  # no error from 4.0 on


def test_available_now_refusal_below_4_2():
    with pytest.raises(ConfigError) as e:
        compat.require_available_now("4.0.2")
    assert "needs Spark 4.2 or later; this is Spark 4.0.2" in e.value.one_line()
    compat.require_available_now("4.2.0")


def test_versions_from_jar_names(tmp_path):
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("scala-library-2.12.18.jar", "spark-core_2.12-3.5.1-amzn-0.jar", "spark-sql_2.12-3.5.1-amzn-0.jar"):
        (jars / name).touch()
    found = compat.versions_from_jars(jars)
    assert (found.spark, found.scala, found.version) == ("3.5.1-amzn-0", "2.12", (3, 5, 1))
    assert compat.versions_from_jars(tmp_path / "missing") is None
    # SPARK_HOME wins over the pyspark package
    assert compat.installed_versions({"SPARK_HOME": str(tmp_path)}).spark == "3.5.1-amzn-0"


def test_installed_versions_agree_with_the_pyspark_package():
    import pyspark

    found = compat.installed_versions({})
    assert found is not None and found.spark == pyspark.__version__
    assert found.scala == compat.default_scala(pyspark.__version__)


def test_python_reader_on_this_spark_is_refused_in_one_line_below_4():
    """Under pyspark 3.5 (the spark35 run) this is the refusal a student sees; under 4.x, no refusal,
    and the Python data source API the readers are built on is there."""
    import importlib

    import pyspark

    if compat.parse_version(pyspark.__version__) >= (4, 0, 0):
        for kind in ("kinesis", "kafka"):
            assert compat.require_python_reader(pyspark.__version__, kind) is None
        assert hasattr(importlib.import_module("pyspark.sql.datasource"), "DataSourceStreamReader")
        return
    with pytest.raises(ConfigError) as e:
        compat.require_python_reader(pyspark.__version__)
    assert_one_line(e.value.one_line(), f"this is Spark {pyspark.__version__}")
    with pytest.raises(ImportError):  # what the refusal stands in front of
        import pyspark.sql.datasource  # noqa: F401


@pytest.mark.spark
def test_running_versions_and_classpath_checks(spark):
    found = compat.running_versions(spark)
    assert found.where == "jvm"
    assert found.spark == spark.version
    assert found.scala == compat.default_scala(spark.version)
    # the socket source ships with Spark; neither Kafka nor aws-kinesis ships with the pyspark wheel
    assert compat.jvm_has_class(spark, "org.apache.spark.sql.execution.streaming.sources.TextSocketSourceProvider")
    assert compat.jvm_has_format(spark, "socket")
    assert not compat.has_kafka_connector(spark)
    assert not compat.has_kinesis_connector(spark)
    assert not compat.jvm_has_format(spark, compat.KINESIS_FORMAT)
    assert not compat.jvm_has_class(spark, "no.such.Class")


@pytest.mark.spark
def test_consume_with_the_python_reader_on_this_spark(spark, aws_env, fresh_stream):
    """Through run_consume: below Spark 4 the Python reader is refused in one line (before any query
    starts); from 4.0 it is the reader that runs."""
    from streamlab.settings import load_settings
    from streamlab.spark.job import run_consume
    from streamlab.spark.request import ConsumeRequest

    def consume():
        request = ConsumeRequest(load_settings(), source="kinesis", stream=fresh_stream, reader="python", sink="memory",
                                 trigger="available-now", timeout=60, quiet=True)
        return run_consume(request, spark=spark)

    if compat.supports_python_sources(spark.version):
        assert "Python Kinesis" in consume().reader
        return
    with pytest.raises(ConfigError) as e:
        consume()
    line = e.value.one_line()
    assert "\n" not in line and f"this is Spark {spark.version}" in line and "--reader native" in line
    assert not spark.streams.active
