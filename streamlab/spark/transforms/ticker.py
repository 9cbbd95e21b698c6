"""Trades and ticks (the synthetic ticker, Finnhub, Binance): parse the wire form, window per symbol.

Pure DataFrame functions, the same for batch and streaming input. The input is what every reader
returns: a `data` binary column holding one record's wire form (see `streamlab.records`), plus
`position` (sequence number / offset) and `arrival` where the source has them.

`parse` keeps every input row and says why a row is unusable in `_error` (null for a good row):
`not JSON` (also a JSON value of the wrong type, e.g. a price of "abc"), `not a JSON object` (an array),
`missing fields: ...` (symbol, price and event_time are required; volume may be null). `trades`
and `quarantine` split on it, so nothing is dropped silently.

`windows` makes tumbling windows per symbol on event time (default 1 minute; sliding with `slide`,
e.g. `--window 1m --slide 10s`: each trade then counts in every window that covers it) with open, high, low,
close (first/last price by event time), count, volume and VWAP (sum(price*volume)/sum(volume) over
the trades that carry a volume; null when none do, as for the synthetic ticker). A watermark
(default 30 seconds) bounds the state: trades later than that behind the newest event time seen are
ignored by the windows (they are still written as trades).

`latest` is the per-symbol latest-price view (price and time of each symbol's newest trade), for
the console table and the memory sink's `<name>_latest` view.
"""

from __future__ import annotations

from typing import Optional

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

NAME = "ticker"
REQUIRED = ("symbol", "price", "event_time")
WIRE_SCHEMA = (
    "source STRING, symbol STRING, price DOUBLE, volume DOUBLE, event_time LONG, ingest_time LONG, "
    "trade_time LONG, trade_id STRING, conditions ARRAY<STRING>, _corrupt STRING"
)
TRADE_COLUMNS = (
    "symbol", "price", "volume", "event_ts", "event_time", "ingest_time", "source", "trade_id", "position",
)
WINDOW_COLUMNS = ("symbol", "window_start", "window_end", "open", "high", "low", "close", "count", "volume", "vwap")
#: what the console table shows, in order
TABLE_COLUMNS = ("symbol", "window_start", "window_end", "open", "high", "low", "close", "count", "vwap")
WINDOWED = True
RECORDS_DIR = "trades"
#: what identifies a window row (the console keeps the newest value per key)
WINDOW_KEY = ("symbol", "window_start")
LATEST_COLUMNS = ("symbol", "price", "event_ts", "trades")
DEFAULT_WINDOW = "1 minute"
DEFAULT_WATERMARK = "30 seconds"


def parse(raw: DataFrame) -> DataFrame:
    """Every input row, parsed: the wire fields, `event_ts`, `_raw` (the text) and `_error` (null if good)."""
    cols = set(raw.columns)
    text = F.col("data").cast("string") if "data" in cols else F.col("value").cast("string")
    position = F.col("position") if "position" in cols else F.lit(None).cast("string")
    df = raw.select(text.alias("_raw"), position.alias("position"))
    parsed = F.from_json(
        "_raw", WIRE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"}
    )
    df = df.withColumn("_p", parsed)
    missing = F.concat_ws(", ", *[F.when(F.col(f"_p.{f}").isNull(), F.lit(f)) for f in REQUIRED])
    trimmed = F.ltrim(F.col("_raw"))
    error = (
        F.when(F.col("_raw").isNull() | (F.col("_p").isNull()), F.lit("not JSON"))
        # a JSON array (e.g. a provider's batch forwarded whole) is the usual non-object
        .when(F.col("_p._corrupt").isNotNull() & trimmed.startswith("["), F.lit("not a JSON object"))
        .when(F.col("_p._corrupt").isNotNull(), F.lit("not JSON"))
        .when(missing != "", F.concat(F.lit("missing fields: "), missing))
    )
    return df.select(
        F.col("_p.symbol").alias("symbol"),
        F.col("_p.price").alias("price"),
        F.col("_p.volume").alias("volume"),
        F.timestamp_millis(F.col("_p.event_time")).alias("event_ts"),
        F.col("_p.event_time").alias("event_time"),
        F.col("_p.ingest_time").alias("ingest_time"),
        F.col("_p.source").alias("source"),
        F.col("_p.trade_id").alias("trade_id"),
        "position",
        "_raw",
        error.alias("_error"),
    )


def trades(parsed: DataFrame) -> DataFrame:
    """The good rows, without the bookkeeping columns."""
    return parsed.where(F.col("_error").isNull()).select(*TRADE_COLUMNS)


good = trades  # the name every dataset module uses


def latest(trades_df: DataFrame) -> DataFrame:
    """Per symbol: the price and time of its newest trade (by event time, then ingest time) and the trade count."""
    order = F.struct("event_ts", "ingest_time")
    return trades_df.groupBy("symbol").agg(
        F.max_by("price", order).alias("price"),
        F.max("event_ts").alias("event_ts"),
        F.count(F.lit(1)).alias("trades"),
    )


def quarantine(parsed: DataFrame) -> DataFrame:
    """The unusable rows: `raw` (the record as received), `reason`, `position`."""
    return parsed.where(F.col("_error").isNotNull()).select(
        F.col("_raw").alias("raw"), F.col("_error").alias("reason"), "position"
    )


def windows(trades_df: DataFrame, window: str = DEFAULT_WINDOW, watermark: str = DEFAULT_WATERMARK, slide: Optional[str] = None) -> DataFrame:
    """Windows per symbol: open/high/low/close/count/volume/vwap (see the module docstring)."""
    df = trades_df
    if df.isStreaming:
        df = df.withWatermark("event_ts", watermark)
    has_volume = F.col("volume").isNotNull() & (F.col("volume") > 0)
    # order by (event time, ingest time) so ties between trades of the same millisecond are stable
    order = F.struct("event_ts", "ingest_time")
    w = F.window("event_ts", window, slide) if slide else F.window("event_ts", window)
    agg = df.groupBy("symbol", w.alias("w")).agg(
        F.min_by("price", order).alias("open"),
        F.max("price").alias("high"),
        F.min("price").alias("low"),
        F.max_by("price", order).alias("close"),
        F.count(F.lit(1)).alias("count"),
        F.sum(F.when(has_volume, F.col("volume"))).alias("volume"),
        F.sum(F.when(has_volume, F.col("price") * F.col("volume"))).alias("_pv"),
    )
    return agg.select(
        "symbol",
        F.col("w.start").alias("window_start"),
        F.col("w.end").alias("window_end"),
        "open",
        "high",
        "low",
        "close",
        "count",
        "volume",
        (F.col("_pv") / F.col("volume")).alias("vwap"),
    )
