"""No parsing, for exploring a stream: each record's value as text plus what the source knows of it.

`good` rows: `value` (the record decoded as UTF-8; undecodable bytes become U+FFFD), `key`,
`position` (sequence number, `partition:offset`, or file path) and `arrival` (the time the service
stamped, null when the source has none). Nothing is quarantined and there are no windows.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from streamlab.spark.transforms._common import position, raw_text

NAME = "raw"
WINDOWED = False
RECORDS_DIR = "records"
TABLE_COLUMNS = ("position", "key", "arrival", "value")
DEFAULT_WINDOW = None
DEFAULT_WATERMARK = None


def parse(raw: DataFrame) -> DataFrame:
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


def good(parsed: DataFrame) -> DataFrame:
    return parsed.select("value", "key", "position", "arrival")


def quarantine(parsed: DataFrame) -> DataFrame:
    return parsed.where(F.lit(False)).select(F.col("_raw").alias("raw"), F.col("_error").alias("reason"), "position")
