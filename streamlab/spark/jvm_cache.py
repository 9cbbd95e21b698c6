"""A class-data-sharing (CDS) archive of the classes Spark loads, so streamlab's local JVM starts faster.

A local-mode Spark JVM loads some 15,000 classes before the first batch; on this 2-core machine
that is most of its start-up. Java 13+ can dump the classes a run loaded into an archive at exit
(`-XX:ArchiveClassesAtExit`) and map them from it on later starts (`-XX:SharedArchiveFile`): the
SparkSession came up in 3.9 s against 7.6-8 s without it, the capture's parse/write/windows run
took 13 s against 21-22 s (benchmarks/time_to_result.py measures the whole consume).

The archive lives in the user's cache (`$XDG_CACHE_HOME/streamlab/`, else `~/.cache/streamlab/`,
about 180 MB), one per Java + Spark installation (its name hashes the java binary, the Spark jars
and their times; the JVM also refuses an archive whose class path differs, silently here). The
first run makes it: its JVM writes `<archive>.<pid>.tmp` when it exits, and streamlab waits for
that exit and renames the file into place only when the JVM ended normally (a half-written archive
would crash the next JVM). That first run starts a few seconds slower and its exit takes 10-20 s
longer (it says so); while one run is writing, others start without an archive. `make install`
makes it beforehand (`python -m streamlab.spark.jvm_cache`: a small available-now consume of the
shipped Binance capture from local files), so the README's two commands never pay for it. Only streamlab's own local JVM uses it (not spark-submit,
not STREAMLAB_SPARK_JAVA_OPTIONS, which replaces every option). STREAMLAB_JVM_CACHE=0 turns it off.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import sys
import time
from pathlib import Path
from typing import Optional

#: a .tmp younger than this is another run's archive still being written: start without one
WRITING_S = 600.0
#: how long an exiting run waits for its JVM to write the archive
DUMP_WAIT_S = 120.0
#: archives kept (several Spark installations may share the cache: a venv per Spark version)
KEEP = 3
QUIET = "-Xlog:cds*=off"  # no warning when an archive cannot be used (the JVM then loads as usual)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "streamlab"


def java_major(java: str) -> Optional[int]:
    """The major version of the JDK `java` belongs to, from its `release` file (no JVM started)."""
    try:
        text = (Path(os.path.realpath(java)).parent.parent / "release").read_text()
    except OSError:
        return None
    m = re.search(r'^JAVA_VERSION="(1\.)?(\d+)', text, re.M)
    return int(m.group(2)) if m else None


def archive_path(java: str, spark_home: str) -> Path:
    """The archive for this java binary and this Spark's jars."""
    h = hashlib.sha256()
    real = os.path.realpath(java)
    h.update(f"{real}:{os.stat(real).st_mtime_ns}".encode())
    jars = Path(spark_home) / "jars"
    for jar in sorted(jars.glob("*.jar")) if jars.is_dir() else []:
        h.update(f"{jar.name}:{jar.stat().st_mtime_ns}".encode())
    return cache_dir() / f"spark-cds-{h.hexdigest()[:16]}.jsa"


def options(java: str, spark_home: str) -> tuple[str, Optional[Path]]:
    """(Java options to add, the .tmp this run's JVM will write or None). Never raises: without an
    archive the JVM starts as it would anyway."""
    if os.environ.get("STREAMLAB_JVM_CACHE", "1") in ("0", "off", "false", "no"):
        return "", None
    try:
        major = java_major(java)
        if major is None or major < 13:
            return "", None
        final = archive_path(java, spark_home)
        if final.is_file():
            return f"-XX:SharedArchiveFile={final} {QUIET}", None
        final.parent.mkdir(parents=True, exist_ok=True)
        now = time.time()
        for tmp in final.parent.glob(f"{final.name}.*.tmp"):
            if now - tmp.stat().st_mtime < WRITING_S:
                return "", None  # another run is writing it
            tmp.unlink(missing_ok=True)  # left by a run that was killed while writing
        tmp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
        tmp.touch()  # claims the writing (see above) until the JVM replaces it at exit
        return f"-XX:ArchiveClassesAtExit={tmp} {QUIET}", tmp
    except OSError:
        return "", None


def finish_at_exit(proc, tmp: Path) -> None:
    """When Python exits: end the JVM (its stdin closes, as pyspark's gateway expects), wait for it
    to write `tmp`, and put the archive in place if it exited normally; else drop `tmp`."""

    def finish() -> None:
        try:
            if proc.poll() is None:
                print("streamlab: saving Spark's classes for faster starts (once per Spark installation, a few seconds)",
                      file=sys.stderr, flush=True)
            _stop_spark(proc)  # its accumulator server would print an EOFError when the JVM goes
            if proc.stdin is not None:
                proc.stdin.close()
            rc = proc.wait(timeout=DUMP_WAIT_S)
        except Exception:  # noqa: BLE001 - never fail an exit over a cache
            rc = None
        final = tmp.with_name(tmp.name.rsplit(".", 2)[0])
        try:
            if rc == 0 and tmp.is_file() and tmp.stat().st_size > 0:
                os.replace(tmp, final)
                _prune(final)
            else:
                tmp.unlink(missing_ok=True)
        except OSError:
            pass

    atexit.register(finish)


def _stop_spark(proc) -> None:
    """Stop this process's SparkContext when it runs on `proc`, the JVM about to exit."""
    from pyspark import SparkContext

    try:
        gateway = SparkContext._gateway  # noqa: SLF001
        if gateway is None or getattr(gateway, "proc", None) is not proc:
            return
        if SparkContext._active_spark_context is not None:  # noqa: SLF001
            SparkContext._active_spark_context.stop()  # noqa: SLF001
        server = SparkContext._accumulatorServer  # noqa: SLF001
        if server is not None:
            server.shutdown()
            SparkContext._accumulatorServer = None  # noqa: SLF001
    except Exception:  # noqa: BLE001
        pass


def _prune(keep: Path) -> None:
    archives = sorted(keep.parent.glob("spark-cds-*.jsa"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in archives[KEEP:]:
        if old != keep:
            old.unlink(missing_ok=True)


def main() -> int:
    """Make the archive now: a small available-now consume of the shipped capture (local files,
    trades to Parquet with windows), whose JVM writes the archive when this process exits."""
    import gzip
    import json
    import tempfile

    from streamlab.errors import StreamlabError
    from streamlab.settings import load_settings
    from streamlab.spark.job import run_consume
    from streamlab.spark.request import ConsumeRequest
    from streamlab.spark.session import find_java, get_session, require_spark
    from pyspark.find_spark_home import _find_spark_home

    try:
        require_spark()
        final = archive_path(find_java(), _find_spark_home())
    except StreamlabError as exc:
        print(f"streamlab.spark.jvm_cache: no archive made: {exc.message}", file=sys.stderr)
        return 0
    if final.is_file():
        print(f"streamlab.spark.jvm_cache: {final} is there")
        return 0
    capture = Path(__file__).resolve().parents[2] / "examples" / "captures" / "binance.jsonl.gz"
    with tempfile.TemporaryDirectory(prefix="streamlab-jvm-cache-") as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        if capture.is_file():
            with gzip.open(capture, "rt") as fh:
                frames = [json.loads(line).get("frame") for line in fh]
            (src / "trades.jsonl").write_text("\n".join(f for f in frames if f) + "\n")
        spark = get_session("streamlab jvm cache")
        request = ConsumeRequest(load_settings(), source="files", input_path=str(src), file_format="json", dataset="trades",
                                 sink=["parquet"], path=str(Path(tmp) / "out"), trigger="available-now", quiet=True)
        run_consume(request, spark=spark)
    print(f"streamlab.spark.jvm_cache: writing {final} as this process exits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
