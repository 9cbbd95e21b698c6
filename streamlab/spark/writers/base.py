"""What every writer shares: the run's counters, its context, the writer contract, the quarantine output."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from streamlab import console


@dataclass
class Stats:
    """Counters the foreachBatch functions update (on the driver) and the summary reports."""

    batches: int = 0
    input_rows: int = 0
    trades: int = 0  # good rows (the name comes from the ticker dataset)
    quarantined: int = 0
    skipped: int = 0  # rows that are neither data nor a problem (Finnhub pings)
    windows_written: int = 0
    windows_updated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)


@dataclass
class WriteContext:
    dataset: Any  # a streamlab.spark.datasets.Dataset
    stats: Stats
    path: Optional[str] = None  # local absolute path or a URL (s3://...), as checked by outputs.check_path
    quiet: bool = False
    sample_quarantine: int = 3
    output: Any = None  # an outputs.Output: where Parquet goes; set by choose_output once Spark runs
    partition_by: tuple = ()
    name: Optional[str] = None  # memory sink view name
    spark: Any = None
    cache_url: Optional[str] = None  # redis sink: the cache (checked by the request)
    settings: Any = None  # redis sink: REDIS_PASSWORD
    live: bool = True  # batches on a processing-time trigger (not available-now, whose windows come after all records)


def write_quarantine(ctx: WriteContext, bad, batch_id: int, count: int) -> None:
    """Keep malformed rows: Parquet under <path>/_quarantine, or shown on stderr without a file output."""
    if ctx.output is not None:
        ctx.output.write(bad, "_quarantine", batch_id)
        if not ctx.quiet:
            console.warn(f"batch {batch_id}: {count:,} malformed records quarantined in {ctx.output.url('_quarantine')}")
        return
    if ctx.quiet:
        return
    examples = bad.limit(ctx.sample_quarantine).collect()
    shown = "; ".join(f"{r['reason']}: {(r['raw'] or '')[:60]!r}" for r in examples)
    console.warn(f"batch {batch_id}: {count:,} malformed records quarantined (not written without --path), e.g. {shown}")


class Writer:
    name: ClassVar[str]
    #: the output mode of this writer's windows query; None: it takes no windows (no query for it)
    windows_mode: ClassVar[Optional[str]]
    needs_path: ClassVar[bool] = False
    writes_files: ClassVar[bool] = False

    def __init__(self, ctx: WriteContext):
        self.ctx = ctx

    def describe(self) -> str:
        return self.name

    def prepare(self, spark, records_schema, windows_schema) -> None:
        """Called once before the queries start."""

    def on_records(self, good, batch_id: int) -> None:
        """Called for every records batch that has good rows (`good` is cached)."""

    def on_windows(self, windows, batch_id: int) -> None:
        """Called for every windows batch (windowed datasets only)."""

    def on_run_end(self, end):
        """At the end of a bounded run, once the queries stopped: `end` is this writer's windows
        query's `open_windows.RunEnd`. Returns the `open_windows.OpenWindows` it wrote or showed, or None."""
        return None
