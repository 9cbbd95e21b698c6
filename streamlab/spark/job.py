"""One consume run: reader -> dataset -> writers, as Spark Structured Streaming queries.

`run_consume(request)` is the Python API: the `consume` command, the demo and the benchmarks build a
`ConsumeRequest` (which checks itself on construction) and call it. It checks what else it can
before the JVM starts (the source exists, the bucket, Java and pyspark), starts the queries, waits
until they end (`available-now`), the `timeout` passes, `stop_when` says so or Ctrl-C/SIGTERM,
stops them, and returns a `ConsumeSummary`.

The source is read once, by the *records* query (parse, quarantine, write the good rows). For a
windowed dataset the records query also relays each batch's good rows as Parquet under
`<checkpoint>/relay`, and the *windows* queries (one per output mode, see `writers`) aggregate
that relay with Spark's file source, which deletes each relayed file once its query committed it.
So a socket is connected once, a Python reader reads each record once, the relay does not grow,
and a replayed batch is relayed at most once (see `relay`). With `available-now` the windows
queries start when the records query has finished.

Checkpoints live under `--checkpoint` (default `<path>/_checkpoint` with a path, else a temporary
folder removed afterwards): one sub-folder per query (`records`, `windows-update`, `windows-append`)
plus `relay`.
A run with the same checkpoint continues where the last one committed: no duplicates, no gaps.

A bounded run (available-now, `--timeout`) ends with the windows its watermark has not closed yet:
the file sinks replace `windows_open/` with them, the console shows them marked open and the
summary counts them (see `open_windows`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from streamlab import console
from streamlab.spark.failures import explain_source_failure, raise_failure
from streamlab.spark.open_windows import OpenWindows, run_end
from streamlab.spark.outputs import check_bucket, choose_output
from streamlab.spark.queries import records_query, stop_all, wait, windows_checkpoint, windows_query
from streamlab.spark.reader_errors import ReaderErrors
from streamlab.spark.readers import READERS, Reader
from streamlab.spark.relay import relay_stream
from streamlab.spark.request import ConsumeRequest, interval, windows_trigger
from streamlab.spark.startup import PYTHON_SOURCE_MODULES, Phases, Warmup, batch_times
from streamlab.spark.writers import WRITERS, Stats, WriteContext


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
    skipped: int = 0  # records that hold no data and nothing wrong (a Finnhub ping)
    open_windows: Optional[OpenWindows] = None  # a bounded run's windows not closed yet (see open_windows)
    startup: float = 0.0  # seconds from the call to the queries' start (Spark's start-up): not in `elapsed`
    stopping: float = 0.0  # seconds the queries took to stop (waiting for a batch in flight): not in `elapsed`
    phases: Optional[Phases] = None  # where the start-up went, step by step

    def line(self) -> str:
        parts = [
            f"{self.batches:,} batches",
            f"{self.input_rows:,} records read",
            f"{self.trades:,} parsed",
            f"{self.quarantined:,} quarantined",
        ]
        if self.skipped:
            parts.append(f"{self.skipped:,} skipped (pings)")
        if "windows" in self.outputs:
            parts.append(f"{self.windows_written:,} closed windows written")
        if self.windows_updated:
            parts.append(f"{self.windows_updated:,} window updates shown")
        if self.open_windows is not None:
            parts.append(self.open_windows.describe())
        took = f"done ({self.reason}) after {self.elapsed:.1f}s of streaming"
        return f"{took} (Spark start-up {self.startup:.1f}s, stopping {self.stopping:.1f}s): " + ", ".join(parts)


def run_consume(request: ConsumeRequest, *, aws=None, spark=None, out=None,
                stop_when: Optional[Callable[[Stats], bool]] = None) -> ConsumeSummary:
    """Run `request` until available-now finishes, its `timeout` passes, `stop_when(stats)` says so
    (checked between polls; the demo stops once everything produced was read), or Ctrl-C/SIGTERM.

    `aws`: the command's `streamlab.aws.session.AWS` handle, used for the Kinesis source, the bucket
    check and the S3 writer (one is made here when the run needs AWS and none is given); `spark`: a
    session to use instead of starting one; `out`: a rich Console for the console sink."""
    from streamlab.spark.session import require_spark

    phases = Phases()
    with phases.step("checks"):
        if spark is None:
            require_spark()  # Java and pyspark, before anything slow
        if aws is None and request.needs_aws:
            from streamlab.aws.session import AWS

            aws = AWS(request.settings)
        source = request.read_request()
        READERS[request.source][1](request.settings, source, aws)  # the source's own pre-flight check
        if request.writes_s3:
            check_bucket(aws, request.out_path)
        if request.cache:
            from streamlab.price_cache import PriceCache

            PriceCache.open(request.settings, request.cache).close()  # unreachable: exit 5 before Spark starts
    dash, temp_checkpoint = None, None
    begun = time.monotonic()
    try:
        dash = _start_dashboard(request) if request.dashboard else None  # a taken port fails before Spark starts
        checkpoint, temp_checkpoint = _checkpoint(request)
        if spark is None:
            with phases.step("Spark session"):
                spark = _start_spark(request)
        run = _prepare(request, source, aws, spark, checkpoint, out, phases)
        run.startup = time.monotonic() - begun
        reason = _run_queries(run, stop_when)
        if reason in BOUNDED and run.windows and not run.ctx.dataset.has_top:
            run.open_windows = _open_windows(run)
    finally:
        if dash is not None:
            dash.stop()
        if temp_checkpoint:
            shutil.rmtree(temp_checkpoint, ignore_errors=True)
    raise_failure(run.queries, lambda text: explain_source_failure(request.source, source, text))
    return _summary(run, reason)


def _start_dashboard(request: ConsumeRequest):
    """`consume --dashboard`: the dashboard over this run's --path, on a thread, until the run ends."""
    from streamlab.charts.aggregate import parse_duration
    from streamlab.dashboard import start_background
    from streamlab.errors import ConfigError

    try:  # hashtags counted from tweets/ before a window closes use the run's window when it reads as one
        window = request.window if request.window and parse_duration(request.window) else "1m"
    except ConfigError:
        window = "1m"
    try:
        dash = start_background(request.out_path, request.settings, port=request.dashboard_port, top=request.top, window=window)
    except ConfigError as exc:
        if not exc.message.startswith("cannot listen"):
            raise
        raise ConfigError(exc.message, "pick another --dashboard-port (0 for any free one)") from None
    console.info(f"dashboard for {request.out_path} at {dash.url} (it stops with consume)")
    return dash


#: the ends of a run that read a bounded backlog (not Ctrl-C, a failure or the demo's stop_when)
BOUNDED = ("available-now done", "timeout")


@dataclass
class _Run:
    """What one run has set up: its session, writers, source, checkpoint and (windowed) relay plan."""

    request: ConsumeRequest
    spark: Any
    ctx: WriteContext
    writers: list
    src: Reader
    checkpoint: str
    relay: Optional[str] = None
    relay_dirs: dict = field(default_factory=dict)  # windows output mode -> its relay folder
    windows: dict = field(default_factory=dict)  # windows output mode -> streaming windows over that folder
    window: str = ""  # the window length and slide, in Spark's interval form
    slide: Optional[str] = None
    queries: list = field(default_factory=list)
    windows_queries: dict = field(default_factory=dict)  # windows output mode -> its query
    open_windows: Optional[OpenWindows] = None
    startup: float = 0.0  # seconds before the queries started (Spark's start-up, the source's checks)
    started: float = 0.0  # monotonic: the queries started (`--timeout` counts from here)
    ended: float = 0.0  # monotonic: stopping began
    stopping: float = 0.0  # seconds the stop took
    phases: Optional[Phases] = None  # where the start-up went (consume --verbose prints it)

    def start_records(self) -> None:
        self.queries.append(records_query(self.spark, self.src.df, self.writers, self.ctx, self.checkpoint,
                                          self.request.spark_trigger, self.relay, list(self.relay_dirs.values())))

    def start_windows(self) -> None:
        for mode, windows in self.windows.items():
            mine = [w for w in self.writers if w.windows_mode == mode]
            query = windows_query(windows, mine, mode, self.checkpoint, windows_trigger(self.request.spark_trigger))
            self.queries.append(query)
            self.windows_queries[mode] = query


def _checkpoint(request: ConsumeRequest) -> tuple[str, Optional[str]]:
    """(checkpoint folder, the temporary one to remove afterwards or None)."""
    if request.checkpoint is not None:
        return request.checkpoint, None
    if request.out_path:
        return f"{request.out_path}/_checkpoint", None
    temp = tempfile.mkdtemp(prefix="streamlab-checkpoint-")
    return temp, temp


def _start_spark(request: ConsumeRequest):
    from streamlab.spark import compat
    from streamlab.spark.session import get_session

    extra = {}
    if request.source == "kafka" and request.packages:  # the connector matching the installed Spark/Scala
        extra["spark.jars.packages"] = compat.kafka_packages()
    if not request.quiet:
        console.info("starting Spark (local mode takes a few seconds)...")
    return get_session(f"streamlab consume {request.source} {request.stream or request.topic or ''}".strip(), extra_conf=extra)


def _prepare(request: ConsumeRequest, source, aws, spark, checkpoint: str, out, phases: Phases) -> _Run:
    """Writers, the source's DataFrame, the windows over the relay; nothing runs yet. The Python
    workers of a Python source are started meanwhile (see `startup.Warmup`)."""
    module = PYTHON_SOURCE_MODULES.get(request.source) if source.reader != "native" and not source.packages else None
    warm = Warmup(spark, module) if module else None
    planned = time.monotonic()
    dataset = request.make_dataset()
    ctx = WriteContext(dataset=dataset, stats=Stats(), path=request.out_path, quiet=request.quiet,
                       partition_by=tuple(request.partition_by), name=request.name, spark=spark,
                       cache_url=request.cache, settings=request.settings, live=request.spark_trigger is not None)
    if request.out_path:
        ctx.output = choose_output(spark, aws, request.out_path, request.file_sink)
    writers = [WRITERS[s](ctx, out=out) if s == "console" and out is not None else WRITERS[s](ctx) for s in request.sink]
    with phases.step("source"):
        src = READERS[request.source][0](spark, request.settings, source, aws)
    # a record the reader found unusable (a corrupt KPL aggregate) is quarantined with its reason
    ctx.dataset = dataset = ReaderErrors.wrap(dataset, src.df)
    if src.python_module and warm is None:
        warm = Warmup(spark, src.python_module)
    if not request.quiet:
        console.info(f"reading with {src.description}")
        if ctx.output is not None:
            console.info(f"writing with {ctx.output.describe()}")
    run = _Run(request, spark, ctx, writers, src, checkpoint)
    good_schema = dataset.good(dataset.parse(src.df)).schema
    modes = list(dict.fromkeys(w.windows_mode for w in writers if w.windows_mode))  # None: the writer takes no windows
    if dataset.has_windows and modes:
        run.relay = f"{checkpoint.rstrip('/')}/relay"
        # one windows query: the relay itself; two: a folder each, hidden from the first
        run.relay_dirs = {m: run.relay if len(modes) == 1 else f"{run.relay}/_{m}" for m in modes}
        run.window, run.slide = interval(request.window) or dataset.default_window, interval(request.slide)
        watermark = interval(request.watermark) or dataset.default_watermark
        run.windows = {m: dataset.windows(relay_stream(spark, d, good_schema), window=run.window, watermark=watermark,
                                          slide=run.slide) for m, d in run.relay_dirs.items()}
    windows_schema = next(iter(run.windows.values())).schema if run.windows else None
    for w in writers:
        w.prepare(spark, good_schema, windows_schema)
    phases.add("plans", time.monotonic() - planned - phases.seconds("source"))
    if warm is not None:
        phases.add("waiting for the Python workers", warm.join())
        phases.note = f"the Python workers took {warm.seconds:.1f}s, started beside the source and plans"
    run.phases = phases
    return run


def _run_queries(run: _Run, stop_when: Optional[Callable[[Stats], bool]]) -> str:
    """Start the queries, wait (see `queries.wait`), stop them all; returns why the run ended.
    `--timeout` counts from the queries' start: Spark's start-up is not in it (it is shown apart)."""
    request, trigger = run.request, run.request.spark_trigger
    run.started = time.monotonic()
    deadline = None if request.timeout is None else run.started + request.timeout
    until = None if stop_when is None else (lambda: stop_when(run.ctx.stats))
    try:
        run.start_records()
        if run.windows and trigger is not None:
            run.start_windows()
        if not request.quiet:
            limit = "" if request.timeout is None else f"; --timeout {request.timeout:g}s counts from now"
            console.info(f"Spark ready after {run.startup:.1f}s{limit}")
            what = ", ".join(w.describe() for w in run.writers)
            when = "until the backlog is read" if trigger is None else f"every {request.trigger}"
            console.info(f"waiting for data ({what}; batches {when}; Ctrl-C stops)")
        reason = wait(run.queries, deadline, until)
        if run.windows and trigger is None and reason == "available-now done":
            # available-now: the windows read what the records query relayed, once it is all there
            run.start_windows()
            reason = wait(run.queries, deadline, until)
    finally:
        run.ended = time.monotonic()
        stop_all(run.queries)
        run.stopping = time.monotonic() - run.ended
    return reason


def _open_windows(run: _Run) -> Optional[OpenWindows]:
    """The end of a bounded run: each writer gets its windows query's final watermark (see
    `open_windows`); what the file sinks wrote to windows_open/ is what the summary counts."""
    found = None
    try:
        for mode, query in run.windows_queries.items():
            end = run_end(run.spark, query, windows_checkpoint(run.checkpoint, mode), run.window, run.slide)
            if end is None:  # the query never ran a batch: no window at all
                continue
            for w in run.writers:
                got = w.on_run_end(end) if w.windows_mode == mode else None
                if got is not None and (found is None or w.writes_files):
                    found = got
    except Exception as exc:  # everything read is written and checkpointed: say it, do not fail the run
        console.warn(f"the open windows were not written: {str(exc).splitlines()[0][:200]}")
    return found


def _summary(run: _Run, reason: str) -> ConsumeSummary:
    ctx, stats, dataset = run.ctx, run.ctx.stats, run.ctx.dataset
    outputs = {}
    if ctx.output is not None:
        outputs = {dataset.records_dir or "records": ctx.output.url(dataset.records_dir), "_quarantine": ctx.output.url("_quarantine")}
        if run.windows and any(w.windows_mode == "append" for w in run.writers):
            outputs["windows"] = ctx.output.url("windows")
            if run.open_windows is not None and run.open_windows.rows:
                outputs["windows_open"] = ctx.output.url("windows_open")
    summary = ConsumeSummary(
        batches=stats.batches, input_rows=stats.input_rows, trades=stats.trades, quarantined=stats.quarantined, skipped=stats.skipped,
        windows_written=stats.windows_written, windows_updated=stats.windows_updated,
        elapsed=run.ended - run.started, startup=run.startup, stopping=run.stopping, reason=reason, reader=run.src.description,
        outputs=outputs, open_windows=run.open_windows, phases=run.phases,
    )

    if not run.request.quiet:
        console.info(summary.line())
        for label, where in outputs.items():
            if label != "_quarantine" or summary.quarantined:
                console.info(f"  {label}: {where}")
        if run.request.verbose:
            if run.phases is not None:
                console.info(run.phases.line())
            for line in batch_times(run.queries):
                console.info(line)
    return summary
