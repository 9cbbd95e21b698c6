"""The SparkSession for `streamlab consume`, and the checks that say what is missing before Spark starts.

Under `spark-submit` (YARN/EMR, any cluster) the master and resources come from spark-submit:
`getOrCreate` reuses the session it set up and only streamlab's own settings are added. Run
directly, a lean local session starts: `local[*]`, loopback driver, no UI, few shuffle partitions
(the state store of a windowed query keeps one partition per shuffle partition, and on a laptop
200 of them cost more than the data), UTC session time zone so window bounds print the same
everywhere.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Optional

from streamlab.errors import MissingDependency

JAVA_HINT = "install OpenJDK 17 (e.g. `sudo apt-get install openjdk-17-jre-headless`, or `brew install openjdk@17`) or point JAVA_HOME at one"


def require_pyspark() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise MissingDependency.extra(exc.name or "pyspark", "spark") from None


def under_spark_submit() -> bool:
    """spark-submit starts the JVM first and hands Python its gateway port."""
    return bool(os.environ.get("PYSPARK_GATEWAY_PORT"))


def find_java() -> str:
    """Path of the `java` Spark will run: $JAVA_HOME/bin/java when JAVA_HOME is set, else PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if not os.access(java, os.X_OK):
            raise MissingDependency(f"JAVA_HOME={home} has no bin/java", f"fix or unset JAVA_HOME, or {JAVA_HINT}")
        return str(java)
    java = shutil.which("java")
    if not java:
        raise MissingDependency("Java is not installed (no `java` on PATH); Spark needs it", JAVA_HINT)
    return java


def require_spark() -> None:
    """Fail in one line, before the JVM is launched, when pyspark or Java is missing."""
    require_pyspark()
    if not under_spark_submit():
        find_java()


#: Java options of streamlab's own local-mode JVM (not under spark-submit, where the cluster's
#: settings apply): C1 only. On this 2-core machine it halves the JVM's CPU time over a consume of
#: the shipped capture and its wall time with it (benchmarks/time_to_result.py); peak throughput of a
#: long run drops by less than what the labs' rates need.
LOCAL_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1"


def local_java_options():
    """(the local JVM's options, the class-data archive it will write at exit or None):
    LOCAL_JAVA_OPTIONS plus the archive of Spark's classes (see `jvm_cache`), or exactly
    STREAMLAB_SPARK_JAVA_OPTIONS when set ("" for the JVM's defaults)."""
    given = os.environ.get("STREAMLAB_SPARK_JAVA_OPTIONS")
    if given is not None:
        return given, None
    from pyspark.find_spark_home import _find_spark_home

    from streamlab.spark import jvm_cache

    extra, archive = jvm_cache.options(find_java(), _find_spark_home())
    return f"{LOCAL_JAVA_OPTIONS} {extra}".strip(), archive


def get_session(app_name: str = "streamlab", *, master: Optional[str] = None, extra_conf: Optional[dict] = None):
    require_spark()
    # Python workers must be this interpreter, or they miss the venv's packages (pyarrow, streamlab).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if not under_spark_submit():
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only, and no hostname warning
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.streaming.forceDeleteTempCheckpointLocation": "true",
    }
    if not under_spark_submit():
        master = master or os.environ.get("STREAMLAB_SPARK_MASTER", "local[*]")
        builder = builder.master(master)
        conf.update(
            {
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                "spark.sql.shuffle.partitions": "2",
                "spark.default.parallelism": "2",
                "spark.log.level": "ERROR",
                "spark.sql.adaptive.enabled": "false",
                # a lab's job is short and small: the JVM's second JIT tier (C2) spends a core
                # compiling for a peak speed such a run never reaches (see LOCAL_JAVA_OPTIONS)
            }
        )
    archive = None
    if not under_spark_submit():
        java_options, archive = local_java_options()
        conf["spark.driver.extraJavaOptions"] = java_options
    conf.update(extra_conf or {})
    for key, value in conf.items():
        builder = builder.config(key, value)
    if not under_spark_submit():  # our own JVM: its stderr goes through a relay that stop can mute
        from streamlab.spark import jvm_cache, jvm_output

        proc = jvm_output.launch(conf, master, app_name)
        if archive is not None:
            if proc is not None:
                jvm_cache.finish_at_exit(proc, archive)
            else:  # a JVM already ran in this process: nothing will write the archive
                archive.unlink(missing_ok=True)
    spark = builder.getOrCreate()
    if not under_spark_submit():
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def warm_python_workers(spark, module: str) -> None:
    """Start the executor Python workers a Python source's tasks will run in, and import `module`
    (pyarrow, boto3 / kafka-python) there, before the query starts: otherwise the first batch with
    data pays for it (about 5 s on 2 cores) and every record in it waits. Workers are reused
    across tasks (spark.python.worker.reuse, on by default), so the source's tasks find them warm."""
    n = max(1, spark.sparkContext.defaultParallelism)

    def load(batches):
        import importlib

        importlib.import_module(module)
        yield from batches

    spark.range(n, numPartitions=n).mapInArrow(load, "id long").collect()
