"""One consume run: reader -> transform -> writers, as Spark Structured Streaming queries.

`run_consume` is the Python API (the `consume` command and the demo call it). It checks what it can
before the JVM starts (flags, the source exists, Java and pyspark are there), starts the queries,
waits until they end (`available-now`), the `timeout` passes or Ctrl-C/SIGTERM, stops them, and
returns a `ConsumeSummary`.

The source is read once, by the *records* query (parse, quarantine, write the good rows). For a
windowed dataset the records query also relays each batch's good rows as Parquet under
`<checkpoint>/relay`, and the *windows* queries (one per output mode, see `writers`) aggregate
that relay with Spark's file source, which deletes each relayed file once its query committed it.
With two windows queries (console and parquet together) each gets its own copy (`relay/_update`,
`relay/_append`): two readers cannot share one deleter. So a socket is connected once, a Python
reader reads each record once, the relay does not grow, and a replayed batch is relayed at most
once (see `_relay`). With `available-now` the windows queries start when the records query has
finished.

Checkpoints live under `--checkpoint` (default `<path>/_checkpoint` with a path, else a temporary
folder removed afterwards): one sub-folder per query (`records`, `windows-update`, `windows-append`)
plus `relay`.
A run with the same checkpoint continues where the last one committed: no duplicates, no gaps.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Optional, Sequence, Union

from streamlab import console
from streamlab.errors import ConfigError, StreamlabError
from streamlab.settings import Settings
from streamlab.spark.readers import READERS, ReadRequest, explain_failure
from streamlab.spark.transforms import TRANSFORMS
from streamlab.spark.writers import (
    S3_SCHEMES,
    WRITERS,
    Stats,
    WriteContext,
    check_bucket,
    check_path,
    choose_output,
    is_remote,
    scheme_of,
    write_quarantine,
)

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
    reason: str  # "available-now done", "timeout", "everything read" (stop_when), "interrupted", "failed"
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


_UNITS = {"ms": "milliseconds", "s": "seconds", "sec": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days"}


def interval(text: Optional[str]) -> Optional[str]:
    """'1m' -> '1 minutes', '10s' -> '10 seconds' (Spark's form); '1 minute' passes unchanged."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(ms|s|sec|m|min|h|d)\s*", text.lower())
    return f"{m.group(1)} {_UNITS[m.group(2)]}" if m else text


#: the windows query runs at most this often. On 2 cores a windows batch every second competes with
#: the records query and doubles its batch time; windows wait for a watermark (30 s by default) to
#: close anyway, so a few seconds more between refreshes costs them little.
WINDOWS_MIN_INTERVAL_MS = 5_000


def windows_trigger(trigger: Optional[str]) -> Optional[str]:
    """The windows query's trigger: the records query's, but no more often than WINDOWS_MIN_INTERVAL_MS."""
    if trigger is None:
        return None
    ms = int(trigger.split()[0])
    return f"{max(ms, WINDOWS_MIN_INTERVAL_MS)} milliseconds"


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
    slide: Optional[str] = None,
    max_records_per_batch: Optional[int] = None,
    topic: Optional[str] = None,
    bootstrap: Optional[str] = None,
    starting_offsets: Optional[str] = None,
    max_offsets_per_trigger: Optional[int] = None,
    packages: bool = False,
    security_protocol: Optional[str] = None,
    sasl_mechanism: Optional[str] = None,
    ca_file: Optional[str] = None,
    host: str = "127.0.0.1",
    port: Optional[int] = None,
    input_path: Optional[str] = None,
    file_format: str = "text",
    date_column: str = "review_date",
    top: int = 10,
    partition_by: Sequence[str] = (),
    name: Optional[str] = None,
    quiet: bool = False,
    spark=None,
    out=None,
    stop_when: Optional[Callable[[Stats], bool]] = None,
) -> ConsumeSummary:
    """Run the consumer until available-now finishes, `timeout` seconds pass, `stop_when(stats)` says
    so (checked between polls; the demo stops once everything produced was read), or Ctrl-C/SIGTERM."""
    # --- everything that can be checked before the JVM starts -----------------------------------
    if source not in READERS:
        raise ConfigError(f"unknown source {source!r}", f"choose one of: {', '.join(sorted(READERS))}")
    if dataset not in TRANSFORMS:
        raise ConfigError(f"unknown dataset {dataset!r}", f"choose one of: {', '.join(sorted(TRANSFORMS))}")
    if starting_position not in STARTING_POSITIONS:
        raise ConfigError(f"unknown starting position {starting_position!r}", "use trim-horizon or latest")
    sinks = _as_list(sink)
    spark_trigger = parse_trigger(trigger)
    if source == "socket" and spark_trigger is None:
        raise ConfigError("the socket source has no backlog to read available-now", "use an interval, e.g. --trigger 2s (with --timeout to stop)")
    writes_files = any(WRITERS[s].writes_files for s in sinks)
    if source == "files" and input_path is None and not writes_files:
        input_path, path = path, None  # `--source files --path DIR --sink console`: --path is the input
    if date_column not in ("review_date", "purchase_date"):
        raise ConfigError(f"--date-column {date_column!r} is not supported", "use review_date or purchase_date")
    file_sink = next((s for s in sinks if WRITERS[s].writes_files), sinks[0])
    out_path = check_path(path, writes_files, file_sink)
    if out_path and not writes_files:
        out_path = None  # console/memory only: --path has nothing to write
    if is_remote(out_path) and checkpoint is None:
        raise ConfigError(
            f"--path {out_path} is not a local folder: give the checkpoint folder too",
            "add --checkpoint DIR (e.g. --checkpoint /tmp/kafka-checkpoint); reuse it to continue where a run stopped",
        )
    request = ReadRequest(
        stream=stream, starting_position=starting_position, max_records_per_batch=max_records_per_batch, reader=reader,
        topic=topic, bootstrap=bootstrap, starting_offsets=starting_offsets, max_offsets_per_trigger=max_offsets_per_trigger,
        packages=packages, security_protocol=security_protocol, sasl_mechanism=sasl_mechanism, ca_file=ca_file,
        host=host, port=port, input_path=input_path, file_format=file_format,
    )
    from streamlab.spark.session import get_session, require_spark, warm_python_workers

    if spark is None:
        require_spark()  # Java and pyspark, before anything slow
    read, check = READERS[source]
    check(settings, request)
    if out_path and scheme_of(out_path) in S3_SCHEMES:
        check_bucket(settings, out_path)
    transform = dataset_ops(dataset, date_column=date_column)
    windowed = getattr(transform, "WINDOWED", False)
    window = interval(window) or transform.DEFAULT_WINDOW
    watermark = interval(watermark) or transform.DEFAULT_WATERMARK
    slide = interval(slide)

    temp_checkpoint = None
    if checkpoint is None:
        if out_path:
            checkpoint = f"{out_path}/_checkpoint"
        else:
            checkpoint = temp_checkpoint = tempfile.mkdtemp(prefix="streamlab-checkpoint-")

    if spark is None:
        extra = {}
        if source == "kafka" and packages:
            extra["spark.jars.packages"] = kafka_package()
        if not quiet:
            console.info("starting Spark (local mode takes a few seconds)...")
        spark = get_session(f"streamlab consume {source} {stream or topic or ''}".strip(), extra_conf=extra)
    stats = Stats()
    ctx = WriteContext(transform=transform, stats=stats, path=out_path, quiet=quiet, partition_by=tuple(partition_by or ()),
                       top=top, name=name, spark=spark)
    if out_path:
        ctx.output = choose_output(spark, settings, out_path, file_sink)
    writers = [WRITERS[s](ctx, out=out) if s == "console" and out is not None else WRITERS[s](ctx) for s in sinks]
    src = read(spark, settings, request)
    if src.python_module:
        warm_python_workers(spark, src.python_module)
    if not quiet:
        console.info(f"reading with {src.description}")
        if ctx.output is not None:
            console.info(f"writing with {ctx.output.describe()}")

    good_stream = transform.good(transform.parse(src.df))
    relay = f"{checkpoint.rstrip('/')}/relay" if windowed else None
    modes = list(dict.fromkeys(w.windows_mode for w in writers)) if windowed else []
    # one windows query: the relay itself (as before); two: a folder each, hidden from the first
    relay_dirs = {m: relay if len(modes) == 1 else f"{relay}/_{m}" for m in modes}
    windows_streams = {
        m: transform.windows(_relay_stream(spark, d, good_stream.schema), window=window, watermark=watermark, slide=slide)
        for m, d in relay_dirs.items()
    }
    windows_schema = next(iter(windows_streams.values())).schema if windows_streams else None
    for w in writers:
        w.prepare(spark, good_stream.schema, windows_schema)

    queries = []
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    until = None if stop_when is None else (lambda: stop_when(stats))

    def start_windows() -> None:
        for mode in modes:
            mine = [w for w in writers if w.windows_mode == mode]
            queries.append(_windows_query(windows_streams[mode], mine, mode, checkpoint, windows_trigger(spark_trigger)))

    try:
        queries.append(_records_query(spark, src.df, transform, writers, ctx, checkpoint, spark_trigger, relay,
                                      list(relay_dirs.values())))
        if windowed and spark_trigger is not None:
            start_windows()
        if not quiet:
            what = ", ".join(w.describe() for w in writers)
            when = "until the backlog is read" if spark_trigger is None else f"every {trigger}"
            console.info(f"waiting for data ({what}; batches {when}; Ctrl-C stops)")
        reason = _wait(queries, deadline, until)
        if windowed and spark_trigger is None and reason == "available-now done":
            # available-now: the windows read what the records query relayed, once it is all there
            start_windows()
            reason = _wait(queries, deadline, until)
    finally:
        for q in queries:
            _stop(q)
        if temp_checkpoint:
            shutil.rmtree(temp_checkpoint, ignore_errors=True)
    _raise_failure(queries, lambda text: explain_failure(source, request, text))
    outputs = {}
    if ctx.output is not None:
        outputs = {transform.RECORDS_DIR or "records": ctx.output.url(transform.RECORDS_DIR), "_quarantine": ctx.output.url("_quarantine")}
        if windowed and any(w.windows_mode == "append" for w in writers):
            outputs["windows"] = ctx.output.url("windows")
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
        for label, where in outputs.items():
            if label != "_quarantine" or summary.quarantined:
                console.info(f"  {label}: {where}")
    return summary


def dataset_ops(dataset: str, *, date_column: str = "review_date"):
    """The dataset's transform module, with its options bound (reviews' --date-column)."""
    from streamlab.spark import transforms

    module = transforms.get(dataset)
    if dataset != "reviews" or date_column == "review_date":
        return module
    ops = SimpleNamespace(**{k: getattr(module, k) for k in dir(module) if not k.startswith("__")})
    ops.parse = functools.partial(module.parse, date_column=date_column)
    return ops


def kafka_package() -> str:
    """spark.jars.packages for --packages: the connector matching the installed Spark/Scala."""
    from streamlab.spark import compat

    return compat.kafka_packages()


def _relay_stream(spark, folder: str, schema):
    """A windows query's input: the good rows the records query relayed as Parquet into `folder`
    (see `_relay`), read with Spark's file source, which deletes each file once the query has
    committed it. One reader per folder: two readers cannot share one deleter."""
    _mkdirs(spark, folder)
    reader = spark.readStream.schema(schema).option("recursiveFileLookup", "true").option("cleanSource", "delete")
    return reader.parquet(folder)


def _hadoop_path(spark, path: str):
    jvm = spark._jvm  # noqa: SLF001
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p, p.getFileSystem(spark._jsc.hadoopConfiguration())  # noqa: SLF001


def _mkdirs(spark, path: str) -> None:
    p, fs = _hadoop_path(spark, path)
    fs.mkdirs(p)


def _relay(spark, good, relay: str, batch_id: int, folders: Optional[Sequence[str]] = None) -> None:
    """Hand a batch's good rows to the windows queries (`folders`, one per query; default the relay
    itself), exactly once per batch id.

    A marker `<relay>/_written/<id>` (hidden from the file source) is made after the rows are in
    every folder; a batch replayed after a crash whose rows were already relayed (and maybe already
    consumed and deleted by a windows query) is not relayed again. A crash before the marker
    rewrites the same paths, which a windows query that read them has seen: no row counts twice.
    Markers older than the previous batch are removed.
    """
    marker, fs = _hadoop_path(spark, f"{relay}/_written/{batch_id}")
    if fs.exists(marker):
        return
    folders = list(folders or [relay])
    if is_remote(relay) or not hasattr(good, "toArrow"):  # toArrow: Spark >= 4.0
        for folder in folders:
            _write_spark_parquet(spark, good, folder, batch_id)
    else:  # a local checkpoint: one pyarrow file, cheaper than a Spark write job with its commit protocol
        table = good.toArrow()
        for folder in folders:
            _write_local_parquet(table, folder.removeprefix("file://"), batch_id)
    fs.create(marker, True).close()
    # Only the last batch can be replayed (Spark commits a batch before it starts the next): older
    # markers are not needed, so the relay stays a few files however long the query runs.
    old, _ = _hadoop_path(spark, f"{relay}/_written/{batch_id - 2}")
    fs.delete(old, False)


def _write_spark_parquet(spark, good, relay: str, batch_id: int) -> None:
    """`<relay>/batch_id=<id>/part-0.parquet` through Spark's writer (any Hadoop file system):
    written into a hidden `_staging` folder, then its one part file renamed into place. A batch
    replayed after a crash before its marker thus lands on the same path, which the windows query's
    file source has already seen (a fresh Spark write would add a new part name: counted twice)."""
    staging = f"{relay}/_staging/{batch_id}"
    good.coalesce(1).write.mode("overwrite").parquet(staging)
    src, fs = _hadoop_path(spark, staging)
    folder, _ = _hadoop_path(spark, f"{relay}/batch_id={batch_id}")
    final = spark._jvm.org.apache.hadoop.fs.Path(folder, "part-0.parquet")  # noqa: SLF001
    parts = [st.getPath() for st in fs.listStatus(src) if st.getPath().getName().startswith("part-")]
    fs.mkdirs(folder)
    if fs.exists(final):
        fs.delete(final, False)
    for i, part in enumerate(parts):  # one, after coalesce(1)
        fs.rename(part, final if i == 0 else spark._jvm.org.apache.hadoop.fs.Path(folder, f"part-{i}.parquet"))  # noqa: SLF001
    fs.delete(src, True)


def _write_local_parquet(table, relay: str, batch_id: int) -> None:
    """`<relay>/batch_id=<id>/part-0.parquet`, written under a hidden name and renamed into place, so
    the windows query's file source never sees half a file (it skips names starting with `_`)."""
    import pyarrow.parquet as pq

    folder = os.path.join(relay, f"batch_id={batch_id}")
    os.makedirs(folder, exist_ok=True)
    final, temp = os.path.join(folder, "part-0.parquet"), os.path.join(folder, "_part-0.parquet.tmp")
    pq.write_table(table, temp)
    os.replace(temp, final)


def _records_query(spark, raw, transform, writers, ctx: WriteContext, checkpoint: str, trigger, relay: Optional[str] = None,
                   relay_folders: Optional[list[str]] = None):
    from pyspark.sql import functions as F

    def on_batch(batch, batch_id: int) -> None:
        parsed = transform.parse(batch).cache()
        try:
            row = parsed.agg(F.count(F.lit(1)).alias("n"), F.count("_error").alias("bad")).first()
            n, bad = int(row["n"]), int(row["bad"])
            if bad:
                write_quarantine(ctx, transform.quarantine(parsed), batch_id, bad)
            if n - bad:
                good = transform.good(parsed)
                if relay:
                    _relay(spark, good, relay, batch_id, relay_folders)
                for w in writers:
                    w.on_records(good, batch_id)
            ctx.stats.add(batches=1, input_rows=n, trades=n - bad, quarantined=bad)
        finally:
            parsed.unpersist()

    return _start(raw.writeStream.foreachBatch(on_batch), f"{checkpoint}/records", trigger, "streamlab-records")


def _windows_query(windows, writers, mode: str, checkpoint: str, trigger):
    def on_batch(batch, batch_id: int) -> None:
        # Evaluate the aggregate once, on the driver (a batch's windows are few), and hand the
        # writers a static copy: caching a stateful aggregate over the file source fails on
        # Spark 4.3 ("key not found: symbol#N"), and evaluating it twice would run it twice.
        rows = batch.collect()
        static = batch.sparkSession.createDataFrame(rows, batch.schema)
        for w in writers:
            w.on_windows(static, batch_id)

    writer = windows.writeStream.outputMode(mode).foreachBatch(on_batch)
    return _start(writer, f"{checkpoint}/windows-{mode}", trigger, f"streamlab-windows-{mode}")


def _start(writer, checkpoint: str, trigger, name: str):
    writer = writer.option("checkpointLocation", checkpoint).queryName(name)
    writer = writer.trigger(availableNow=True) if trigger is None else writer.trigger(processingTime=trigger)
    return writer.start()


def _wait(queries, deadline: Optional[float], until: Optional[Callable[[], bool]] = None) -> str:
    """Block until all queries end, the deadline (monotonic) passes, `until()` is true, a query
    fails, or Ctrl-C/SIGTERM."""
    restore = _sigterm_as_interrupt()
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


def _raise_failure(queries, explain=None) -> None:
    for q in queries:
        exc = q.exception()
        if exc is not None:
            better = explain(str(getattr(exc, "desc", None) or exc)) if explain else None
            if better is not None:
                raise better
            raise StreamlabError(f"the Spark query {q.name} failed: {_first_line(exc)}", "rerun with --traceback for Spark's details")


def _first_line(exc) -> str:
    # Python errors from foreachBatch or the source arrive wrapped in JVM text; pick the
    # last "SomethingError: ..." line, which is the one that says what went wrong.
    text = str(getattr(exc, "desc", None) or exc)
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    useful = [l for l in lines if re.match(r"^[A-Za-z_.]+(Error|Exception)\b", l)]
    return (useful[-1] if useful else lines[0] if lines else type(exc).__name__)[:300]
