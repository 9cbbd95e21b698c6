"""The canonical records and their one wire form.

Every source yields these, every sink takes them, every Spark transform parses exactly this form.

Wire form of a trade (one JSON object, UTF-8, no trailing newline; sinks that write lines add one):

    {"source": "synthetic", "symbol": "Index_1", "price": 100.42, "volume": null,
     "event_time": 1764000000000, "ingest_time": 1764000000003}

    source       str    where it came from: synthetic, finnhub, binance, replay...
    symbol       str    instrument, as the provider spells it (BINANCE:BTCUSDT, btcusdt, Index_1)
    price        number exact decimal text is kept when the provider sent text (Binance)
    volume       number or null (a synthetic tick has no volume; Finnhub may send 0)
    event_time   int    ms since the epoch, when the event happened (provider's time)
    ingest_time  int    ms since the epoch, when streamlab received or made it
    optional, present only when known: trade_time (int ms), trade_id (str|int),
    conditions (list of str), extra (object of provider fields streamlab does not map)

A text line (tweets as plain text, review TSV lines, stdin) travels as the line itself. A raw record
(`--raw`) is the provider's own payload, untouched.
"""

from __future__ import annotations

import json
import time
from json.encoder import encode_basestring_ascii
from math import isfinite as _isfinite
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional, Protocol, Union

Number = Union[int, float, Decimal]

TRADE_FIELDS = ("source", "symbol", "price", "volume", "event_time", "ingest_time")
OPTIONAL_TRADE_FIELDS = ("trade_time", "trade_id", "conditions", "extra")

#: the 15 tab-separated columns of an Amazon-review TSV line, in order (`produce reviews` sends
#: such lines; `consume --dataset reviews` splits them into these columns)
REVIEW_COLUMNS = (
    "marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title",
    "product_category", "star_rating", "helpful_votes", "total_votes", "vine", "verified_purchase",
    "review_headline", "review_body", "review_date",
)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Record(Protocol):
    """What a sink needs of a record: its bytes on the wire and a partition key (or None)."""

    def to_bytes(self) -> bytes: ...

    def key(self) -> Optional[str]: ...


def _number(value: Optional[Number]) -> str:
    t = type(value)
    if t is float:  # the common cases first: one type check each, no isinstance chain
        return repr(value) if _isfinite(value) else "null"
    if t is Decimal:
        # Decimal keeps the provider's digits ("67432.01000000" stays exactly that). str() writes
        # what format(value, "f") does unless it chose exponent notation ("1E+2"), at a third the cost.
        text = str(value)
        return text if "E" not in text else format(value, "f")
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return "null"
        return repr(value)
    return str(int(value))


def _string(value: Any) -> str:
    """JSON text of a string, exactly as json.dumps writes it (ASCII-escaped), without its overhead."""
    return _quote(value) if isinstance(value, str) else _dumps(value)


def _object(value: Any) -> Optional[str]:
    """json.dumps of a flat dict of str keys and str/int/bool/None values (Binance's `{"m": true}`)
    at a tenth of its cost; None for anything else (the caller uses json.dumps then)."""
    if type(value) is not dict:
        return None
    items = []
    for k, v in value.items():
        if type(k) is not str:
            return None
        t = type(v)
        if t is bool:
            v = "true" if v else "false"
        elif t is str:
            v = _quote(v)
        elif t is int:
            v = int.__repr__(v)
        elif v is None:
            v = "null"
        else:
            return None
        items.append(f"{_quote(k)}: {v}")
    return "{" + ", ".join(items) + "}"


_dumps = json.dumps
_quote = encode_basestring_ascii  # what json.dumps(str) calls, minus ~0.3 us of dispatch


@dataclass(slots=True)
class Trade:
    source: str
    symbol: str
    price: Number
    volume: Optional[Number]
    event_time: int
    ingest_time: int
    trade_time: Optional[int] = None
    trade_id: Optional[Union[str, int]] = None
    conditions: Optional[list] = None
    extra: Optional[dict] = None

    def key(self) -> str:
        return self.symbol

    def to_json(self) -> str:
        # Hand-built, one f-string: numbers keep their exact digits (Decimal) and it is ~5x faster
        # than json.dumps(asdict(self)), which matters at 50k records/s. The bytes are exactly
        # what json.dumps writes (tests/test_pipeline_wire.py compares): exact str, int and flat
        # dicts take the inlined paths, anything else goes through json.dumps.
        source, symbol = self.source, self.symbol
        text = (
            f'{{"source": {_quote(source) if type(source) is str else _string(source)}, '
            f'"symbol": {_quote(symbol) if type(symbol) is str else _string(symbol)}, '
            f'"price": {_number(self.price)}, "volume": {_number(self.volume)}, '
            f'"event_time": {int(self.event_time)}, "ingest_time": {int(self.ingest_time)}'
        )
        trade_time, trade_id, conditions, extra = self.trade_time, self.trade_id, self.conditions, self.extra
        if trade_time is None and trade_id is None and conditions is None and not extra:
            return text + "}"
        parts = [text]
        if trade_time is not None:
            parts += [', "trade_time": ', str(int(trade_time))]
        if trade_id is not None:
            kind = type(trade_id)
            parts += [', "trade_id": ', int.__repr__(trade_id) if kind is int else _quote(trade_id) if kind is str else _dumps(trade_id)]
        if conditions is not None:
            parts += [', "conditions": ', _dumps(conditions)]
        if extra:
            text = _object(extra)
            if text is None:
                try:  # the plain encoder is cached; one built for default=str costs ~4 us per call
                    text = _dumps(extra)
                except TypeError:
                    text = _dumps(extra, default=str)
            parts += [', "extra": ', text]
        parts.append("}")
        return "".join(parts)

    def to_bytes(self) -> bytes:
        return self.to_json().encode()

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json(), parse_float=Decimal)

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "Trade":
        """Parse the wire form back (numbers as Decimal so nothing is rounded). Raises ValueError."""
        try:
            obj = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        missing = [f for f in TRADE_FIELDS if f not in obj]
        if missing:
            raise ValueError(f"missing fields: {', '.join(missing)}")
        known = {f: obj[f] for f in TRADE_FIELDS + OPTIONAL_TRADE_FIELDS if f in obj}
        return cls(**known)


@dataclass(slots=True)
class TextLine:
    """A line of text (a tweet's text, a review TSV line, a stdin line). Travels as itself."""

    text: str
    source: str = "text"
    partition_key: Optional[str] = None

    def key(self) -> Optional[str]:
        return self.partition_key

    def to_bytes(self) -> bytes:
        return self.text.encode()


@dataclass(slots=True)
class RawRecord:
    """A provider's own payload, forwarded untouched (`--raw`)."""

    payload: bytes
    source: str = "raw"
    partition_key: Optional[str] = None
    ingest_time: int = field(default_factory=now_ms)

    def key(self) -> Optional[str]:
        return self.partition_key

    def to_bytes(self) -> bytes:
        return self.payload
