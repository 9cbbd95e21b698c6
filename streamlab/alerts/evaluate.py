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
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional, Sequence, Union

from streamlab.alerts.rules import Rule
from streamlab.timefmt import fmt_time

FIRED, CLEARED = "fired", "cleared"
#: the history is trimmed once this many entries before the oldest needed reference pile up
TRIM_AT = 512


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
        line = f"{head} [{self.rule}] {self.symbol} {self.price} at {fmt_time(self.event_time)} UTC"
        if self.change is None:
            return f"{line} (threshold {self.reference})"
        moved = f"{self.change:+.2f}%" if self.percent else f"{self.change:+}"
        return f"{line}, moved {moved} from {self.reference} at {fmt_time(self.reference_time)} UTC"

    def subject(self) -> str:
        return f"streamlab {self.state}: {self.rule} ({self.symbol} {self.price})"[:100]

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state, "rule": self.rule, "symbol": self.symbol, "price": _num(self.price),
            "event_time": self.event_time, "reference": _num(self.reference), "reference_time": self.reference_time,
            "change": _num(self.change), "change_unit": None if self.change is None else ("percent" if self.percent else "price"),
            "text": self.text(),
        }


@dataclass
class _Track:
    """Where one (rule, symbol) stands."""

    active: bool = False
    announced: bool = False
    last_fired: Optional[int] = None


@dataclass
class _Symbol:
    rules: list[tuple[int, Rule]]
    span_ms: int  # the longest period among its change rules (0: thresholds only)
    times: list[int] = field(default_factory=list)
    prices: list[Decimal] = field(default_factory=list)
    tracks: list[_Track] = field(default_factory=list)  # one per rule in `rules`, in that order

    def __post_init__(self) -> None:
        self.tracks = [_Track() for _ in self.rules]

    def add(self, t: int, price: Decimal) -> bool:
        """Insert in event-time order; True when the record is late (older than the latest)."""
        if not self.times or t >= self.times[-1]:
            self.times.append(t)
            self.prices.append(price)
            late = False
        else:
            i = bisect.bisect_right(self.times, t)
            self.times.insert(i, t)
            self.prices.insert(i, price)
            late = True
        if not self.span_ms:
            if len(self.times) > 1:  # thresholds only: the latest is all we need
                del self.times[:-1], self.prices[:-1]
        else:
            keep = bisect.bisect_right(self.times, self.times[-1] - self.span_ms) - 1
            if keep >= TRIM_AT:
                del self.times[:keep], self.prices[:keep]
        return late

    def reference(self, period_ms: int) -> tuple[int, Decimal]:
        i = bisect.bisect_right(self.times, self.times[-1] - period_ms) - 1
        i = max(i, 0)  # first seen within the period: its first price
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
    def __init__(self, rules: Sequence[Rule], cooldown_ms: int = 0):
        self.rules = list(rules)
        self.cooldown_ms = max(0, int(cooldown_ms or 0))
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
            s = self._symbols[symbol] = _Symbol(matching, max((r.period_ms or 0 for _, r in matching), default=0))
            self.stats.symbols += 1
        if not s.rules:
            return []
        if s.add(int(event_time), _dec(price)):
            self.stats.late += 1
        return [a for (_, rule), track in zip(s.rules, s.tracks) if (a := self._evaluate(rule, track, symbol, s)) is not None]

    def _evaluate(self, rule: Rule, track: _Track, symbol: str, s: _Symbol) -> Optional[Alert]:
        t, price = s.times[-1], s.prices[-1]
        ref_t: Optional[int] = None
        change: Optional[Decimal] = None
        if rule.is_change:
            ref_t, reference = s.reference(rule.period_ms or 0)
            change = price - reference
            if rule.kind == "change%":
                if reference == 0:
                    return None
                change = change / reference * 100
            holds = rule.holds(abs(change))
        else:
            reference = rule.threshold
            holds = rule.holds(price)
        state = self._transition(track, holds, t)
        if state is None:
            return None
        return Alert(state, rule.text, symbol, price, t, reference, ref_t, change, rule.kind == "change%")

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
