"""The console sink: a rich table per batch (windows, the latest value per key, or a sample of the rows)."""

from __future__ import annotations

from typing import Any

from streamlab.spark.writers.base import WriteContext, Writer


class ConsoleWriter(Writer):
    """A rich table per batch: windows (+ the dataset's latest view), or a sample of the rows."""

    name = "console"
    windows_mode = "update"
    rows_per_key = 2
    max_rows = 30
    sample_rows = 5

    def __init__(self, ctx: WriteContext, out=None):
        super().__init__(ctx)
        from rich.console import Console

        if out is None:
            out = Console(highlight=False)
            if not out.is_terminal:  # piped: do not squeeze the table into 80 columns
                out = Console(highlight=False, width=120)
        self.out = out
        self.latest: dict[tuple, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}

    def on_records(self, good, batch_id: int) -> None:
        d = self.ctx.dataset
        if d.has_latest:  # ticker: remember the newest price per symbol for the windows table
            for r in d.latest(good).collect():
                row = r.asDict()
                old = self.prices.get(row["symbol"])
                if old is None or (row["event_ts"] or 0) >= (old["event_ts"] or 0):
                    self.prices[row["symbol"]] = row
        if self.ctx.quiet:
            return
        if d.has_windows:
            if not self.latest and self.ctx.live:  # no windows table yet: show what this batch read meanwhile
                self._preview(good, batch_id)
            return
        n = good.count()
        rows = [r.asDict() for r in good.select(*d.table_columns).limit(self.sample_rows).collect()]
        self.out.print(self.rows_table(f"batch {batch_id}: {n:,} rows (first {len(rows)} shown)", d.table_columns, rows))

    def _preview(self, good, batch_id: int) -> None:
        """A windowed dataset's rows, until the windows query's first result: its first (stateful)
        batch can take 20-30 s on 2 busy cores, and a short run would otherwise show no table at
        all. So the first table comes with the first batch."""
        cols = [c for c, _ in self.ctx.dataset.record_columns if c != "position"][:5]
        n = good.count()
        rows = [r.asDict() for r in good.select(*cols).limit(3).collect()]
        title = f"batch {batch_id}: {n:,} rows read (first {len(rows)} shown); the windows table follows once Spark has aggregated them"
        self.out.print(self.rows_table(title, cols, rows))

    def on_windows(self, windows, batch_id: int) -> None:
        rows = windows.collect()
        if not rows:
            return
        key = self.ctx.dataset.window_key
        for r in rows:
            d = r.asDict()
            self.latest[tuple(d[k] for k in key)] = d
        self.ctx.stats.add(windows_updated=len(rows))
        self._forget_old()
        if not self.ctx.quiet:
            changed = {tuple(r[k] for k in key) for r in rows}
            self.out.print(self.table(batch_id, changed))
            if self.prices:
                cols = self.ctx.dataset.latest_columns
                self.out.print(self.rows_table("latest price per symbol", cols, [self.prices[s] for s in sorted(self.prices)]))

    def on_run_end(self, end):
        """A bounded run stopped: the windows shown once more, each marked open (the watermark has not
        passed its end: it is not final) or closed (see `spark.open_windows`)."""
        from streamlab.spark.open_windows import OpenWindows, is_open, utc_text

        rows = [self.latest[k] for k in sorted(self.latest)[: self.max_rows]]
        opened = [r for r in rows if is_open(r, end.watermark_ms)]
        if rows and not self.ctx.quiet:
            marked = [dict(r, state="open" if is_open(r, end.watermark_ms) else "closed") for r in rows]
            title = f"end of run: {len(opened)} window(s) still open, not final (watermark {utc_text(end.watermark_ms)})"
            self.out.print(self.rows_table(title, (*self.ctx.dataset.table_columns, "state"), marked))
        return OpenWindows(opened, end.watermark_ms)

    def _forget_old(self) -> None:
        """Keep the newest `rows_per_key` windows per symbol (ticker) / the newest windows (top-N: tweets)."""
        if self.ctx.dataset.has_top:  # key (window_start, hashtag): whole windows are ranked
            starts = sorted({k[0] for k in self.latest}, reverse=True)[: self.rows_per_key]
            for k in [k for k in self.latest if k[0] not in starts]:
                del self.latest[k]
            return
        by_symbol: dict[str, list] = {}
        for k in sorted(self.latest, key=lambda k: k[1], reverse=True):
            by_symbol.setdefault(k[0], []).append(k)
        for keys in by_symbol.values():
            for k in keys[self.rows_per_key :]:
                del self.latest[k]

    def table(self, batch_id: int, changed: set):
        """The table of what `latest` holds; its title counts the rows shown, and how many of them
        this batch changed (`changed`: the window keys it updated, some maybe no longer shown)."""
        dataset = self.ctx.dataset
        if dataset.has_top:
            rows = self._top_rows()
            title = f"batch {batch_id}: top {dataset.top} hashtags per window (times UTC)"
        else:
            keys = sorted(self.latest)[: self.max_rows]
            rows = [self.latest[k] for k in keys]
            fresh = sum(k in changed for k in keys)
            title = f"batch {batch_id}: {len(rows)} window(s) shown, {fresh} updated by this batch (times UTC)"
        return self.rows_table(title, dataset.table_columns, rows)

    def _top_rows(self) -> list[dict]:
        by_window: dict[Any, list] = {}
        for d in self.latest.values():
            by_window.setdefault(d["window_start"], []).append(d)
        out = []
        for start in sorted(by_window, reverse=True):
            ranked = sorted(by_window[start], key=lambda d: (-d["count"], d["hashtag"]))[: self.ctx.dataset.top]
            out += [dict(d, rank=i + 1) for i, d in enumerate(ranked)]
        return out

    def rows_table(self, title: str, columns, rows):
        from rich.table import Table

        from rich import box

        t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
        for c in columns:
            left = c in ("symbol", "hashtag", "product_title", "value", "key", "product_category", "position", "text", "user", "hashtags")
            t.add_column(c, justify="left" if left else "right", no_wrap=c != "value", max_width=60 if left else None)
        for row in rows:
            t.add_row(*(_fmt(row.get(c)) for c in columns))
        return t


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if hasattr(value, "hour"):  # datetime
        return value.strftime("%H:%M:%S")
    if hasattr(value, "strftime"):  # date
        return value.strftime("%Y-%m-%d")
    return str(value)
