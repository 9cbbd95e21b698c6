"""Trades and ticks (the synthetic ticker, Finnhub, Binance): parse, window per symbol.

Pure DataFrame functions, the same for batch and streaming input. The input is what every reader
returns: a `data` binary column holding one record (see `streamlab.records`), plus `position`
(sequence number / offset) and `arrival` where the source has them.

`parse` reads streamlab's wire form and the providers' own messages (`trade_shapes`: Finnhub,
raw Binance trade events, Binance's combined-stream wrapper), one row per trade, and says why a
row is unusable in `_error` (null for a good row): `not JSON`, `not a JSON object` (an array),
`JSON, but not a trade: keys ...`, `missing fields: ...` (symbol, price and event_time are
required; volume may be null), `price is not a number`, a price that is not positive and finite,
a negative volume, an empty symbol, and an implausible event time (before 2000, or more than
`max_future` seconds ahead of the record's arrival: one such clock would otherwise move the
watermark years ahead and silently end all windowed output). `good` and `quarantine` split on
it, so nothing is dropped silently; a Finnhub ping is counted as skipped.

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

from streamlab.spark.datasets import trade_shapes
from streamlab.spark.datasets.base import SKIPPED, Dataset, position, raw_text

#: an event time further than this ahead of the record's arrival is refused (`--max-future`)
DEFAULT_MAX_FUTURE_S = 3600.0


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

    options = ("max_future",)

    def __init__(self, max_future: float = DEFAULT_MAX_FUTURE_S):
        self.max_future = float(max_future)

    def parse(self, raw):
        """Every input record, parsed into its trades (see `trade_shapes`): the wire fields, `event_ts`,
        `_raw` (the text), `_error` (null if good; `skipped: ...` for a Finnhub ping) and `_records`
        (1 on the first row of each input record, so a Finnhub message of 3 trades counts once)."""
        df = raw
        for stage in self._parse_stages(tuple(raw.columns)):
            df = df.select(*stage)
        return df

    def _parse_stages(self, columns: tuple) -> list:
        """The column lists `parse` selects, one per stage, built once per input shape: building the
        expression is a few hundred calls into the JVM (about a second on 2 cores), and a run parses
        every batch with the same one."""
        cache = self.__dict__.setdefault("_stages", {})
        if columns not in cache:
            cache[columns] = self._build_stages(columns)
        return cache[columns]

    def _build_stages(self, columns: tuple) -> list:
        from pyspark.sql import functions as F

        reference = F.coalesce(F.col("arrival"), F.current_timestamp()) if "arrival" in columns else F.current_timestamp()
        t = trade_shapes.typed(F, "_c", self.max_future, F.col("_ref"))
        error = F.when(F.col("_c").isNull(), F.lit(SKIPPED + "no trade in the message (a ping)")).otherwise(t["_error"])
        usable = F.col("_error").isNull()  # only a usable trade has an event time (a bad one may be years off)
        return [
            [raw_text(columns).alias("_raw"), position(columns).alias("position"), reference.alias("_ref")],
            ["*", F.posexplode_outer(trade_shapes.candidates(F, F.col("_raw"))).alias("_pos", "_c")],
            ["*", error.alias("_error")],
            [
                t["symbol"].alias("symbol"),
                t["price"].alias("price"),
                t["volume"].alias("volume"),
                F.when(usable, F.timestamp_millis(t["event_time"])).alias("event_ts"),
                F.when(usable, t["event_time"]).alias("event_time"),
                t["ingest_time"].alias("ingest_time"),
                t["source"].alias("source"),
                t["trade_id"].alias("trade_id"),
                "position",
                "_raw",
                "_error",
                F.when(F.coalesce(F.col("_pos"), F.lit(0)) == 0, 1).otherwise(0).alias("_records"),
            ],
        ]

    def latest(self, good):
        """Per symbol: the price and time of its newest trade (by event time, then ingest time) and the
        trade count; also that trade's volume, source and event time in ms (what the Redis sink caches)."""
        from pyspark.sql import functions as F

        order = F.struct("event_ts", "ingest_time")
        return good.groupBy("symbol").agg(
            F.max_by("price", order).alias("price"),
            F.max("event_ts").alias("event_ts"),
            F.count(F.lit(1)).alias("trades"),
            F.max_by("volume", order).alias("volume"),
            F.max_by("source", order).alias("source"),
            F.max("event_time").alias("event_time"),
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
