"""The ticker's random walk, free of any dependency so the serverless lab's Lambda can ship it.

`streamlab.sources.synthetic` re-exports these names: the synthetic source and the generator
Lambda (`streamlab.lambdas.ticker_generator`) move prices with the very same `step`.
"""

from __future__ import annotations

import random

DEFAULT_SYMBOLS = {"Index_1": 100.0, "Index_2": 90.0, "Index_3": 80.0, "Index_4": 70.0, "Index_5": 60.0}
MAX_MOVE = 0.005


def step(price: float, rng: random.Random) -> float:
    """One random-walk step: at most +-0.5 % of the price, rounded to cents, floor 0.01."""
    return max(0.01, round(price * (1.0 + rng.uniform(-MAX_MOVE, MAX_MOVE)), 2))
