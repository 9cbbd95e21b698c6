"""EventBridge schedule expressions: `rate(...)` and `cron(...)`, and when each fires next.

Pure functions on UTC datetimes, so the local scheduler (and its tests) can ask "when after T?"
without waiting. Supported as EventBridge documents them:

- `rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)`: fires every period, counted
  from when the rule was seen (EventBridge counts from creation; close enough for a rehearsal).
- `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, six fields, UTC: `*`, `?`, numbers,
  lists `a,b`, ranges `a-b`, steps `*/n` and `a-b/n`, month names JAN-DEC, weekday names SUN-SAT
  (1 = SUN ... 7 = SAT, as EventBridge counts), `L` in day-of-month (last day). Not supported,
  refused with a clear error: `W`, `#`, and `L` in day-of-week.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from streamlab.errors import ConfigError

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.I)
_CRON = re.compile(r"cron\((.*)\)$", re.I)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
#: field name, low, high, names
_FIELDS = (("minutes", 0, 59, {}), ("hours", 0, 23, {}), ("day-of-month", 1, 31, {}),
           ("month", 1, 12, _MONTHS), ("day-of-week", 1, 7, _DAYS), ("year", 1970, 2199, {}))


@dataclass(frozen=True)
class Schedule:
    expression: str
    period: Optional[float] = None  # seconds, for rate()
    fields: Optional[tuple] = None  # one frozenset per cron field (None = any), for cron()
    last_day: bool = False  # cron day-of-month `L`

    def next_after(self, t: datetime, start: Optional[datetime] = None) -> datetime:
        """The first firing time strictly after `t` (rate: counted in periods from `start`)."""
        if self.period is not None:
            origin = start or t
            n = int((t - origin).total_seconds() // self.period) + 1
            return origin + timedelta(seconds=n * self.period)
        return _next_cron(self, t)


def parse(expression: str) -> Schedule:
    text = (expression or "").strip()
    m = _RATE.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower().rstrip("s")
        if n < 1:
            raise ConfigError(f"schedule {text!r}: the rate must be at least 1", "e.g. rate(1 minute)")
        return Schedule(text, period=float(n * _UNIT_SECONDS[unit]))
    m = _CRON.match(text)
    if not m:
        raise ConfigError(f"schedule {text!r} is neither rate(...) nor cron(...)", "e.g. rate(5 minutes) or cron(0 12 * * ? *)")
    parts = m.group(1).split()
    if len(parts) != 6:
        raise ConfigError(f"schedule {text!r}: cron needs 6 fields, not {len(parts)}", "minutes hours day-of-month month day-of-week year")
    last_day = parts[2].upper() == "L"
    fields = tuple(None if (last_day and i == 2) else _field(text, p, *spec) for i, (p, spec) in enumerate(zip(parts, _FIELDS)))
    return Schedule(text, fields=fields, last_day=last_day)


def _field(text: str, part: str, name: str, lo: int, hi: int, names: dict) -> Optional[frozenset]:
    if part in ("*", "?"):
        return None
    if any(c in part.upper() for c in "W#") or (name == "day-of-week" and "L" in part.upper()):
        raise ConfigError(f"schedule {text!r}: {part!r} in {name} is not supported locally", "use numbers, ranges, lists and steps")
    values: set[int] = set()
    for item in part.split(","):
        rng, _, step = item.partition("/")
        if rng == "*":
            a, b = lo, hi
        else:
            first, _, last = rng.partition("-")
            a = _value(text, first, name, names)
            b = _value(text, last, name, names) if last else (hi if step else a)
        inc = int(step) if step else 1
        if not (lo <= a <= hi and lo <= b <= hi) or inc < 1:
            raise ConfigError(f"schedule {text!r}: {item!r} is outside {name} {lo}-{hi}", "check the cron fields")
        values.update(range(a, b + 1, inc))
    return frozenset(values)


def _value(text: str, token: str, name: str, names: dict) -> int:
    token = token.strip().upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise ConfigError(f"schedule {text!r}: {token!r} is not a valid {name}", "check the cron fields")
    return int(token)


def _matches(s: Schedule, t: datetime) -> bool:
    minute, hour, dom, month, dow, year = s.fields
    weekday = (t.isoweekday() % 7) + 1  # EventBridge: 1 = Sunday
    if s.last_day and t.day != calendar.monthrange(t.year, t.month)[1]:
        return False
    checks = ((minute, t.minute), (hour, t.hour), (dom, t.day), (month, t.month), (dow, weekday), (year, t.year))
    return all(f is None or v in f for f, v in checks)


def _next_cron(s: Schedule, t: datetime) -> datetime:
    """Minute by minute, skipping whole days that cannot match: at most a few years' days."""
    c = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = c + timedelta(days=366 * 5)
    while c < limit:
        day_ok = _matches(Schedule(s.expression, fields=(None, None, *s.fields[2:]), last_day=s.last_day), c)
        if not day_ok:
            c = (c + timedelta(days=1)).replace(hour=0, minute=0)
            continue
        if _matches(s, c):
            return c
        c += timedelta(minutes=1)
    raise ConfigError(f"schedule {s.expression!r} never fires in the next 5 years", "check the cron fields")
