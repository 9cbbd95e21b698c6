"""What the dashboard shows, folded in batch by batch as `consume` writes them.

Each `poll()` reads only the `batch_id=` folders not read before (`charts.data.Incremental`) and
adds them to running per-symbol sums, so a long consume costs the same per poll as a short one.
Bounded memory: the last `points` trades per symbol for the price lines, the last `windows`
candles per symbol, the last `windows` hashtag windows.

records/s is measured on the wall clock, between polls, over the last `rate_span` seconds (the
backlog found by the first poll is not a rate). Lag is now minus the newest event time read.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Optional

from streamlab.charts import aggregate as agg
from streamlab.charts import svg
from streamlab.charts.data import Incremental, Output

TRADE_COLUMNS = ["symbol", "price", "volume", "event_time", "event_ts", "ingest_time"]


class State:
    def __init__(self, output: Output, *, top: int = 10, window: str = "1m", points: int = 600, windows: int = 30,
                 rate_span: float = 30.0, clock: Callable[[], float] = time.time):
        self.output, self.reader = output, Incremental(output)
        self.top, self.window_ms = top, agg.parse_duration(window)
        self.points, self.windows, self.rate_span, self.clock = points, windows, rate_span, clock
        self.lock = threading.Lock()
        self.polls: deque = deque()  # (wall time, new good rows) per poll after the first
        self.polled = 0
        self.records = 0
        self.newest_event: Optional[int] = None
        self.prices: dict[str, dict] = {}
        self.series: dict[str, deque] = {}
        self.trade_count: dict[str, int] = {}
        self.quoted: dict[str, float] = {}
        self.units: dict[str, float] = {}
        self.closed: dict[tuple, dict] = {}
        self.open: dict[tuple, dict] = {}
        self.tag_windows: dict[tuple, int] = {}  # closed windows/ rows: (start, tag) -> count
        self.tag_posts: dict[tuple, int] = {}  # counted from tweets/ (windows not closed yet)
        self.quarantined = 0
        self.reasons: dict[str, int] = {}

    # ------------------------------------------------------------------------------------------
    def poll(self) -> int:
        """Read the new batches; returns the number of new good rows."""
        with self.lock:
            n = self._trades(self.reader.new_rows("trades", TRADE_COLUMNS))
            n += self._posts(self.reader.new_rows("tweets", ["hashtags", "event_ts"]))
            n += len(self.reader.new_rows("records", ["arrival"]))
            self._windows(self.reader.new_rows("windows"), self.reader.new_rows("windows_open"))
            for r in self.reader.new_rows("_quarantine", ["reason"]):
                self.quarantined += 1
                reason = str(r.get("reason") or "unknown")
                self.reasons[reason] = self.reasons.get(reason, 0) + 1
            now = self.clock()
            self.polls.append((now, n if self.polled else 0))  # the first poll's backlog is not a rate
            while len(self.polls) > 2 and now - self.polls[1][0] > self.rate_span:
                self.polls.popleft()
            self.polled += 1
            self.records += n
            return n

    def _trades(self, rows: list[dict]) -> int:
        rows = agg.trades_in(rows)
        for r in rows:
            s, t, p = r["symbol"], agg.trade_time(r), float(r["price"])
            d = self.prices.get(s)
            if d is None:
                d = self.prices[s] = {"first": p, "price": p, "time": t}
            if t is None or d["time"] is None or t >= d["time"]:
                d.update(price=p, time=t)
            self.trade_count[s] = self.trade_count.get(s, 0) + 1
            self.series.setdefault(s, deque(maxlen=self.points)).append((t, p))
            self._saw(t)
        agg.add_value(rows, self.quoted, self.units)
        return len(rows)

    def _posts(self, rows: list[dict]) -> int:
        for r in agg.hashtag_counts_from_posts(rows, self.window_ms):
            key = (r["window_start"], r["hashtag"])
            self.tag_posts[key] = self.tag_posts.get(key, 0) + r["count"]
        for r in rows:
            self._saw(r.get("event_ts"))
        self._trim_tags(self.tag_posts)
        return len(rows)

    def _windows(self, closed: list[dict], opened: list[dict]) -> None:
        for r in closed:
            if "hashtag" in r:
                self.tag_windows[(r["window_start"], r["hashtag"])] = int(r["count"])
            else:
                self.closed[(r["symbol"], r["window_start"])] = r
                self.open.pop((r["symbol"], r["window_start"]), None)
        for r in opened:
            key = (r.get("symbol"), r["window_start"])
            if key not in self.closed and r.get("batch_id", 0) >= self.open.get(key, {}).get("batch_id", -1):
                self.open[key] = r
        self._trim_tags(self.tag_windows)
        for rows in (self.closed, self.open):
            by_symbol: dict = {}
            for k in sorted(rows, key=lambda k: k[1], reverse=True):
                by_symbol.setdefault(k[0], []).append(k)
            for keys in by_symbol.values():
                for k in keys[self.windows:]:
                    del rows[k]

    def _trim_tags(self, counts: dict) -> None:
        starts = sorted({s for s, _ in counts})
        if len(starts) > self.windows:
            cut = starts[-self.windows]
            for k in [k for k in counts if k[0] < cut]:
                del counts[k]

    def _saw(self, t: Optional[int]) -> None:
        if t is not None and (self.newest_event is None or t > self.newest_event):
            self.newest_event = t

    # ------------------------------------------------------------------------------------------
    def dataset(self) -> str:
        if self.prices or self.closed or self.open:
            return "ticker"
        if self.tag_windows or self.tag_posts or self.output.has("tweets"):
            return "tweets"
        return "records" if self.records else "empty"

    def rate(self) -> Optional[float]:
        if len(self.polls) < 2:
            return None
        span = self.polls[-1][0] - self.polls[0][0]
        return sum(n for _, n in list(self.polls)[1:]) / span if span > 0 else None

    def snapshot(self) -> dict:
        """The JSON the page polls: numbers, and each chart as an SVG string."""
        with self.lock:
            now_ms = int(self.clock() * 1000)
            prices = []
            for s in sorted(self.prices):
                d = self.prices[s]
                change = d["price"] - d["first"]
                prices.append({"symbol": s, "price": d["price"], "change": change, "trades": self.trade_count[s], "time": d["time"],
                               "change_pct": 100.0 * change / d["first"] if d["first"] else 0.0})
            units = [{"symbol": s, "units": self.units[s], "trades": self.trade_count.get(s, 0)}
                     for s in sorted(self.units, key=lambda s: (-self.units[s], s))]
            values = agg.values_in_usd(self.quoted, self.units, {s: d["price"] for s, d in self.prices.items()})
            tags = self.tag_windows or self.tag_posts
            rows = [{"window_start": s, "hashtag": h, "count": c} for (s, h), c in tags.items()]
            per_window = agg.hashtags_per_window(rows, self.top, last=3)
            candles = agg.candles(self.closed.values(), self.open.values())
            charts = {
                "candles": svg.candles(candles, 760, 150 * max(min(len(candles), 6), 1)) if candles else "",
                "price": svg.price_panels({s: list(p) for s, p in sorted(self.series.items())}, 760, 120 * max(min(len(self.series), 6), 1)) if self.series else "",
                "units": svg.bars([(u["symbol"], u["units"], f"{u['symbol']}: {u['units']:,.6g} units") for u in units], 460, 40 + 26 * len(units), cls="units") if any(u["units"] for u in units) else "",
                "value": svg.treemap(values.rows, 460, 260) if values.rows else "",
                "hashtags": svg.hashtag_windows(per_window, 760, 300) if per_window else "",
            }
            return {
                "path": self.output.url, "dataset": self.dataset(), "now": now_ms, "polls": self.polled,
                "records": self.records, "rate": self.rate(), "newest_event": self.newest_event,
                "lag_s": (now_ms - self.newest_event) / 1000 if self.newest_event is not None else None,
                "quarantined": self.quarantined, "reasons": self.reasons,
                "prices": prices, "units": units,
                "value": {"total": values.total, "rows": [{"symbol": s, "value_usd": v, "units": u} for s, v, u in values.rows],
                          "converted": values.converted, "unpriced": values.unpriced},
                "hashtags": [{"window_start": s, "tags": t} for s, t in per_window],
                "svg": charts,
            }
