"""Trades and ticks (the synthetic ticker, Finnhub, Binance): parse the wire form, window per symbol.

Pure DataFrame functions, the same for batch and streaming input. The input is what every reader
returns: a `data` binary column holding one record's wire form (see `streamlab.records`), plus
`position` (sequence number / offset) and `arrival` where the source has them.

`parse` keeps every input row and says why a row is unusable in `_error` (null for a good row):
`not JSON` (also a JSON value of the wrong type, e.g. a price of "abc"), `not a JSON object` (an array),
`missing fields: ...` (symbol, price and event_time are required; volume may be null). `good`
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

from streamlab.spark.datasets.base import Dataset

REQUIRED = ("symbol", "price", "event_time")
WIRE_SCHEMA = (
    "source STRING, symbol STRING, price DOUBLE, volume DOUBLE, event_time LONG, ingest_time LONG, "
    "trade_time LONG, trade_id STRING, conditions ARRAY<STRING>, _corrupt STRING"
)


class TickerDataset(Dataset):
    name = "ticker"
    records_dir = "trades"
    record_columns = (
        ("symbol", "string"), ("price", "double"), ("volume", "double"), ("event_ts", "timestamp"), ("event_time", "bigint"),
        ("ingest_time", "bigint"), ("source", "string"), ("trade_id", "string"), ("position", "string"),
    )
    #: what the console table shows, in order
    table_columns = ("symbol", "window_start", "window_end", "open", "high", "low", "close", "count", "vwap")

    has_windows = True
    window_key = ("symbol", "window_start")  # the console keeps the newest value per key
    window_columns = (
        ("symbol", "string"), ("window_start", "timestamp"), ("window_end", "timestamp"), ("open", "double"), ("high", "double"),
        ("low", "double"), ("close", "double"), ("count", "bigint"), ("volume", "double"), ("vwap", "double"),
    )
    default_window = "1 minute"
    default_watermark = "30 seconds"

    has_latest = True
    latest_columns = ("symbol", "price", "event_ts", "trades")

    def parse(self, raw):
        """Every input row, parsed: the wire fields, `event_ts`, `_raw` (the text) and `_error` (null if good)."""
        from pyspark.sql import functions as F

        cols = set(raw.columns)
        text = F.col("data").cast("string") if "data" in cols else F.col("value").cast("string")
        position = F.col("position") if "position" in cols else F.lit(None).cast("string")
        df = raw.select(text.alias("_raw"), position.alias("position"))
        parsed = F.from_json("_raw", WIRE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"})
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

    def latest(self, good):
        """Per symbol: the price and time of its newest trade (by event time, then ingest time) and the trade count."""
        from pyspark.sql import functions as F

        order = F.struct("event_ts", "ingest_time")
        return good.groupBy("symbol").agg(
            F.max_by("price", order).alias("price"),
            F.max("event_ts").alias("event_ts"),
            F.count(F.lit(1)).alias("trades"),
        )

    def windows(self, good, window: Optional[str] = None, watermark: Optional[str] = None, slide: Optional[str] = None):
        """Windows per symbol: open/high/low/close/count/volume/vwap (see the module docstring)."""
        from pyspark.sql import functions as F

        window, df = window or self.default_window, good
        if df.isStreaming:
            df = df.withWatermark("event_ts", watermark or self.default_watermark)
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
            "symbol", F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"),
            "open", "high", "low", "close", "count", "volume", (F.col("_pv") / F.col("volume")).alias("vwap"),
        )
