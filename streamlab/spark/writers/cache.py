"""The redis sink: each batch's latest price per symbol into the latest-price cache (streamlab.price_cache).

Runs on the driver in `foreachBatch`: the batch's `latest` view (one row per symbol, from the
dataset: ticker/trades) is collected, a handful of rows, and written with the cache's
compare-and-set on event time, so a batch Spark replays after a restart, or an older batch, never
moves a price backwards. It takes no windows (no windows query runs for it). The connection is
opened (and checked) in `prepare`, before the queries start.
"""

from __future__ import annotations

from streamlab import console
from streamlab.spark.writers.base import WriteContext, Writer


class RedisWriter(Writer):
    name = "redis"
    windows_mode = None

    def __init__(self, ctx: WriteContext):
        super().__init__(ctx)
        self.cache = None

    def describe(self) -> str:
        return f"the latest prices in {self.ctx.cache_url}"

    def prepare(self, spark, records_schema, windows_schema) -> None:
        from streamlab.price_cache import PriceCache

        self.cache = PriceCache.open(self.ctx.settings, self.ctx.cache_url)

    def on_records(self, good, batch_id: int) -> None:
        from streamlab.price_cache import CachedPrice

        rows = self.ctx.dataset.latest(good).select("symbol", "price", "event_time", "volume", "source").collect()
        prices = [CachedPrice(r["symbol"], r["price"], r["event_time"], r["volume"], r["source"] or "")
                  for r in rows if r["symbol"] is not None and r["price"] is not None and r["event_time"] is not None]
        written = self.cache.put(prices)
        if not self.ctx.quiet:
            older = f" ({len(prices) - written} older than the cache's, left)" if written < len(prices) else ""
            console.info(f"batch {batch_id}: cached the latest price of {written} symbols{older}")
