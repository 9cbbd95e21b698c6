"""The numbers behind each chart: plain functions over the row dicts `charts.data` reads.

Times are epoch milliseconds (UTC). A trade row has `symbol`, `price`, `volume` (may be None),
`event_time` (or `event_ts`) and `ingest_time`; a ticker window row has `symbol`, `window_start`,
`window_end`, `open`/`high`/`low`/`close`, `count`, `volume`; a tweets window row has
`window_start`, `window_end`, `hashtag`, `count`. No pandas: the dashboard folds new batches into
these as they come, and the tests check them on known rows with exact numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Optional

from streamlab.errors import ConfigError
from streamlab.timefmt import fmt_time, parse_duration  # noqa: F401  (charts' own names for them)

#: quote assets worth one US dollar (Binance symbols end with one; Finnhub's have a `BINANCE:` prefix)
USD_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD")
#: other quote assets, converted with the latest <asset>USDT (or <asset>USD) price in the same data
CRYPTO_QUOTES = ("BTC", "ETH", "BNB", "SOL", "XRP", "TRY", "EUR")


# ----------------------------------------------------------------------------------------------
# time
def parse_time(text: Optional[str]) -> Optional[int]:
    """--since/--until: ISO 8601 (no zone = UTC) or epoch seconds/milliseconds -> epoch ms."""
    if text is None or text == "":
        return None
    t = text.strip()
    if t.isdigit():
        n = int(t)
        return n if n > 10**11 else n * 1000  # 10^11 s is year 5138; ms values are larger
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"cannot read the time {text!r}", "use ISO 8601 (2025-11-24T16:00, UTC unless a zone is given) or epoch seconds") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000)


def in_range(t: Optional[int], since: Optional[int], until: Optional[int]) -> bool:
    if t is None:
        return since is None and until is None
    return (since is None or t >= since) and (until is None or t < until)


def trade_time(r: dict) -> Optional[int]:
    t = r.get("event_time")
    return t if t is not None else r.get("event_ts")


def trades_in(trades: Iterable[dict], symbols=None, since=None, until=None) -> list[dict]:
    """The trades of `symbols` (all when empty) with event time in [since, until), in time order."""
    wanted = set(symbols or ())
    out = [r for r in trades if (not wanted or r.get("symbol") in wanted) and r.get("price") is not None
           and in_range(trade_time(r), since, until)]
    out.sort(key=lambda r: (trade_time(r) or 0, r.get("ingest_time") or 0))
    return out


# ----------------------------------------------------------------------------------------------
# candles and prices
@dataclass(frozen=True)
class Candle:
    start: int
    end: int
    open: float
    high: float
    low: float
    close: float
    volume: Optional[float]
    count: int
    is_open: bool = False  # from windows_open/: the window has not closed yet


def candles(closed: Iterable[dict], open_rows: Iterable[dict] = (), symbols=None, since=None, until=None) -> dict[str, list[Candle]]:
    """Per symbol, candles by window start. A closed window wins over an open one with the same
    start; among open rows (rewritten every batch while the window is open) the newest batch wins."""
    wanted = set(symbols or ())
    best: dict[tuple, tuple] = {}
    for rank, rows in ((1, closed), (0, open_rows)):
        for r in rows:
            sym = r.get("symbol")
            if (wanted and sym not in wanted) or not in_range(r.get("window_start"), since, until):
                continue
            key = (sym, r["window_start"])
            score = (rank, r.get("batch_id", 0))
            if key not in best or score >= best[key][0]:
                best[key] = (score, r, rank == 0)
    out: dict[str, list[Candle]] = {}
    for (sym, start), (_, r, is_open) in sorted(best.items()):
        out.setdefault(sym, []).append(Candle(
            start, r["window_end"], r["open"], r["high"], r["low"], r["close"], r.get("volume"), int(r.get("count") or 0), is_open,
        ))
    return out


def price_series(trades: Iterable[dict], symbols=None, since=None, until=None, max_points: Optional[int] = None) -> dict[str, list[tuple[int, float]]]:
    """Per symbol, (event time, price) in time order; with `max_points`, the time span is cut into
    that many equal buckets and each bucket keeps its last trade (a chart cannot show more)."""
    out: dict[str, list[tuple[int, float]]] = {}
    for r in trades_in(trades, symbols, since, until):
        out.setdefault(r["symbol"], []).append((trade_time(r), float(r["price"])))
    if max_points:
        out = {s: downsample(pts, max_points) for s, pts in out.items()}
    return out


def downsample(points: list[tuple[int, float]], max_points: int) -> list[tuple[int, float]]:
    if len(points) <= max_points:
        return points
    t0, t1 = points[0][0], points[-1][0]
    span = max(t1 - t0, 1)
    last: dict[int, tuple[int, float]] = {}
    for p in points:
        last[min(int((p[0] - t0) * max_points / span), max_points - 1)] = p
    return [last[k] for k in sorted(last)]


def latest_prices(trades: Iterable[dict]) -> dict[str, dict]:
    """Per symbol: first and latest price (by event time), the change between them, the trade count."""
    out: dict[str, dict] = {}
    for r in trades_in(trades):
        d = out.setdefault(r["symbol"], {"first": r["price"], "trades": 0})
        d.update(price=r["price"], time=trade_time(r))
        d["trades"] += 1
    for d in out.values():
        d["change"] = d["price"] - d["first"]
        d["change_pct"] = 100.0 * d["change"] / d["first"] if d["first"] else 0.0
    return out


# ----------------------------------------------------------------------------------------------
# units and value
def quote_of(symbol: str) -> tuple[str, str]:
    """('BTC', 'USDT') for BTCUSDT or BINANCE:BTCUSDT; ('AAPL', 'USD') when no quote is recognised
    (stocks and the synthetic ticker are priced in dollars)."""
    bare = symbol.split(":")[-1].upper().replace("-", "").replace("/", "")
    for q in USD_QUOTES + CRYPTO_QUOTES:
        if bare.endswith(q) and len(bare) > len(q):
            return bare[: -len(q)], q
    return bare, "USD"


def units_per_symbol(trades: Iterable[dict]) -> list[tuple[str, float, int]]:
    """(symbol, units traded = sum of volume, trades), most units first. Trades without volume add none."""
    units: dict[str, float] = {}
    count: dict[str, int] = {}
    for r in trades:
        s = r.get("symbol")
        if s is None:
            continue
        units[s] = units.get(s, 0.0) + float(r.get("volume") or 0.0)
        count[s] = count.get(s, 0) + 1
    return sorted(((s, units[s], count[s]) for s in units), key=lambda x: (-x[1], x[0]))


@dataclass
class Values:
    rows: list[tuple[str, float, float]]  # (symbol, value in USD, units), largest value first
    converted: dict[str, str]  # symbol -> "ETHBTC x BTCUSDT 91,236.03" for non-USD quotes
    unpriced: list[str]  # symbols whose quote asset has no USD price in the data

    @property
    def total(self) -> float:
        return sum(v for _, v, _ in self.rows)


def value_per_symbol(trades: Iterable[dict]) -> Values:
    """Value in USD per symbol: sum(price x volume) in the quote asset, times the quote's USD price.

    USD-like quotes count 1:1; other quotes use the latest <quote>USDT/<quote>USD price in the
    same trades ("stream" prices); a symbol whose quote has none is listed in `unpriced`."""
    trades = list(trades)
    quoted: dict[str, float] = {}
    units: dict[str, float] = {}
    add_value(trades, quoted, units)
    return values_in_usd(quoted, units, {s: d["price"] for s, d in latest_prices(trades).items()})


def add_value(trades: Iterable[dict], quoted: dict[str, float], units: dict[str, float]) -> None:
    """Fold trades into per-symbol sums of price x volume (in the quote asset) and of volume."""
    for r in trades:
        if r.get("volume") and r.get("price") is not None:
            quoted[r["symbol"]] = quoted.get(r["symbol"], 0.0) + float(r["price"]) * float(r["volume"])
            units[r["symbol"]] = units.get(r["symbol"], 0.0) + float(r["volume"])


def values_in_usd(quoted: dict[str, float], units: dict[str, float], latest: dict[str, float]) -> Values:
    """The sums of `add_value` in USD, converted with `latest` (symbol -> latest price)."""
    usd = {}
    for s, p in sorted(latest.items()):
        base, q = quote_of(s)
        if q in USD_QUOTES:
            usd.setdefault(base, (s, p))
    rows, converted, unpriced = [], {}, []
    for s, v in quoted.items():
        _, q = quote_of(s)
        if q in USD_QUOTES:
            rows.append((s, v, units[s]))
        elif q in usd:
            via, price = usd[q]
            rows.append((s, v * price, units[s]))
            converted[s] = f"x {via} {price:,.2f}"
        else:
            unpriced.append(s)
    rows.sort(key=lambda x: (-x[1], x[0]))
    return Values(rows, converted, sorted(unpriced))


# ----------------------------------------------------------------------------------------------
# hashtags
def hashtag_counts_from_posts(posts: Iterable[dict], window_ms: int) -> list[dict]:
    """Tumbling-window hashtag counts from tweets/ rows (`hashtags`, `event_ts`): the same rows as
    windows/, for windows consume has not closed yet."""
    counts: dict[tuple[int, str], int] = {}
    for p in posts:
        t = p.get("event_ts")
        if t is None:
            continue
        start = t - t % window_ms
        for tag in p.get("hashtags") or ():
            counts[(start, tag)] = counts.get((start, tag), 0) + 1
    return [{"window_start": s, "window_end": s + window_ms, "hashtag": h, "count": c} for (s, h), c in sorted(counts.items())]


def _by_window(rows: Iterable[dict], since=None, until=None) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for r in rows:
        if in_range(r.get("window_start"), since, until):
            w = out.setdefault(r["window_start"], {})
            w[r["hashtag"]] = max(w.get(r["hashtag"], 0), int(r["count"]))  # a rewritten window: keep one value
    return out


def _ranked(counts: dict[str, int], top: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:top]


def hashtags_per_window(rows: Iterable[dict], top: int = 10, last: int = 6, since=None, until=None) -> list[tuple[int, list[tuple[str, int]]]]:
    """The newest `last` windows, oldest first, each with its top `top` (hashtag, count), most used first."""
    windows = _by_window(rows, since, until)
    return [(start, _ranked(windows[start], top)) for start in sorted(windows)[-last:]]


def hashtag_trend(rows: Iterable[dict], top: int = 10, since=None, until=None) -> tuple[list[int], dict[str, list[int]]]:
    """Window starts, and for the `top` hashtags over all of them (by total), the count in each window."""
    windows = _by_window(rows, since, until)
    starts = sorted(windows)
    totals: dict[str, int] = {}
    for w in windows.values():
        for h, c in w.items():
            totals[h] = totals.get(h, 0) + c
    tags = [h for h, _ in _ranked(totals, top)]
    return starts, {h: [windows[s].get(h, 0) for s in starts] for h in tags}


# ----------------------------------------------------------------------------------------------
def squarify(values: list[float], x: float, y: float, w: float, h: float) -> list[tuple[float, float, float, float]]:
    """Treemap rectangles (x, y, w, h) for `values` sorted largest first (Bruls, Huizing and van Wijk's
    squarified layout: rows are added to while that keeps the worst aspect ratio from growing)."""
    total = sum(values)
    if total <= 0 or not values:
        return [(x, y, 0.0, 0.0) for _ in values]
    areas = [v * w * h / total for v in values]
    rects: list[tuple[float, float, float, float]] = []
    i = 0
    while i < len(areas):
        short = min(w, h)
        row = [areas[i]]
        while i + len(row) < len(areas) and _worst(row + [areas[i + len(row)]], short) <= _worst(row, short):
            row.append(areas[i + len(row)])
        s = sum(row)
        if w >= h:  # lay the row out as a column on the left
            cw = s / h
            yy = y
            for a in row:
                rects.append((x, yy, cw, a / cw))
                yy += a / cw
            x, w = x + cw, w - cw
        else:  # as a row along the top
            rh = s / w
            xx = x
            for a in row:
                rects.append((xx, y, a / rh, rh))
                xx += a / rh
            y, h = y + rh, h - rh
        i += len(row)
    return rects


def _worst(row: list[float], side: float) -> float:
    s = sum(row)
    if s <= 0 or side <= 0:
        return math.inf
    return max(max(side * side * a / (s * s), (s * s) / (side * side * a)) if a > 0 else math.inf for a in row)
