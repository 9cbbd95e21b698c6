"""Twitter-style posts (the socket lab): hashtags per post, counted per window, top N per window.

Input lines are a post's text (`produce tweets`, the default) or the whole post as JSON (`--format
json`: {"id", "user", "text", "created_at", "lang"}); both are accepted, line by line.
`good` rows: `text`, `user`, `hashtags` (array, lower-cased, `#` and punctuation stripped:
"#Spark!" -> "spark"), `event_ts` (the post's `created_at` for JSON, else the time the source
stamped the line, else the time it was processed) and `position`.

`windows` counts each hashtag per window on `event_ts` (tumbling, or sliding with `--slide`); the
writers show/write the top N per window (`top_per_window`, `--top`, default 10). A post with no
hashtag is kept (and counted as a post) but adds to no window.

Quarantined: an empty line, JSON that does not parse, or a JSON post without `text`.
"""

from __future__ import annotations

from typing import Optional

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from streamlab.spark.transforms._common import position, raw_text

NAME = "tweets"
WINDOWED = True
RECORDS_DIR = "tweets"
RECORD_COLUMNS = ("text", "user", "hashtags", "event_ts", "position")
WINDOW_COLUMNS = ("window_start", "window_end", "hashtag", "count")
TABLE_COLUMNS = ("window_start", "window_end", "rank", "hashtag", "count")
#: what identifies a window row (the console keeps the newest value per key)
WINDOW_KEY = ("window_start", "hashtag")
DEFAULT_WINDOW = "1 minute"
DEFAULT_WATERMARK = "30 seconds"
DEFAULT_TOP = 10
POST_SCHEMA = "id STRING, user STRING, text STRING, created_at STRING, lang STRING, _corrupt STRING"
# letters and digits of any script, and underscore: Java's \w is ASCII-only
HASHTAG = r"#([\p{L}\p{N}_]+)"


def parse(raw: DataFrame) -> DataFrame:
    arrival = F.col("arrival") if "arrival" in raw.columns else F.lit(None).cast("timestamp")
    df = raw.select(raw_text(raw).alias("_raw"), position(raw).alias("position"), arrival.alias("_arrival"))
    trimmed = F.ltrim(F.col("_raw"))
    is_json = trimmed.startswith("{")
    post = F.from_json(F.when(is_json, F.col("_raw")), POST_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"})
    df = df.withColumn("_post", post)
    text = F.when(is_json, F.col("_post.text")).otherwise(F.col("_raw"))
    created = F.expr("try_to_timestamp(_post.created_at)")  # Spark 3.5+; a bad date is null, not a failure
    event_ts = F.coalesce(created, F.col("_arrival"), F.current_timestamp())
    error = (
        F.when(F.col("_raw").isNull() | (F.trim(F.col("_raw")) == ""), F.lit("empty line"))
        .when(is_json & (F.col("_post").isNull() | F.col("_post._corrupt").isNotNull()), F.lit("not JSON"))
        .when(is_json & F.col("_post.text").isNull(), F.lit("JSON post without text"))
    )
    tags = F.transform(F.expr(f"regexp_extract_all(_raw_text, '{_sql(HASHTAG)}', 1)"), lambda t: F.lower(t))
    df = df.withColumn("_raw_text", text)
    return df.select(
        F.col("_raw_text").alias("text"),
        F.col("_post.user").alias("user"),
        tags.alias("hashtags"),
        event_ts.alias("event_ts"),
        "position",
        "_raw",
        error.alias("_error"),
    )


def _sql(pattern: str) -> str:
    return pattern.replace("\\", "\\\\").replace("'", "\\'")


def good(parsed: DataFrame) -> DataFrame:
    return parsed.where(F.col("_error").isNull()).select(*RECORD_COLUMNS)


def quarantine(parsed: DataFrame) -> DataFrame:
    return parsed.where(F.col("_error").isNotNull()).select(F.col("_raw").alias("raw"), F.col("_error").alias("reason"), "position")


def windows(good_df: DataFrame, window: str = DEFAULT_WINDOW, watermark: str = DEFAULT_WATERMARK, slide: Optional[str] = None) -> DataFrame:
    """Hashtag counts per (window, hashtag)."""
    df = good_df
    if df.isStreaming:
        df = df.withWatermark("event_ts", watermark)
    tags = df.select("event_ts", F.explode("hashtags").alias("hashtag"))
    w = F.window("event_ts", window, slide) if slide else F.window("event_ts", window)
    agg = tags.groupBy(w.alias("w"), "hashtag").agg(F.count(F.lit(1)).alias("count"))
    return agg.select(F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"), "hashtag", "count")


def top_per_window(counts: DataFrame, n: int = DEFAULT_TOP) -> DataFrame:
    """The `n` most used hashtags of each window (a static DataFrame: a batch, or what was read back)."""
    ranked = counts.withColumn(
        "rank", F.row_number().over(Window.partitionBy("window_start").orderBy(F.desc("count"), F.asc("hashtag")))
    )
    return ranked.where(F.col("rank") <= n).select("window_start", "window_end", "rank", "hashtag", "count")
