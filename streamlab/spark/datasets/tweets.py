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

from streamlab.spark.datasets.base import Dataset, position, raw_text

DEFAULT_TOP = 10
POST_SCHEMA = "id STRING, user STRING, text STRING, created_at STRING, lang STRING, _corrupt STRING"
# letters and digits of any script, and underscore: Java's \w is ASCII-only
HASHTAG = r"#([\p{L}\p{N}_]+)"


class TweetsDataset(Dataset):
    name = "tweets"
    records_dir = "tweets"
    record_columns = (("text", "string"), ("user", "string"), ("hashtags", "array<string>"), ("event_ts", "timestamp"), ("position", "string"))
    table_columns = ("window_start", "window_end", "rank", "hashtag", "count")
    options = ("top",)

    has_windows = True
    window_key = ("window_start", "hashtag")  # the console keeps the newest value per key
    #: what windows/ holds: the top N of each window, ranked
    window_columns = (("window_start", "timestamp"), ("window_end", "timestamp"), ("rank", "int"), ("hashtag", "string"), ("count", "bigint"))
    default_window = "1 minute"
    default_watermark = "30 seconds"
    has_top = True

    def __init__(self, *, top: int = DEFAULT_TOP):
        self.top = top

    def parse(self, raw):
        from pyspark.sql import functions as F

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

    def windows(self, good, window: Optional[str] = None, watermark: Optional[str] = None, slide: Optional[str] = None):
        """Hashtag counts per (window, hashtag)."""
        from pyspark.sql import functions as F

        window, df = window or self.default_window, good
        if df.isStreaming:
            df = df.withWatermark("event_ts", watermark or self.default_watermark)
        tags = df.select("event_ts", F.explode("hashtags").alias("hashtag"))
        w = F.window("event_ts", window, slide) if slide else F.window("event_ts", window)
        agg = tags.groupBy(w.alias("w"), "hashtag").agg(F.count(F.lit(1)).alias("count"))
        return agg.select(F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"), "hashtag", "count")

    def top_per_window(self, windows):
        """The `top` most used hashtags of each window (a static DataFrame: a batch, or what was read back)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        order = Window.partitionBy("window_start").orderBy(F.desc("count"), F.asc("hashtag"))
        ranked = windows.withColumn("rank", F.row_number().over(order))
        return ranked.where(F.col("rank") <= self.top).select(*(c for c, _ in self.window_columns))


def _sql(pattern: str) -> str:
    return pattern.replace("\\", "\\\\").replace("'", "\\'")
