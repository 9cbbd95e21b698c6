"""Amazon-review TSV lines (the Kafka lab): split into the 15 named columns, typed, timestamped.

Input: any reader's shape (`data` holds one TSV line, as `streamlab produce reviews` sends it).
Output (`good`), 16 columns in this order: marketplace, customer_id (int), review_id, product_id,
product_parent (bigint), product_title, product_category, star_rating, helpful_votes, total_votes
(int), vine, verified_purchase (boolean: Y/N), review_headline, review_body, review_date (date; or
`purchase_date` with `--date-column purchase_date`, the course's name for it) and
`review_timestamp`, the time the consumer processed the row (the lab's "when did we see it").

Quarantined (`raw` + `reason`), never dropped or fatal:
  - `expected 15 tab-separated fields, got N` (a cut or merged line),
  - `header row` (the TSV header sent as a record),
  - `bad values: star_rating, vine, ...` (a number, Y/N flag or yyyy-MM-dd date that does not parse;
    a bare year is not a date),
  - `every field is empty`, `star_rating is not 1 to 5`, `negative votes`,
    `helpful_votes is more than total_votes` (values that parse but cannot be a review).
Empty optional text fields stay empty strings; an empty number or date is null, not an error.
No windows: reviews are written as they come, straight under --path (the lab's bronze folder).
"""

from __future__ import annotations

from streamlab.errors import ConfigError
from streamlab.records import REVIEW_COLUMNS as COLUMNS
from streamlab.spark.datasets.base import Dataset, position, raw_text

#: column -> Spark SQL type (everything else is a string)
TYPES = {
    "customer_id": "int",
    "product_parent": "bigint",
    "star_rating": "int",
    "helpful_votes": "int",
    "total_votes": "int",
    "vine": "boolean",
    "verified_purchase": "boolean",
    "review_date": "date",
}
DATE_COLUMNS = ("review_date", "purchase_date")


class ReviewsDataset(Dataset):
    name = "reviews"
    records_dir = ""
    table_columns = ("review_id", "star_rating", "product_category", "product_title", "review_date", "review_timestamp")
    options = ("date_column",)

    def __init__(self, *, date_column: str = "review_date"):
        if date_column not in DATE_COLUMNS:
            raise ConfigError(f"--date-column {date_column!r} is not supported", "use review_date or purchase_date")
        self.date_column = date_column
        cols = [(self._out(c), TYPES.get(c, "string")) for c in COLUMNS]
        self.record_columns = (*cols, ("review_timestamp", "timestamp"))

    def _out(self, name: str) -> str:
        return self.date_column if name == "review_date" else name

    def parse(self, raw):
        """Every input row: the 16 columns, `position`, `_raw` and `_error` (null for a good row)."""
        from pyspark.sql import functions as F

        df = raw.select(raw_text(raw).alias("_raw"), position(raw).alias("position"))
        parts = F.split(F.col("_raw"), "\t", -1)
        df = df.withColumn("_n", F.size(parts))
        df = df.select("*", *[F.get(parts, F.lit(i)).alias(f"_f{i}") for i in range(len(COLUMNS))])
        typed = {name: _typed(F.col(f"_f{i}"), i, name) for i, name in enumerate(COLUMNS)}
        bad = F.concat_ws(", ", *[
            F.when((F.trim(F.col(f"_f{i}")) != "") & typed[name].isNull(), F.lit(name))
            for i, name in enumerate(COLUMNS) if name in TYPES
        ])
        error = (
            F.when(F.col("_raw").isNull(), F.lit("empty record"))
            .when(F.col("_n") != len(COLUMNS), F.concat(F.lit(f"expected {len(COLUMNS)} tab-separated fields, got "), F.col("_n").cast("string")))
            .when((F.col("_f0") == "marketplace") & (F.col("_f2") == "review_id"), F.lit("header row"))
            .when(bad != "", F.concat(F.lit("bad values: "), bad))
            .when(F.length(F.regexp_replace(F.col("_raw"), "[\\t\\s]", "")) == 0, F.lit("every field is empty"))
            .when(~typed["star_rating"].between(1, 5), F.lit("star_rating is not 1 to 5"))
            .when((typed["helpful_votes"] < 0) | (typed["total_votes"] < 0), F.lit("negative votes"))
            .when(typed["helpful_votes"] > typed["total_votes"], F.lit("helpful_votes is more than total_votes"))
        )
        out = [typed[name].cast(TYPES.get(name, "string")).alias(self._out(name)) for name in COLUMNS]
        return df.select(*out, F.current_timestamp().alias("review_timestamp"), "position", "_raw", error.alias("_error"))


def _typed(field, index: int, name: str):
    from pyspark.sql import functions as F

    kind = TYPES.get(name, "string")
    if kind == "string":
        return field
    if kind == "boolean":
        up = F.upper(F.trim(field))
        return F.when(up == "Y", F.lit(True)).when(up == "N", F.lit(False))
    if kind == "date":  # yyyy-MM-dd only: a bare year ("2015") would cast to 2015-01-01
        text = F.trim(field)
        return F.when(text.rlike(r"^\d{4}-\d{1,2}-\d{1,2}$"), F.expr(f"try_cast(trim(`_f{index}`) as date)"))
    # try_cast: a bad value becomes null (and is reported below) instead of failing the batch (ANSI mode)
    return F.expr(f"try_cast(trim(`_f{index}`) as {kind})")
