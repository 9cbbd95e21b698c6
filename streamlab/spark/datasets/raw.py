"""No parsing, for exploring a stream: each record's value as text plus what the source knows of it.

`good` rows: `value` (the record decoded as UTF-8; undecodable bytes become U+FFFD), `key`,
`position` (sequence number, `partition:offset`, or file path) and `arrival` (the time the service
stamped, null when the source has none). Nothing is quarantined and there are no windows.
"""

from __future__ import annotations

from streamlab.spark.datasets.base import Dataset, position, raw_text


class RawDataset(Dataset):
    name = "raw"
    records_dir = "records"
    record_columns = (("value", "string"), ("key", "string"), ("position", "string"), ("arrival", "timestamp"))
    table_columns = ("position", "key", "arrival", "value")

    def parse(self, raw):
        from pyspark.sql import functions as F

        key = F.col("key") if "key" in raw.columns else F.lit(None).cast("string")
        arrival = F.col("arrival") if "arrival" in raw.columns else F.lit(None).cast("timestamp")
        return raw.select(
            raw_text(raw).alias("value"),
            key.alias("key"),
            position(raw).alias("position"),
            arrival.alias("arrival"),
            F.lit(None).cast("string").alias("_raw"),
            F.lit(None).cast("string").alias("_error"),
        )

    def good(self, parsed):
        return parsed.select(*self.record_names)  # nothing is ever unusable

    def quarantine(self, parsed):
        from pyspark.sql import functions as F

        return parsed.where(F.lit(False)).select(F.col("_raw").alias("raw"), F.col("_error").alias("reason"), "position")
