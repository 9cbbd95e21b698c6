"""Durations and times as users write and read them: '10s', '1m', '1h', '1d'; UTC timestamps.

Shared by charts, the dashboard and alerts (a leaf module: nothing heavy, no other streamlab import
but the errors).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Optional

from streamlab.errors import ConfigError


def parse_duration(text: str) -> int:
    """'10s', '1m', '1 minute', '2h', '1d' -> milliseconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)\s*", text or "")
    if not m:
        raise ConfigError(f"cannot read the duration {text!r}", "use e.g. 10s, 1m, 1h or 1d")
    unit = m.group(2)
    scale = (1 if unit == "ms" else 1000 if unit.startswith("s") else 60_000 if unit.startswith("m")
             else 86_400_000 if unit.startswith("d") else 3_600_000)
    return int(float(m.group(1)) * scale)


def fmt_time(ms: Optional[int]) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
