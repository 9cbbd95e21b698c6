"""The local JVM's stderr, relayed to the terminal line by line, and muted while queries stop.

Why: stopping a query interrupts the batch in flight when it does not end in time (see
`queries.stop`). On Spark 4.3 an interrupted `foreachBatch` comes back to the JVM as a Py4JException
whose message is the whole Python/Java traceback; Spark's check "was this the stop?" regex-matches
that message and overflows the stack (as `queries.stop` describes it; the tests check the outcome,
no Java line on stderr, not this mechanism), and the stream thread dies printing a `StackOverflowError`
with ~1,000 frames straight to the JVM's stderr (not through log4j, so no log level hides it). The
query has stopped as asked and the checkpoint holds what was committed; only the noise is wrong.

So in local mode streamlab starts the JVM itself (`launch`, the same `spark-submit` pyspark would
run) with its stderr on a pipe, and a thread copies each line to our stderr unless a stop is under
way (`while_stopping`). A failure that is not the stop itself still reaches the user: a failed
query is reported from `StreamingQuery.exception()` in one line (`failures.raise_failure`), so the
JVM's own report of it (a log4j ERROR line and its stack trace) is hidden too unless
`--traceback`; everything else the JVM prints outside a stop is shown as before. Under
spark-submit (YARN/EMR) the JVM is the parent process and its output is left alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

_muted = threading.Event()
_last_line = [0.0]  # monotonic time the relay last read a line


def launch(conf: dict, master: str, app_name: str):
    """Start the JVM gateway for the session about to be built, stderr through the relay (no-op
    when a JVM already runs in this process: its output goes where it went). Returns the JVM's
    process (None when one already ran)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:  # noqa: SLF001
        return None
    spark_conf = SparkConf().setAll(list(conf.items())).setMaster(master).setAppName(app_name)
    gateway = launch_gateway(spark_conf, popen_kwargs={"stderr": subprocess.PIPE})
    SparkContext._ensure_initialized(gateway=gateway)  # noqa: SLF001  the builder then uses this JVM
    threading.Thread(target=_relay, args=(gateway.proc.stderr,), name="streamlab-jvm-stderr", daemon=True).start()
    return gateway.proc


#: a Java error report starts with a log4j ERROR line or an uncaught exception ...
_BLOCK_START = re.compile(rb"^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d ERROR |Exception in thread )")
#: ... and goes on with the exception, its frames and causes
_BLOCK_LINE = re.compile(rb"^(\s+at |\s+\.\.\. \d+ (more|elided)|Caused by: |Suppressed: |\s*[\w.$]+(Exception|Error)(: |$))")


def _verbose() -> bool:
    """--traceback / STREAMLAB_TRACEBACK: show the JVM's error reports too."""
    return "--traceback" in sys.argv or os.environ.get("STREAMLAB_TRACEBACK", "") not in ("", "0")


def _relay(pipe) -> None:
    """Copy the JVM's stderr to ours, line by line. Hidden: everything while a stop is under way,
    and Java error reports (a log4j ERROR line with its stack trace) unless --traceback: a failed
    query is reported once, in one line, by `failures.raise_failure`."""
    verbose, in_block = _verbose(), False
    for line in iter(pipe.readline, b""):
        _last_line[0] = time.monotonic()
        in_block = not verbose and (bool(_BLOCK_START.match(line)) or (in_block and bool(_BLOCK_LINE.match(line))))
        if _muted.is_set() or in_block:
            continue
        try:
            os.write(2, line)
        except OSError:  # our stderr is gone: keep draining so the JVM never blocks on a full pipe
            pass


@contextmanager
def while_stopping(settle: float = 0.5, longest: float = 5.0):
    """Hide the JVM's stderr while the queries stop, and until it has been quiet for `settle`
    seconds afterwards (what the dying stream thread printed may still be in the pipe)."""
    _muted.set()
    try:
        yield
    finally:
        end = time.monotonic() + longest
        while time.monotonic() < end and time.monotonic() - _last_line[0] < settle:
            time.sleep(0.1)
        _muted.clear()

