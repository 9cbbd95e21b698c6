"""Datasets, registered by name: how a consume run parses, splits, windows and names its rows.

Each dataset is one small class with the protocol in `base.Dataset` (parse, good/quarantine,
optional windows, top-N and latest view, the outputs it writes with their schemas). A new dataset
is one module plus one line here. No pyspark import here: the CLI reads DATASETS for its choices.
"""

from __future__ import annotations

from typing import Any

from streamlab.errors import ConfigError
from streamlab.spark.datasets.base import QUARANTINE_COLUMNS, Columns, Dataset, Table
from streamlab.spark.datasets.raw import RawDataset
from streamlab.spark.datasets.reviews import ReviewsDataset
from streamlab.spark.datasets.ticker import TickerDataset
from streamlab.spark.datasets.tweets import TweetsDataset

DATASETS: dict[str, type[Dataset]] = {cls.name: cls for cls in (TickerDataset, ReviewsDataset, TweetsDataset, RawDataset)}
# live trades (Finnhub, Binance) share the synthetic ticker's wire form (streamlab.records)
DATASETS["trades"] = TickerDataset


def create(name: str, **options: Any) -> Dataset:
    """The dataset `name`, built with the options it takes (`Dataset.options`); others are ignored,
    so one call serves every dataset: `create(name, date_column=..., top=...)`."""
    cls = DATASETS.get(name)
    if cls is None:
        raise ConfigError(f"unknown dataset {name!r}", f"choose one of: {', '.join(sorted(DATASETS))}")
    return cls(**{k: v for k, v in options.items() if k in cls.options})


__all__ = ["DATASETS", "QUARANTINE_COLUMNS", "Columns", "Dataset", "RawDataset", "ReviewsDataset", "Table", "TickerDataset",
           "TweetsDataset", "create"]
