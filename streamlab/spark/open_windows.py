"""The windows a bounded run leaves open: `windows_open/`, the console's open rows, the summary's count.

The windows query aggregates with a watermark in append mode: a window goes to `windows/` once,
final, when the watermark passes its end (Spark evicts a window once window_end <= watermark). A
bounded run (available-now, `--timeout`) stops with the newest windows still in the checkpoint's
state: 5,000 ticks produced within a second give no closed window at all. So at the end of one:

- `run_end`: where a windows query stopped: the watermark of its last batch (`lastProgress`; when
  it had nothing to do in this run, the watermark its checkpoint's last committed batch ran with)
  and that batch's id. Windows ending after that watermark are still open.
- `write_open` (the file sinks): the open windows computed in batch mode by the same
  `dataset.windows` code (a batch DataFrame gets no watermark) over the trades under `trades/` with
  an event time less than one window length before the watermark: this run's and earlier runs'
  (an open window may have begun in an earlier run; `trades/` is exactly-once), keeping those that
  end after the watermark. They replace `windows_open/` (one folder `batch_id=<that windows batch>`,
  the window columns plus `closed=false`). The next run writes them to `windows/` once the
  watermark passes them, and they leave `windows_open/`.
- the console writer marks the windows it shows that end after its own query's watermark.

After a bounded run `windows/` and `windows_open/` hold each trade once (tumbling windows; a sliding
window counts a trade in every window covering it), so their `count`s add up to the trades read,
except trades that came later than the watermark allowed, which the windows query drops.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from streamlab.spark.outputs import hadoop_path
from streamlab.spark.request import parse_interval

#: the column every windowed dataset windows on
EVENT_TIME = "event_ts"
#: the folder under --path
FOLDER = "windows_open"


@dataclass(frozen=True)
class RunEnd:
    """Where a windows query stopped, and the run's window shape (Spark's interval form)."""

    watermark_ms: int
    batch_id: int
    window: str
    slide: Optional[str] = None


@dataclass
class OpenWindows:
    """The windows still open at the end of a bounded run (rows as dicts, times as datetimes)."""

    rows: list
    watermark_ms: int

    @property
    def until_ms(self) -> Optional[int]:
        """The newest open window's end (epoch ms): the open windows cover event times up to it."""
        return max((round(r["window_end"].timestamp() * 1000) for r in self.rows), default=None)

    def describe(self) -> str:
        """The summary's words: '4 windows still open until 2026-12-02 14:03:00 UTC (watermark 2026-12-02 14:01:30 UTC)'."""
        mark = f"(watermark {utc_text(self.watermark_ms)})"
        if not self.rows:
            return f"no window still open {mark}"
        n = len(self.rows)
        return f"{n:,} window{'' if n == 1 else 's'} still open until {utc_text(self.until_ms)} {mark}"


def run_end(spark, query, checkpoint: str, window: str, slide: Optional[str]) -> Optional[RunEnd]:
    """The windows query's final watermark and batch id; None when it never ran a batch.
    `checkpoint` is the query's own folder (`<checkpoint>/windows-<mode>`)."""
    progress = query.lastProgress
    mark = ((progress or {}).get("eventTime") or {}).get("watermark")
    if mark:
        return RunEnd(_iso_ms(mark), int(progress["batchId"]), window, slide)
    last = _last_committed(spark, checkpoint)
    return None if last is None else RunEnd(last[1], last[0], window, slide)


def _iso_ms(text: str) -> int:
    """'2026-12-02T14:01:30.000Z' (Spark's progress format) -> epoch milliseconds."""
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _last_committed(spark, checkpoint: str) -> Optional[tuple[int, int]]:
    """(batch id, the watermark it ran with) of the query's last committed batch: the batch's entry
    in the offset log (`offsets/N`: a version line, then JSON with `batchWatermarkMs`)."""
    folder, fs = hadoop_path(spark, f"{checkpoint}/commits")
    if not fs.exists(folder):
        return None
    ids = [int(n) for n in (st.getPath().getName() for st in fs.listStatus(folder)) if n.isdigit()]
    if not ids:
        return None
    entry, fs = hadoop_path(spark, f"{checkpoint}/offsets/{max(ids)}")
    stream = fs.open(entry)
    try:
        text = spark._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")  # noqa: SLF001
    finally:
        stream.close()
    return max(ids), int(json.loads(text.splitlines()[1]).get("batchWatermarkMs", 0))


def write_open(ctx, records_schema, end: RunEnd) -> OpenWindows:
    """Compute the open windows from what `trades/` holds and replace `windows_open/` with them
    (no folder left when none is open). `ctx` is the run's WriteContext (spark, dataset, output)."""
    from pyspark.sql import functions as F

    spark, dataset, output = ctx.spark, ctx.dataset, ctx.output
    # an open window ends after the watermark, so it starts after (watermark - window length)
    since = end.watermark_ms - parse_interval(end.window)[1]
    trades = output.read(spark, dataset.records_dir, records_schema, after=(EVENT_TIME, since))
    if trades is None:
        output.replace(spark, None, FOLDER, end.batch_id)
        return OpenWindows([], end.watermark_ms)
    windows = dataset.windows(trades, window=end.window, slide=end.slide)
    windows = windows.where(F.col("window_end") > F.timestamp_millis(F.lit(end.watermark_ms)))
    rows = windows.collect()  # a few rows per key: the windows of the last minutes
    static = spark.createDataFrame(rows, windows.schema).withColumn("closed", F.lit(False))
    output.replace(spark, static if rows else None, FOLDER, end.batch_id)
    return OpenWindows([r.asDict() for r in rows], end.watermark_ms)


def utc_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def is_open(row: dict, watermark_ms: int) -> bool:
    """A window row (window_end a datetime) the watermark has not closed yet."""
    return row["window_end"].timestamp() * 1000 > watermark_ms
