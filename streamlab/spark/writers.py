"""Sink name -> writer, plus the quarantine output. Everything here runs on the driver in `foreachBatch`.

A consume run has one *records* query (every input row: parse, count, quarantine, and for Parquet
the trades) and one *windows* query per output mode its writers need (the console wants `update`:
every batch shows the windows that changed, open ones included; Parquet wants `append`: a window is
written once, final, when the watermark passes its end).

Parquet layout under `--path` (each batch goes to its own `batch_id=N` folder, overwritten when
Spark replays a batch after a crash, so a restart with the same checkpoint neither duplicates nor
skips rows; `spark.read.parquet(path + "/trades")` reads them all, with `batch_id` as a column):

    trades/batch_id=N/       every parsed trade (symbol, price, volume, event_ts, ..., position)
    windows/batch_id=N/      closed windows: symbol, window_start, window_end, open, high, low, close, count, volume, vwap
    _quarantine/batch_id=N/  malformed rows: raw (as received), reason, position
    _checkpoint/             Spark's checkpoints (default when --checkpoint is not given)

Windows still open when a bounded run stops (the last minute or so; the watermark has not passed
them) are not in `windows/` yet: they stay in the checkpoint's state and are written by the next
run with the same checkpoint once newer data moves the watermark past them. The trades are complete.

With the console sink and no `--path`, malformed rows are counted and shown (a few per batch, on
stderr); with `--path` they are written to `_quarantine/` as above.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Optional

from streamlab import console
from streamlab.errors import ConfigError


@dataclass
class Stats:
    """Counters the foreachBatch functions update (on the driver) and the summary reports."""

    batches: int = 0
    input_rows: int = 0
    trades: int = 0
    quarantined: int = 0
    windows_written: int = 0
    windows_updated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)


@dataclass
class WriteContext:
    transform: ModuleType
    stats: Stats
    path: Optional[str] = None
    quiet: bool = False
    sample_quarantine: int = 3


def batch_dir(path: str, kind: str, batch_id: int) -> str:
    return f"{path.rstrip('/')}/{kind}/batch_id={batch_id}"


def check_path(path: Optional[str], needed: bool, sink: str) -> Optional[str]:
    if not path:
        if needed:
            raise ConfigError(f"--sink {sink} needs --path", "give a directory, e.g. --path ./streamlab-output")
        return None
    if "://" in path and not path.startswith("file://"):
        raise ConfigError(
            f"--path {path}: only local paths are supported by this version's Parquet writer",
            "give a local directory, e.g. --path ./streamlab-output",
        )
    return str(Path(path.removeprefix("file://")).expanduser().resolve())


def write_quarantine(ctx: WriteContext, bad, batch_id: int, count: int) -> None:
    """Keep malformed rows: Parquet under <path>/_quarantine, or shown on stderr without --path."""
    if ctx.path:
        bad.coalesce(1).write.mode("overwrite").parquet(batch_dir(ctx.path, "_quarantine", batch_id))
        if not ctx.quiet:
            console.warn(f"batch {batch_id}: {count:,} malformed records quarantined in {ctx.path}/_quarantine")
        return
    if ctx.quiet:
        return
    examples = bad.limit(ctx.sample_quarantine).collect()
    shown = "; ".join(f"{r['reason']}: {(r['raw'] or '')[:60]!r}" for r in examples)
    console.warn(f"batch {batch_id}: {count:,} malformed records quarantined (not written without --path), e.g. {shown}")


class Writer:
    name: ClassVar[str]
    #: the output mode of this writer's windows query
    windows_mode: ClassVar[str]
    needs_path: ClassVar[bool] = False

    def __init__(self, ctx: WriteContext):
        self.ctx = ctx

    def describe(self) -> str:
        return self.name

    def on_records(self, parsed, batch_id: int) -> None:
        """Called for every records batch with the parsed rows (cached)."""

    def on_windows(self, windows, batch_id: int) -> None:
        raise NotImplementedError


class ConsoleWriter(Writer):
    """A rich table of the latest windows per symbol, printed after every batch that changed one."""

    name = "console"
    windows_mode = "update"
    rows_per_symbol = 2
    max_rows = 30

    def __init__(self, ctx: WriteContext, out=None):
        super().__init__(ctx)
        from rich.console import Console

        if out is None:
            out = Console(highlight=False)
            if not out.is_terminal:  # piped: do not squeeze the table into 80 columns
                out = Console(highlight=False, width=120)
        self.out = out
        self.latest: dict[tuple, dict[str, Any]] = {}

    def on_windows(self, windows, batch_id: int) -> None:
        rows = windows.collect()
        if not rows:
            return
        for r in rows:
            d = r.asDict()
            self.latest[(d["symbol"], d["window_start"])] = d
        self.ctx.stats.add(windows_updated=len(rows))
        self._forget_old()
        if not self.ctx.quiet:
            self.out.print(self.table(batch_id, len(rows)))

    def _forget_old(self) -> None:
        by_symbol: dict[str, list] = {}
        for key in sorted(self.latest, key=lambda k: k[1], reverse=True):
            by_symbol.setdefault(key[0], []).append(key)
        for keys in by_symbol.values():
            for key in keys[self.rows_per_symbol :]:
                del self.latest[key]

    def table(self, batch_id: int, changed: int):
        from rich.table import Table

        from rich import box

        columns = self.ctx.transform.TABLE_COLUMNS
        t = Table(title=f"batch {batch_id}: {changed} window(s) updated (times UTC)", title_justify="left", box=box.SIMPLE_HEAD)
        for c in columns:
            t.add_column(c, justify="left" if c == "symbol" else "right", no_wrap=True)
        for key in sorted(self.latest)[: self.max_rows]:
            row = self.latest[key]
            t.add_row(*(_fmt(row.get(c)) for c in columns))
        return t


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if hasattr(value, "strftime"):
        return value.strftime("%H:%M:%S")
    return str(value)


class ParquetWriter(Writer):
    """Trades, closed windows and quarantine as Parquet under a local --path (layout above)."""

    name = "parquet"
    windows_mode = "append"
    needs_path = True

    def describe(self) -> str:
        return f"parquet at {self.ctx.path}"

    def on_records(self, parsed, batch_id: int) -> None:
        trades = self.ctx.transform.trades(parsed)
        # one file per batch; a replayed batch overwrites its own folder instead of adding rows
        trades.coalesce(1).write.mode("overwrite").parquet(batch_dir(self.ctx.path, "trades", batch_id))

    def on_windows(self, windows, batch_id: int) -> None:
        rows = windows.cache()
        try:
            n = rows.count()
            if n:
                rows.coalesce(1).write.mode("overwrite").parquet(batch_dir(self.ctx.path, "windows", batch_id))
                self.ctx.stats.add(windows_written=n)
        finally:
            rows.unpersist()


WRITERS: dict[str, type[Writer]] = {w.name: w for w in (ConsoleWriter, ParquetWriter)}
