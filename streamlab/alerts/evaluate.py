"""The rule evaluator: the latest price and a rolling history per symbol, driven by event time.

Pure and deterministic: `Evaluator.observe(symbol, price, event_time)` returns the alerts that one
record causes, and nothing reads the wall clock, so a replay of the same records (in the same order
per symbol, which Kinesis shards and Kafka partitions keep for a partition key) fires the same alerts.

- The latest price of a symbol is the one with the greatest event time; a late (out-of-order)
  record joins the history (it can be a later reference) but does not become the latest price.
- A change rule over period P compares the latest price with the reference: the last price at or
  before `latest - P`. After a gap the reference is the last price known before it. A symbol first
  seen less than P ago is compared with its first price (the move since it was first seen).
- An alert fires when a rule becomes true, not on every record while it stays true, and "cleared"
  follows when it becomes false again. With a cooldown, a rule that becomes true again within the
  cooldown of its last alert (same rule, same symbol, event time) stays quiet; if it is still true
  once the cooldown has passed, it fires then. A suppressed alert is never "cleared".
- Prices are kept as Decimal (an alert's numbers and text are exact). Rules are checked with their
  float images, and a float result within a margin of its threshold (or NaN, inf, a change% from a
  reference near 0) is decided in Decimal, so every answer is Decimal's (tests/test_alert_rules.py compares).
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional, Sequence, Union

from streamlab.alerts.rules import Rule
from streamlab.timefmt import fmt_time

FIRED, CLEARED = "fired", "cleared"
#: the history is trimmed once this many entries before the oldest needed reference pile up
TRIM_AT = 512

#: an alert's times as text; a run's alerts share a few (one record fires several rules, references repeat)
_fmt_time = functools.lru_cache(maxsize=1024)(fmt_time)


def _dec(value: Union[int, float, Decimal, str]) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _num(value: Optional[Decimal]) -> Optional[Union[int, float]]:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class Alert:
    """One rule becoming true (`fired`) or false again (`cleared`) for one symbol."""

    state: str
    rule: str
    symbol: str
    price: Decimal
    event_time: int
    reference: Decimal  # the threshold (price rules) or the reference price (change rules)
    reference_time: Optional[int] = None
    change: Optional[Decimal] = None  # signed: amount, or percent for change%
    percent: bool = False

    def text(self) -> str:
        head = "ALERT" if self.state == FIRED else "CLEARED"
        line = f"{head} [{self.rule}] {self.symbol} {self.price} at {_fmt_time(self.event_time)} UTC"
        if self.change is None:
            return f"{line} (threshold {self.reference})"
        moved = f"{self.change:+.2f}%" if self.percent else f"{self.change:+}"
        return f"{line}, moved {moved} from {self.reference} at {_fmt_time(self.reference_time)} UTC"

    def subject(self) -> str:
        return f"streamlab {self.state}: {self.rule} ({self.symbol} {self.price})"[:100]

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state, "rule": self.rule, "symbol": self.symbol, "price": _num(self.price),
            "event_time": self.event_time, "reference": _num(self.reference), "reference_time": self.reference_time,
            "change": _num(self.change), "change_unit": None if self.change is None else ("percent" if self.percent else "price"),
            "text": self.text(),
        }


class _Track:
    """Where one (rule, symbol) stands."""

    __slots__ = ("active", "announced", "last_fired")

    def __init__(self) -> None:
        self.active = False
        self.announced = False
        self.last_fired: Optional[int] = None


#: the float path's margin: a float result within REL_MARGIN (relative to the magnitudes involved)
#: plus ABS_MARGIN of its threshold is decided in Decimal instead. Doubles carry ~1e-16 relative
#: error per operation, so 1e-9 leaves seven orders of magnitude to spare.
REL_MARGIN, ABS_MARGIN = 1e-9, 1e-300
#: a change% reference smaller than this (as a float) is decided in Decimal (no float underflow)
MIN_FLOAT_REFERENCE = 1e-200
_NAN, _INF = float("nan"), float("inf")


class _Check:
    """One rule as one symbol evaluates it: the threshold as a float, and `source`, the index of
    the value it compares among the ones `_Symbol.values` computes per record."""

    __slots__ = ("rule", "track", "source", "threshold", "margin", "above", "below")

    def __init__(self, rule: Rule, source: int, exact: bool = False):
        self.rule, self.track, self.source = rule, _Track(), source
        self.threshold = float(rule.threshold)
        if exact:  # no float result is ever far enough from the threshold
            self.margin = _INF
        elif rule.is_change:  # a computed move also allows for the threshold's own rounding
            self.margin = REL_MARGIN * abs(self.threshold) + ABS_MARGIN
        else:  # a price is compared as it is: float() is monotonic, unequal floats order as their Decimals do
            self.margin = 0.0
        self.above = rule.op in (">", ">=")  # what the rule says when the value is clearly above
        self.below = not self.above


@dataclass
class _Symbol:
    rules: list[tuple[int, Rule]]
    span_ms: int  # the longest period among its change rules (0: thresholds only)
    exact: bool = False  # decide every rule in Decimal
    times: list[int] = field(default_factory=list)
    prices: list[Decimal] = field(default_factory=list)
    floats: list[float] = field(default_factory=list)  # `prices` as floats, for the rule checks
    sources: list[tuple[int, bool]] = field(default_factory=list)  # (period, percent?) of its change rules, distinct, sorted
    checks: list[_Check] = field(default_factory=list)  # one per rule in `rules`, in that order

    def __post_init__(self) -> None:
        key = lambda r: (r.period_ms or 0, r.kind == "change%")  # noqa: E731
        self.sources = sorted({key(r) for _, r in self.rules if r.is_change})
        self.checks = [_Check(r, 1 + self.sources.index(key(r)) if r.is_change else 0, self.exact) for _, r in self.rules]

    def values(self) -> list[tuple[float, float, int]]:
        """What the checks compare, for the latest record: (value, margin, reference index), the
        price first, then per source the move (absolute or percent) from its reference. A margin
        of NaN leaves the decision to Decimal."""
        floats, times = self.floats, self.times
        fp = floats[-1]
        out = [(fp, 0.0, -1)]
        if not self.sources:
            return out
        afp, latest = abs(fp), times[-1]
        last = None
        for period, percent in self.sources:
            if period != last:  # a period's two sources (change, change%) are next to each other
                i = bisect_right(times, latest - period) - 1  # as reference_index
                if i < 0:
                    i = 0
                fr = floats[i]
                afr = abs(fr)
                last = period
            if not percent:
                out.append((abs(fp - fr), REL_MARGIN * (afp + afr), i))
            elif afr >= MIN_FLOAT_REFERENCE:
                # |fp - fr| / |fr| * 100 is at most (afp + afr) / afr * 100: the margin covers both
                out.append((abs((fp - fr) / fr * 100.0), (afp + afr) / afr * (200 * REL_MARGIN), i))
            else:
                out.append((_NAN, _NAN, i))
        return out

    def add(self, t: int, price: Decimal) -> bool:
        """Insert in event-time order; True when the record is late (older than the latest)."""
        times = self.times
        try:
            f = float(price)
        except ValueError:  # a signalling NaN: the Decimal path raises for it, as it always did
            f = _NAN
        if not times or t >= times[-1]:
            times.append(t)
            self.prices.append(price)
            self.floats.append(f)
            late = False
        else:
            i = bisect_right(times, t)
            times.insert(i, t)
            self.prices.insert(i, price)
            self.floats.insert(i, f)
            late = True
        if not self.span_ms:
            if len(times) > 1:  # thresholds only: the latest is all we need
                del times[:-1], self.prices[:-1], self.floats[:-1]
        else:
            keep = bisect_right(times, times[-1] - self.span_ms) - 1
            if keep >= TRIM_AT:
                del times[:keep], self.prices[:keep], self.floats[:keep]
        return late

    def reference_index(self, period_ms: int) -> int:
        """Where the reference of a change over `period_ms` is: the last price at or before
        `latest - period`, or the first price when the symbol was first seen within the period."""
        return max(bisect_right(self.times, self.times[-1] - period_ms) - 1, 0)

    def reference(self, period_ms: int) -> tuple[int, Decimal]:
        i = self.reference_index(period_ms)
        return self.times[i], self.prices[i]


@dataclass
class EvaluatorStats:
    observed: int = 0
    late: int = 0
    fired: int = 0
    cleared: int = 0
    suppressed: int = 0
    symbols: int = 0


class Evaluator:
    """`exact=True` decides every rule in Decimal; by default a rule is decided with floats unless
    the float result is too close to its threshold to be sure (then in Decimal, which is what
    `exact` always does), so both give the same alerts. An alert's numbers are always Decimal."""

    def __init__(self, rules: Sequence[Rule], cooldown_ms: int = 0, *, exact: bool = False):
        self.rules = list(rules)
        self.cooldown_ms = max(0, int(cooldown_ms or 0))
        self.exact = exact
        self._symbols: dict[str, _Symbol] = {}
        self.stats = EvaluatorStats()

    def latest(self, symbol: str) -> Optional[tuple[int, Decimal]]:
        s = self._symbols.get(symbol)
        return (s.times[-1], s.prices[-1]) if s and s.times else None

    def observe(self, symbol: str, price: Union[int, float, Decimal, str], event_time: int) -> list[Alert]:
        self.stats.observed += 1
        s = self._symbols.get(symbol)
        if s is None:
            matching = [(i, r) for i, r in enumerate(self.rules) if r.matches(symbol)]
            s = self._symbols[symbol] = _Symbol(matching, max((r.period_ms or 0 for _, r in matching), default=0), self.exact)
            self.stats.symbols += 1
        if not s.rules:
            return []
        if s.add(int(event_time), _dec(price)):
            self.stats.late += 1
        # Every rule is checked on every record: one loop over floats, with no call and no
        # allocation unless a rule is too close to its threshold to tell or changes state.
        values, t = s.values(), s.times[-1]
        out: list[Alert] = []
        for c in s.checks:
            v, margin, i = values[c.source]
            diff = v - c.threshold
            margin += c.margin
            if diff > margin:  # NaN (inf - inf, an infinite margin) falls through to Decimal
                holds = c.above
            elif diff < -margin:
                holds = c.below
            else:
                holds = self._exact(c.rule, s, i)
            if holds is None:  # a change% from a reference of 0
                continue
            track = c.track
            if holds:
                if track.announced:  # still true and already announced: nothing changes
                    continue
            elif not track.active:  # still false
                continue
            state = self._transition(track, holds, t)
            if state is not None:
                out.append(self._alert(state, c.rule, symbol, s, i))
        return out

    @staticmethod
    def _exact(rule: Rule, s: _Symbol, i: int) -> Optional[bool]:
        """The rule decided in Decimal (reference index `i` for a change); None: it cannot be
        (a change% from a reference of 0)."""
        price = s.prices[-1]
        if not rule.is_change:
            return rule.holds(price)
        reference = s.prices[i]
        change = price - reference
        if rule.kind == "change%":
            if reference == 0:
                return None
            change = change / reference * 100
        return rule.holds(abs(change))

    @staticmethod
    def _alert(state: str, rule: Rule, symbol: str, s: _Symbol, i: int) -> Alert:
        t, price = s.times[-1], s.prices[-1]
        if not rule.is_change:
            return Alert(state, rule.text, symbol, price, t, rule.threshold)
        reference = s.prices[i]
        change = price - reference
        if rule.kind == "change%":
            change = change / reference * 100
        return Alert(state, rule.text, symbol, price, t, reference, s.times[i], change, rule.kind == "change%")

    def _transition(self, track: _Track, holds: bool, t: int) -> Optional[str]:
        if holds:
            became = not track.active
            track.active = True
            if track.announced:
                return None
            if track.last_fired is None or t - track.last_fired >= self.cooldown_ms:
                track.announced, track.last_fired = True, t
                self.stats.fired += 1
                return FIRED
            if became:
                self.stats.suppressed += 1
            return None
        if not track.active:
            return None
        announced = track.announced
        track.active = track.announced = False
        if announced:
            self.stats.cleared += 1
            return CLEARED
        return None
