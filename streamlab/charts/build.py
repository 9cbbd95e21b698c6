"""From consume's output to one chart's data: read the folders a kind needs, aggregate, check it is
not empty (an empty chart is one clear line, never an empty image)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from streamlab.charts import aggregate as agg
from streamlab.charts.data import Output
from streamlab.errors import ResourceNotFound

KINDS = ("candles", "price", "hashtags", "units", "value")
TRADE_COLUMNS = ["symbol", "price", "volume", "event_time", "event_ts", "ingest_time"]


@dataclass
class Chart:
    kind: str
    title: str
    data: Any
    subtitle: str = ""
    notes: list[str] = field(default_factory=list)  # said on stderr by the command (e.g. unpriced symbols)


@dataclass
class Request:
    kind: str
    symbols: Sequence[str] = ()
    top: int = 10
    trend: bool = False
    since: Optional[int] = None
    until: Optional[int] = None
    window: str = "1m"  # hashtags counted from tweets/ when no window was written yet


def _span(req: Request) -> str:
    if req.since is None and req.until is None:
        return ""
    return f"event time {agg.fmt_time(req.since) if req.since else '...'} to {agg.fmt_time(req.until) if req.until else '...'} UTC"


def _empty(what: str, out: Output, req: Request, hint: str) -> ResourceNotFound:
    span = _span(req)
    return ResourceNotFound(f"no {what} under {out.url}" + (f" for {span}" if span else ""), hint)


def _trades(out: Output, req: Request) -> list[dict]:
    if not out.has("trades"):
        raise _empty("trades/", out, req, "point --path at the folder `consume --dataset ticker --sink parquet` writes (it holds trades/)")
    rows = agg.trades_in(out.read_all("trades", TRADE_COLUMNS), req.symbols, req.since, req.until)
    if not rows:
        which = f" of {', '.join(req.symbols)}" if req.symbols else ""
        raise _empty(f"trades{which}", out, req, "widen --since/--until or check --symbol (names as in the data, e.g. BTCUSDT)")
    return rows


def build(out: Output, req: Request) -> Chart:
    return {"candles": _candles, "price": _price, "hashtags": _hashtags, "units": _units, "value": _value}[req.kind](out, req)


def _candles(out: Output, req: Request) -> Chart:
    closed = out.read_all("windows") if out.has("windows") else []
    opened = out.read_all("windows_open") if out.has("windows_open") else []
    if closed and "symbol" not in closed[0]:
        raise ResourceNotFound(f"the windows under {out.url} are not price windows (hashtags?)", "use `streamlab chart hashtags` for the tweets dataset")
    data = agg.candles(closed, opened, req.symbols, req.since, req.until)
    if not data:
        raise _empty("windows" + (f" of {', '.join(req.symbols)}" if req.symbols else ""), out, req,
                     "consume writes a window once the watermark passes its end: let it run longer, or check --symbol/--since/--until")
    n_open = sum(c.is_open for cs in data.values() for c in cs)
    sub = f"{sum(len(c) for c in data.values())} windows" + (f", {n_open} still open (hollow)" if n_open else "")
    return Chart("candles", "Candlesticks per window: " + ", ".join(data), data, sub)


def _price(out: Output, req: Request) -> Chart:
    data = dict(sorted(agg.price_series(_trades(out, req), max_points=2000).items()))
    n = sum(len(v) for v in data.values())
    return Chart("price", "Price over time: " + ", ".join(data), data, f"{n:,} points (event time, UTC)")


def _hashtags(out: Output, req: Request) -> Chart:
    rows = out.read_all("windows") if out.has("windows") else []
    if rows and "hashtag" not in rows[0]:
        raise ResourceNotFound(f"the windows under {out.url} are price windows, not hashtags", "use `streamlab chart candles` for the ticker dataset")
    source = "windows/"
    if not rows and out.has("tweets"):  # no window closed yet: count the posts consume wrote
        rows = agg.hashtag_counts_from_posts(out.read_all("tweets", ["hashtags", "event_ts"]), agg.parse_duration(req.window))
        source = f"tweets/ in {req.window} windows"
    if req.trend:
        starts, series = agg.hashtag_trend(rows, req.top, req.since, req.until)
        if not starts:
            raise _empty("hashtag windows", out, req, "point --path at `consume --dataset tweets --sink parquet` output")
        note = ", 0 = not in that window's top N (consume writes the top N per window)" if source == "windows/" else ""
        return Chart("trend", f"Top {len(series)} hashtags over {len(starts)} windows", (starts, series), f"from {source}{note}")
    data = agg.hashtags_per_window(rows, req.top, since=req.since, until=req.until)
    if not data:
        raise _empty("hashtag windows", out, req, "point --path at `consume --dataset tweets --sink parquet` output")
    return Chart("hashtags", f"Top {req.top} hashtags per window", data, f"from {source}, newest {len(data)} window(s)")


def _volume_trades(out: Output, req: Request) -> list[dict]:
    trades = _trades(out, req)
    if not any(r.get("volume") for r in trades):
        raise _empty("trade volumes", out, req, "these trades carry no volume (the synthetic ticker has none): use a feed with volume, e.g. binance")
    return trades


def _units(out: Output, req: Request) -> Chart:
    data = agg.units_per_symbol(_volume_trades(out, req))
    trades = sum(n for _, _, n in data)
    return Chart("units", "Units traded per symbol", data, f"{trades:,} trades")


def _value(out: Output, req: Request) -> Chart:
    values = agg.value_per_symbol(_volume_trades(out, req))
    notes = [f"{s}: converted to USD {how} (the latest price in the data)" for s, how in values.converted.items()]
    if values.unpriced:
        notes.append(f"left out, no USD price for their quote asset in the data: {', '.join(values.unpriced)}")
    if not values.rows:
        raise _empty("trades with a USD price", out, req, "add a <quote>USDT symbol to the stream so its price converts the others")
    return Chart("value", "Value traded in USD per symbol", values, f"total ${values.total:,.2f}", notes)
