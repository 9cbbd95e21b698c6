"""Helpers shared by the dataset transforms."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def raw_text(raw: DataFrame):
    """The record as text, from any reader's shape (`data` binary) or Spark's own (`value`)."""
    return F.col("data").cast("string") if "data" in raw.columns else F.col("value").cast("string")


def position(raw: DataFrame):
    return F.col("position") if "position" in raw.columns else F.lit(None).cast("string")
