"""Per-dataset DataFrame transforms: dataset name -> module.

Each module exposes `parse(raw) -> parsed` (every row, with `_error` null for good rows),
`good(parsed)` / `quarantine(parsed)` (the rows written, and the unusable ones with `raw` and
`reason`), `RECORDS_DIR` (the folder under --path the good rows go to; "" = --path itself),
`TABLE_COLUMNS` (what the console shows), and `WINDOWED`: when true, also
`windows(good, window, watermark, slide)` (the streaming aggregate) and `WINDOW_KEY`.
A new dataset is a new module and one line here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The synthetic ticker and live trades (Finnhub, Binance) share one wire form (streamlab.records).
TRANSFORMS: dict[str, str] = {
    "ticker": "streamlab.spark.transforms.ticker",
    "trades": "streamlab.spark.transforms.ticker",
    "reviews": "streamlab.spark.transforms.reviews",
    "tweets": "streamlab.spark.transforms.tweets",
    "raw": "streamlab.spark.transforms.raw",
}


def get(dataset: str) -> ModuleType:
    return importlib.import_module(TRANSFORMS[dataset])
