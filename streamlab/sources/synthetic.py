"""Synthetic stock ticker: the random walk from the serverless lab.

Five indices by default, `Index_1`..`Index_5` starting at 100, 90, 80, 70, 60. Each record is one
step of one symbol (round-robin), a small random move of at most 0.5 % of the price, rounded to
cents and never below one cent. `step()` is the pure move the ticker Lambda reuses.
"""

from __future__ import annotations

import random
from typing import Iterator

import click

from streamlab.errors import ConfigError
from streamlab.records import Trade
from streamlab.sources.base import Source

# The walk lives in a dependency-free module so the ticker Lambda's zip can carry it; same function.
from streamlab.random_walk import DEFAULT_SYMBOLS, MAX_MOVE, step  # noqa: E402,F401


def parse_symbols(text: str | None) -> dict[str, float]:
    """`A,B` or `A=150,B=20.5` -> {symbol: start}; symbols without a start begin at 100."""
    if not text:
        return dict(DEFAULT_SYMBOLS)
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, start = part.partition("=")
        try:
            out[name.strip()] = float(start) if start else 100.0
        except ValueError:
            raise ConfigError(f"bad start price in --symbols: {part!r}", "write SYMBOL or SYMBOL=PRICE, e.g. AAPL=150") from None
    if not out:
        raise ConfigError("--symbols is empty", "give at least one symbol, e.g. --symbols Index_1,Index_2")
    return out


class SyntheticSource(Source):
    name = "synthetic"
    summary = "Synthetic stock ticker (random walk), Index_1..Index_5 by default; no network needed."
    options = (
        click.Option(["--symbols"], default=None, help="Symbols as A,B or A=150,B=20 (start prices). [default: Index_1..Index_5 at 100..60]"),
        click.Option(["--seed"], type=int, default=None, help="Random seed for a reproducible walk."),
    )

    def __init__(self, settings, **kw):
        super().__init__(settings, **kw)
        if self.opts.get("seed") is not None:
            self.rng = random.Random(self.opts["seed"])
        self.prices = parse_symbols(self.opts.get("symbols"))

    #: records per list from batches(): ~2 ms of work, so stop() and --count are still prompt
    batch_size = 500

    def records(self) -> Iterator[Trade]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[Trade]]:
        """The walk in lists of `batch_size`; `step` inlined (the same arithmetic, so a seed gives
        the same prices): at full speed a Python call per record is a fifth of its cost."""
        names = list(self.prices)
        prices = [self.prices[n] for n in names]
        rnd, clock = self.rng.random, self.clock
        low, span = -MAX_MOVE, MAX_MOVE - -MAX_MOVE  # rng.uniform(low, high) is low + (high - low) * random()
        n = len(names)
        size = self.batch_size
        j = 0
        while not self._stop.is_set():
            out = []
            for _ in range(size):
                p = prices[j] = max(0.01, round(prices[j] * (1.0 + (low + span * rnd())), 2))
                t = int(clock() * 1000)
                out.append(Trade("synthetic", names[j], p, None, t, t))
                j = j + 1 if j + 1 < n else 0
            yield out

    def describe(self) -> str:
        return f"synthetic ticker ({', '.join(self.prices)})"
