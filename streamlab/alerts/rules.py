"""Price rules: what `--rule` and `--rules FILE` accept, parsed into `Rule` (pure, no I/O but the file).

    BTCUSDT < 3800                  threshold: the latest price is below 3800
    BTCUSDT >= 4000                 threshold (<, <=, >, >=)
    BTCUSDT change > 200 in 1h      absolute move, either direction, over the period
    ETHUSDT change% > 5 in 1d       relative move in percent of the reference price
    * change% > 2 in 5m             the same rule for every symbol seen

A rule's symbol matches a record's symbol ignoring case, and also the part after the provider's
prefix (`BTCUSDT` matches Finnhub's `BINANCE:BTCUSDT`). Periods: s, m, h, d (`90s`, `1h`, `1d`).
A rules file is TOML (or YAML when PyYAML is installed) with a list `rules` of rule strings, or of
tables with a `rule` key; an optional top-level `cooldown` (e.g. "10m") applies unless
`--cooldown` is given.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Optional, Union

from streamlab.timefmt import parse_duration
from streamlab.errors import ConfigError, MissingDependency

ACCEPTED = ("accepted: 'SYMBOL < PRICE' or 'SYMBOL > PRICE' (also <=, >=), 'SYMBOL change > AMOUNT in 1h', "
            "'SYMBOL change% > PERCENT in 1d'; SYMBOL may be * for every symbol")

OPS: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

_RULE = re.compile(
    r"\s*(?P<symbol>\*|[A-Za-z0-9][A-Za-z0-9:._/-]*)\s*"
    r"(?:(?P<kind>change%|change)\s*)?"
    r"(?P<op><=|>=|<|>)\s*"
    r"(?P<value>[+-]?\d+(?:\.\d+)?)\s*"
    r"(?:in\s+(?P<period>\S.*?))?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Rule:
    """One parsed rule. `kind` is `price`, `change` (absolute) or `change%`; `period_ms` only for changes."""

    text: str
    symbol: str  # as written, or "*"
    kind: str
    op: str
    threshold: Decimal
    period_ms: Optional[int] = None

    @property
    def is_change(self) -> bool:
        return self.kind != "price"

    def matches(self, symbol: str) -> bool:
        if self.symbol == "*":
            return True
        want, got = self.symbol.upper(), symbol.upper()
        return got == want or got.rsplit(":", 1)[-1] == want

    def holds(self, value: Decimal) -> bool:
        return OPS[self.op](value, self.threshold)


def parse_rule(text: str) -> Rule:
    """One rule string -> Rule; ConfigError (what is wrong, what is accepted) otherwise."""
    m = _RULE.fullmatch(text or "")
    if not m:
        raise ConfigError(f"cannot read the rule {text!r}", ACCEPTED)
    kind = (m.group("kind") or "price").lower()
    period = m.group("period")
    if kind == "price" and period:
        raise ConfigError(f"the rule {text!r} has a period but compares the price", f"write 'SYMBOL change > AMOUNT in {period}'; {ACCEPTED}")
    if kind != "price" and not period:
        raise ConfigError(f"the rule {text!r} needs a period", f"add one, e.g. '{text.strip()} in 1h'; {ACCEPTED}")
    try:
        threshold = Decimal(m.group("value"))
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise ConfigError(f"cannot read the number in the rule {text!r}", ACCEPTED) from None
    period_ms = None
    if period:
        try:
            period_ms = parse_duration(period)
        except ConfigError:
            raise ConfigError(f"cannot read the period {period!r} in the rule {text!r}", "use e.g. 5m, 1h or 1d") from None
        if period_ms <= 0:
            raise ConfigError(f"the period in the rule {text!r} is zero", "use e.g. 5m, 1h or 1d")
    symbol = m.group("symbol")
    canonical = f"{symbol} {kind + ' ' if kind != 'price' else ''}{m.group('op')} {m.group('value')}" + (f" in {period}" if period else "")
    return Rule(text=canonical, symbol=symbol, kind=kind, op=m.group("op"), threshold=threshold, period_ms=period_ms)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    cooldown_ms: Optional[int] = None  # from the file; None when it says nothing


def load_rules_file(path: Union[str, Path]) -> RuleSet:
    """Rules (and an optional cooldown) from a TOML or YAML file; ConfigError naming the file otherwise."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the rules file {p}: {exc.strerror or type(exc).__name__}", "pass --rules PATH to a TOML or YAML file") from None
    doc = _load_yaml(p, text) if p.suffix.lower() in (".yaml", ".yml") else _load_toml(p, text)
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise ConfigError(f"the rules file {p} has no list `rules`", 'write e.g. rules = ["BTCUSDT < 3800", "BTCUSDT change > 200 in 1h"]')
    rules = []
    for i, item in enumerate(doc["rules"], 1):
        text_ = item.get("rule") if isinstance(item, dict) else item
        if not isinstance(text_, str):
            raise ConfigError(f"rule {i} in {p} is not a string", 'write each rule as "BTCUSDT < 3800" or {rule = "BTCUSDT < 3800"}')
        try:
            rules.append(parse_rule(text_))
        except ConfigError as exc:
            raise ConfigError(f"{p}, rule {i}: {exc.message}", exc.hint) from None
    cooldown = doc.get("cooldown")
    try:
        cooldown_ms = parse_duration(str(cooldown)) if cooldown is not None else None
    except ConfigError:
        raise ConfigError(f"cannot read the cooldown {cooldown!r} in {p}", "use e.g. cooldown = \"10m\"") from None
    return RuleSet(tuple(rules), cooldown_ms)


def _load_toml(p: Path, text: str) -> Any:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        raise MissingDependency("tomllib needs Python 3.11", "use a YAML rules file, or pass each rule with --rule") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the rules file {p} is not valid TOML: {exc}", "fix it, or name a YAML file .yaml") from None


def _load_yaml(p: Path, text: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise MissingDependency("PyYAML is not installed, needed for the YAML rules file " + str(p),
                                "install it (pip install pyyaml) or write the rules as TOML") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"the rules file {p} is not valid YAML: {' '.join(str(exc).split())}", "fix it, or write the rules as TOML") from None


def gather_rules(rule_texts: tuple[str, ...] = (), rules_file: Optional[Union[str, Path]] = None) -> RuleSet:
    """--rule strings plus a --rules file; ConfigError when there are none at all."""
    rules = [parse_rule(t) for t in rule_texts]
    cooldown = None
    if rules_file:
        loaded = load_rules_file(rules_file)
        rules.extend(loaded.rules)
        cooldown = loaded.cooldown_ms
    if not rules:
        raise ConfigError("no rules given", "pass --rule 'BTCUSDT > 4000' (repeatable) or --rules FILE")
    return RuleSet(tuple(rules), cooldown)
