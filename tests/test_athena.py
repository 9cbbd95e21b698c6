"""`streamlab athena-ddl`: the tables match what Spark writes for every dataset."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark35  # also run under pyspark 3.5 (make test-spark35)

from streamlab.athena import TABLES, columns

SPARK_TO_ATHENA = {"string": "string", "int": "int", "bigint": "bigint", "boolean": "boolean", "date": "date",
                   "timestamp": "timestamp", "double": "double", "array<string>": "array<string>"}


@pytest.mark.spark
@pytest.mark.parametrize("dataset", sorted(TABLES))
def test_columns_are_the_written_schema(spark, dataset):
    from streamlab.spark.datasets import create

    t = create(dataset)
    raw = spark.createDataFrame([], "data binary, key string, position string, arrival timestamp")
    good = t.good(t.parse(raw))
    assert [(c, SPARK_TO_ATHENA[ty]) for c, ty in good.dtypes] == columns(dataset)
    if t.has_windows:
        w = t.windows(good)
        if t.has_top:
            w = t.top_per_window(w)
        assert [(c, SPARK_TO_ATHENA[ty]) for c, ty in w.dtypes] == columns(dataset, kind="_windows")


def test_reviews_ddl_for_the_lab(run_cli):
    r = run_cli("athena-ddl", "--dataset", "reviews", "--path", "s3a://hwe-fall/me/bronze/reviews", "--table", "bronze_reviews",
                "--date-column", "purchase_date")
    assert r.code == 0, r.err
    out = r.out
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS bronze_reviews (\n  `marketplace` string,\n  `customer_id` int," in out
    assert "  `purchase_date` date,\n  `review_timestamp` timestamp\n)\nPARTITIONED BY (\n  `batch_id` bigint\n)\nSTORED AS PARQUET\nLOCATION 's3://hwe-fall/me/bronze/reviews/';" in out
    assert "MSCK REPAIR TABLE bronze_reviews;" in out
    assert "GROUP BY star_rating" in out and "max(review_timestamp)" in out
    assert "SELECT product_title, count(*) AS reviews FROM bronze_reviews GROUP BY product_title ORDER BY reviews DESC LIMIT 10;" in out
    assert "LOCATION 's3://hwe-fall/me/bronze/reviews/_quarantine/';" in out


def test_partition_by_and_bad_input(run_cli):
    r = run_cli("athena-ddl", "--dataset", "reviews", "--path", "s3://b/p", "--partition-by", "star_rating")
    assert "PARTITIONED BY (\n  `batch_id` bigint,\n  `star_rating` int\n)" in r.out
    assert "  `star_rating` int,\n" not in r.out.split("PARTITIONED")[0]  # a partition column is not repeated
    r = run_cli("athena-ddl", "--dataset", "reviews", "--path", "./local")
    assert r.code != 0 and "is not an S3 location" in r.err and r.err.strip().count("\n") == 0
    r = run_cli("athena-ddl", "--dataset", "reviews", "--path", "s3://b/p", "--table", "bad-name")
    assert r.code != 0 and "not a plain identifier" in r.err
