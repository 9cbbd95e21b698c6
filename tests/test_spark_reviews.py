"""The reviews dataset on batch frames: values that parse but cannot be a review are quarantined
with their reason (issue 18 item 2); the shipped sample parses whole."""

from __future__ import annotations

import gzip

import pytest

from streamlab.spark.datasets.reviews import ReviewsDataset
from streamlab.sources.reviews import sample_path

pytestmark = [pytest.mark.spark, pytest.mark.spark35]

GOOD = ["US", "30754230", "ROLQWLFMQMC98K", "B00X", "437859380", "A title", "Books", "5", "2", "3", "N", "Y",
        "Great", "Loved it", "2010-01-12"]


def line(**changes) -> str:
    fields = list(GOOD)
    for name, value in changes.items():
        fields[["marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title",
                "product_category", "star_rating", "helpful_votes", "total_votes", "vine", "verified_purchase",
                "review_headline", "review_body", "review_date"].index(name)] = value
    return "\t".join(fields)


def errors(spark, lines):
    df = spark.createDataFrame([(x.encode(),) for x in lines], "data BINARY")
    return [r["_error"] for r in ReviewsDataset().parse(df).collect()]


@pytest.mark.parametrize("text, reason", [
    (line(), None),
    (line(star_rating="0"), "star_rating is not 1 to 5"),
    (line(star_rating="6"), "star_rating is not 1 to 5"),
    (line(helpful_votes="-1"), "negative votes"),
    (line(helpful_votes="9", total_votes="3"), "helpful_votes is more than total_votes"),
    ("\t" * 14, "every field is empty"),
    (line(review_date="2015"), "bad values: review_date"),
    (line(review_date="2015-13-01"), "bad values: review_date"),
])
def test_review_values_are_checked(spark, text, reason):
    assert errors(spark, [text]) == [reason]


def test_the_shipped_sample_is_all_good(spark):
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()[1:]  # the header row is not a review
    got = errors(spark, lines)
    assert len(got) == 5000 and set(got) == {None}
