"""One consume run: reader -> transform -> writers, as Spark Structured Streaming queries.

`run_consume` is the Python API (the `consume` command and the demo call it). It checks what it can
before the JVM starts (flags, the stream exists, Java and pyspark are there), starts the queries
(see `writers` for why there are two or three), waits until they end (`available-now`), the
`timeout` passes or Ctrl-C/SIGTERM, stops them, and returns a `ConsumeSummary`.

Checkpoints live under `--checkpoint` (default `<path>/_checkpoint` with a path, else a temporary
folder removed afterwards): one sub-folder per query (`records`, `windows-update`, `windows-append`).
A run with the same checkpoint continues where the last one committed: no duplicates, no gaps.
"""

from __future__ import annotations

import re
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

from streamlab import console
from streamlab.errors import ConfigError, StreamlabError
from streamlab.settings import Settings
from streamlab.spark.readers import READERS, ReadRequest
from streamlab.spark.transforms import TRANSFORMS
from streamlab.spark.writers import WRITERS, Stats, WriteContext, check_path, write_quarantine

AVAILABLE_NOW = "available-now"
STARTING_POSITIONS = ("trim-horizon", "latest")


@dataclass
class ConsumeSummary:
    batches: int
    input_rows: int
    trades: int
    quarantined: int
    windows_written: int
    windows_updated: int
    elapsed: float
    reason: str  # "available-now done", "timeout", "interrupted"
    reader: str
    outputs: dict = field(default_factory=dict)

    def line(self) -> str:
        parts = [
            f"{self.batches:,} batches",
            f"{self.input_rows:,} records read",
            f"{self.trades:,} parsed",
            f"{self.quarantined:,} quarantined",
        ]
        if "windows" in self.outputs:
            parts.append(f"{self.windows_written:,} closed windows written")
        if self.windows_updated:
            parts.append(f"{self.windows_updated:,} window updates shown")
        return f"done ({self.reason}) in {self.elapsed:.1f}s: " + ", ".join(parts)


def parse_trigger(text: str) -> Optional[str]:
    """'available-now' -> None; '5s', '500ms', '2 seconds', '1m' -> Spark's interval text."""
    t = (text or "").strip().lower()
    if t in (AVAILABLE_NOW, "availablenow", "available_now"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?)", t)
    if not m:
        raise ConfigError(f"--trigger {text!r} is not understood", "use available-now or an interval like 5s, 500ms, 1m")
    n, unit = float(m.group(1)), m.group(2)
    ms = n if unit.startswith("ms") or unit.startswith("milli") else n * 60_000 if unit.startswith("m") else n * 1000
    return f"{int(ms)} milliseconds"


def _as_list(sink: Union[str, Sequence[str]]) -> list[str]:
    names = [sink] if isinstance(sink, str) else list(sink)
    names = list(dict.fromkeys(n for n in names if n))
    for n in names:
        if n not in WRITERS:
            raise ConfigError(f"unknown sink {n!r}", f"choose one of: {', '.join(sorted(WRITERS))}")
    return names or ["console"]


def run_consume(
    settings: Settings,
    *,
    source: str = "kinesis",
    stream: Optional[str] = None,
    dataset: str = "ticker",
    sink: Union[str, Sequence[str]] = "console",
    path: Optional[str] = None,
    checkpoint: Optional[str] = None,
    trigger: str = "5s",
    starting_position: str = "trim-horizon",
    timeout: Optional[float] = None,
    reader: str = "auto",
    window: Optional[str] = None,
    watermark: Optional[str] = None,
    max_records_per_batch: Optional[int] = None,
    quiet: bool = False,
    spark=None,
    out=None,
) -> ConsumeSummary:
    """Run the consumer until available-now finishes, `timeout` seconds pass, or Ctrl-C/SIGTERM."""
    # --- everything that can be checked before the JVM starts -----------------------------------
    if source not in READERS:
        raise ConfigError(f"unknown source {source!r}", f"choose one of: {', '.join(sorted(READERS))}")
    if dataset not in TRANSFORMS:
        raise ConfigError(f"unknown dataset {dataset!r}", f"choose one of: {', '.join(sorted(TRANSFORMS))}")
    if starting_position not in STARTING_POSITIONS:
        raise ConfigError(f"unknown starting position {starting_position!r}", "use trim-horizon or latest")
    sinks = _as_list(sink)
    spark_trigger = parse_trigger(trigger)
    local_path = check_path(path, any(WRITERS[s].needs_path for s in sinks), sinks[0])
    request = ReadRequest(stream=stream, starting_position=starting_position, max_records_per_batch=max_records_per_batch, reader=reader)
    from streamlab.spark.session import get_session, require_spark

    if spark is None:
        require_spark()  # Java and pyspark, before anything slow
    read, check = READERS[source]
    check(settings, request)
    from streamlab.spark import transforms

    transform = transforms.get(dataset)
    window = window or transform.DEFAULT_WINDOW
    watermark = watermark or transform.DEFAULT_WATERMARK

    temp_checkpoint = None
    if checkpoint is None:
        if local_path:
            checkpoint = f"{local_path}/_checkpoint"
        else:
            checkpoint = temp_checkpoint = tempfile.mkdtemp(prefix="streamlab-checkpoint-")

    if spark is None:
        if not quiet:
            console.info("starting Spark (local mode takes a few seconds)...")
        spark = get_session(f"streamlab consume {source} {stream or ''}".strip())
    stats = Stats()
    ctx = WriteContext(transform=transform, stats=stats, path=local_path, quiet=quiet)
    writers = [WRITERS[s](ctx, out=out) if s == "console" and out is not None else WRITERS[s](ctx) for s in sinks]
    src = read(spark, settings, request)
    if not quiet:
        console.info(f"reading with {src.description}")

    queries = []
    started = time.monotonic()
    try:
        queries.append(_records_query(spark, src.df, transform, writers, ctx, checkpoint, spark_trigger))
        for mode in dict.fromkeys(w.windows_mode for w in writers):
            mine = [w for w in writers if w.windows_mode == mode]
            queries.append(_windows_query(src.df, transform, mine, mode, checkpoint, spark_trigger, window, watermark))
        if not quiet:
            what = ", ".join(w.describe() for w in writers)
            when = "until the backlog is read" if spark_trigger is None else f"every {trigger}"
            console.info(f"waiting for data ({what}; batches {when}; Ctrl-C stops)")
        reason = _wait(queries, timeout)
    finally:
        for q in queries:
            _stop(q)
        if temp_checkpoint:
            shutil.rmtree(temp_checkpoint, ignore_errors=True)
    _raise_failure(queries)
    outputs = {}
    if local_path:
        outputs = {"trades": f"{local_path}/trades", "_quarantine": f"{local_path}/_quarantine"}
        if "parquet" in sinks:
            outputs["windows"] = f"{local_path}/windows"
    summary = ConsumeSummary(
        batches=stats.batches,
        input_rows=stats.input_rows,
        trades=stats.trades,
        quarantined=stats.quarantined,
        windows_written=stats.windows_written,
        windows_updated=stats.windows_updated,
        elapsed=time.monotonic() - started,
        reason=reason,
        reader=src.description,
        outputs=outputs,
    )
    if not quiet:
        console.info(summary.line())
        for name, where in outputs.items():
            if name != "_quarantine" or summary.quarantined:
                console.info(f"  {name}: {where}")
    return summary


def _records_query(spark, raw, transform, writers, ctx: WriteContext, checkpoint: str, trigger):
    from pyspark.sql import functions as F

    def on_batch(batch, batch_id: int) -> None:
        parsed = transform.parse(batch).cache()
        try:
            row = parsed.agg(F.count(F.lit(1)).alias("n"), F.count("_error").alias("bad")).first()
            n, bad = int(row["n"]), int(row["bad"])
            if bad:
                write_quarantine(ctx, transform.quarantine(parsed), batch_id, bad)
            if n - bad:
                for w in writers:
                    w.on_records(parsed, batch_id)
            ctx.stats.add(batches=1, input_rows=n, trades=n - bad, quarantined=bad)
        finally:
            parsed.unpersist()

    return _start(raw.writeStream.foreachBatch(on_batch), f"{checkpoint}/records", trigger, "streamlab-records")


def _windows_query(raw, transform, writers, mode: str, checkpoint: str, trigger, window: str, watermark: str):
    windows = transform.windows(transform.trades(transform.parse(raw)), window=window, watermark=watermark)

    def on_batch(batch, batch_id: int) -> None:
        for w in writers:
            w.on_windows(batch, batch_id)

    writer = windows.writeStream.outputMode(mode).foreachBatch(on_batch)
    return _start(writer, f"{checkpoint}/windows-{mode}", trigger, f"streamlab-windows-{mode}")


def _start(writer, checkpoint: str, trigger, name: str):
    writer = writer.option("checkpointLocation", checkpoint).queryName(name)
    writer = writer.trigger(availableNow=True) if trigger is None else writer.trigger(processingTime=trigger)
    return writer.start()


def _wait(queries, timeout: Optional[float]) -> str:
    """Block until all queries end, the timeout passes, a query fails, or Ctrl-C/SIGTERM."""
    deadline = None if timeout is None else time.monotonic() + timeout
    restore = _sigterm_as_interrupt()
    try:
        while True:
            if any(q.exception() is not None for q in queries if not q.isActive):
                return "failed"
            if all(not q.isActive for q in queries):
                return "available-now done"
            if deadline is not None and time.monotonic() >= deadline:
                return "timeout"
            queries[0].awaitTermination(0.25)
    except KeyboardInterrupt:
        return "interrupted"
    finally:
        restore()


def _sigterm_as_interrupt():
    """SIGTERM stops the queries like Ctrl-C does (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


#: how long a stop waits for the batch in flight to finish before interrupting it
STOP_GRACE_SECONDS = 15.0


def _stop(query, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop between batches when possible: interrupting a batch makes Spark 4.3 print a long
    StackOverflowError (it regex-matches the huge interruption message) and wastes the batch's work.
    Either way the checkpoint keeps exactly what was committed."""
    try:
        deadline = time.monotonic() + grace
        while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
            time.sleep(0.1)
        if query.isActive:
            query.stop()
    except Exception:  # stopping is best effort
        pass


def _raise_failure(queries) -> None:
    for q in queries:
        exc = q.exception()
        if exc is not None:
            raise StreamlabError(f"the Spark query {q.name} failed: {_first_line(exc)}", "rerun with --traceback for Spark's details")


def _first_line(exc) -> str:
    # Python errors from foreachBatch or the source arrive wrapped in JVM text; pick the
    # last "SomethingError: ..." line, which is the one that says what went wrong.
    text = str(getattr(exc, "desc", None) or exc)
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    useful = [l for l in lines if re.match(r"^[A-Za-z_.]+(Error|Exception)\b", l)]
    return (useful[-1] if useful else lines[0] if lines else type(exc).__name__)[:300]
