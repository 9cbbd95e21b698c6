"""The streaming queries of a consume run, and how they are waited on and stopped.

`records_query`: the source, read once: parse, count, quarantine, relay (windowed datasets, see
`relay`), hand the good rows to every writer. `windows_query`: one per output mode the writers
need, over the relay. `wait` blocks until the queries end, a deadline passes, a condition holds, a
query fails, or Ctrl-C/SIGTERM (SIGTERM is turned into Ctrl-C for the wait, main thread only).
`stop` stops between batches when it can; `stop_all` stops them all with the JVM's stderr muted.
Either way the checkpoint keeps exactly what was committed: a run with the same checkpoint
continues there.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable, Optional, Sequence

from streamlab.spark.datasets.base import SKIPPED
from streamlab.spark.relay import relay_batch
from streamlab.spark.writers import WriteContext, write_quarantine

#: how long a stop waits for the batch in flight to finish before interrupting it
STOP_GRACE_SECONDS = 15.0


def records_query(spark, raw, writers, ctx: WriteContext, checkpoint: str, trigger: Optional[str],
                  relay: Optional[str] = None, relay_folders: Optional[Sequence[str]] = None):
    from pyspark.sql import functions as F

    dataset = ctx.dataset

    def on_batch(batch, batch_id: int) -> None:
        parsed = dataset.parse(batch).cache()
        try:
            records = F.sum("_records") if "_records" in parsed.columns else F.count(F.lit(1))  # rows per record
            skipped = F.count(F.when(F.col("_error").startswith(SKIPPED), 1))
            row = parsed.agg(F.count(F.lit(1)).alias("n"), F.count("_error").alias("errors"), skipped.alias("skipped"),
                             records.alias("records")).first()
            n, skip = int(row["n"]), int(row["skipped"])
            bad = int(row["errors"]) - skip
            if bad:
                write_quarantine(ctx, dataset.quarantine(parsed), batch_id, bad)
            if n - bad - skip:
                good = dataset.good(parsed)
                if relay:
                    relay_batch(spark, good, relay, batch_id, relay_folders)
                for w in writers:
                    w.on_records(good, batch_id)
            ctx.stats.add(batches=1, input_rows=int(row["records"] or 0), trades=n - bad - skip, quarantined=bad, skipped=skip)
        finally:
            parsed.unpersist()

    return start(raw.writeStream.foreachBatch(on_batch), f"{checkpoint}/records", trigger, "streamlab-records")


def windows_query(windows, writers, mode: str, checkpoint: str, trigger: Optional[str]):
    def on_batch(batch, batch_id: int) -> None:
        # Evaluate the aggregate once, on the driver (a batch's windows are few), and hand the
        # writers a static copy: caching a stateful aggregate over the file source fails on
        # Spark 4.3 ("key not found: symbol#N"), and evaluating it twice would run it twice.
        rows = batch.collect()
        static = batch.sparkSession.createDataFrame(rows, batch.schema)
        for w in writers:
            w.on_windows(static, batch_id)

    writer = windows.writeStream.outputMode(mode).foreachBatch(on_batch)
    return start(writer, windows_checkpoint(checkpoint, mode), trigger, f"streamlab-windows-{mode}")


def windows_checkpoint(checkpoint: str, mode: str) -> str:
    """The windows query's own checkpoint folder, under the run's."""
    return f"{checkpoint}/windows-{mode}"


def start(writer, checkpoint: str, trigger: Optional[str], name: str):
    """Start a query; trigger None is available-now (read what is there, then end)."""
    writer = writer.option("checkpointLocation", checkpoint).queryName(name)
    writer = writer.trigger(availableNow=True) if trigger is None else writer.trigger(processingTime=trigger)
    return writer.start()


def wait(queries, deadline: Optional[float], until: Optional[Callable[[], bool]] = None) -> str:
    """Block until all queries end, the deadline (monotonic) passes, `until()` is true, a query
    fails, or Ctrl-C/SIGTERM. Returns why: the summary's `reason`."""
    restore = sigterm_as_interrupt()
    try:
        while True:
            if any(q.exception() is not None for q in queries if not q.isActive):
                return "failed"
            if all(not q.isActive for q in queries):
                return "available-now done"
            if deadline is not None and time.monotonic() >= deadline:
                return "timeout"
            if until is not None and until():
                return "everything read"
            try:
                queries[0].awaitTermination(0.25)
            except Exception:  # it failed meanwhile: the next round reports it
                pass
    except KeyboardInterrupt:
        return "interrupted"
    finally:
        restore()


def sigterm_as_interrupt():
    """SIGTERM stops the queries like Ctrl-C does (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


def stop_all(queries, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop every query (see `stop`) with the JVM's stderr muted meanwhile (see `jvm_output`): an
    interrupted batch must not print a Java stack trace. A query that failed for another reason
    still says so, through `StreamingQuery.exception()` (`failures.raise_failure`)."""
    from streamlab.spark.jvm_output import while_stopping

    with while_stopping():
        for q in queries:
            stop(q, grace)


def stop(query, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop between batches when possible: interrupting a batch makes Spark 4.3 print a long
    StackOverflowError (it regex-matches the huge interruption message) and wastes the batch's work.
    Either way the checkpoint keeps exactly what was committed."""
    try:
        deadline = time.monotonic() + grace
        while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
            time.sleep(0.1)
        if query.isActive:
            # still in a batch after the grace: the stop interrupts it (see `jvm_output`), and an
            # error that says so is the stop itself, not a failure (`failures.raise_failure`)
            query.stopped_mid_batch = bool(query.status.get("isTriggerActive"))
            query.stop()
    except Exception:  # stopping is best effort
        pass
