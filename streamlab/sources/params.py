"""click parameter types shared by commands, sources and sinks (imports click only; it lives in
sources/ because the library root and aws/ never import click).

`FiniteFloat`: click's FloatRange accepts `nan` and `inf` (float() parses them), which
would make a rate limiter divide by nothing or a deadline never come. These refuse them with
click's usual one-line usage error (exit 2).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import click


class FiniteFloat(click.FloatRange):
    """A FloatRange that also refuses nan and +/-inf."""

    name = "float"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; give a number such as 10 or 0.5", param, ctx)
        return number
