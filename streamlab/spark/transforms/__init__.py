"""Per-dataset DataFrame transforms: dataset name -> module.

Each module exposes `parse(raw) -> parsed` (every row, with `_error` null for good rows),
`trades(parsed)` / `quarantine(parsed)` (the good rows and the unusable ones, with `raw` and
`reason`), `windows(good, window, watermark)` (the streaming aggregate) and `TABLE_COLUMNS` (what
the console shows). A new dataset (reviews, tweets) is a new module and one line here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The synthetic ticker and live trades (Finnhub, Binance) share one wire form (streamlab.records).
TRANSFORMS: dict[str, str] = {
    "ticker": "streamlab.spark.transforms.ticker",
    "trades": "streamlab.spark.transforms.ticker",
}


def get(dataset: str) -> ModuleType:
    return importlib.import_module(TRANSFORMS[dataset])
