"""What one stream record holds, as trades: streamlab's wire form or a provider's own JSON.

Pure Python, no I/O: `sample` uses it (and a command that follows a stream, such as an alert, can),
without Spark. `parse(data)` accepts

    streamlab's wire form       {"source", "symbol", "price", "volume", "event_time", "ingest_time", ...}
                                (streamlab.records.Trade.to_bytes)
    a Finnhub message           {"type": "trade", "data": [{"p", "s", "t", "v", "c"}, ...]}: one
                                trade per element; {"type": "ping"} is a heartbeat (no trades, not an error)
    a Binance trade event       {"e": "trade", "s", "p", "q", "T", "t", "m", "E"}: price and quantity as
                                strings (kept exact as Decimal); "aggTrade" events too
    a Binance combined message  {"stream": "btcusdt@trade", "data": {...one of the events above...}}

and returns a `Parsed`: the trades, or the reason there are none (`not JSON`, `JSON, but not a
trade: keys type, data`...). Numbers keep their digits (Decimal), as in `Trade.from_json`.

Streamlab's own wire form, exactly as `Trade.to_bytes` writes it without optional fields and with
plain ASCII strings, is read by one regular expression instead of `json.loads` (about 3x faster);
it gives the same Trade, and anything else (other spacing or key order, escapes, optional fields,
a string price) takes the general path.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, Optional

from streamlab.records import OPTIONAL_TRADE_FIELDS, TRADE_FIELDS, Trade

#: how many of an unknown object's keys a reason names
MAX_KEYS_SHOWN = 6


_STR = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]*)"'  # a JSON string of printable ASCII with no escape: itself
_INT = rb"(-?(?:0|[1-9][0-9]*))"
_NUM = rb"(-?(?:0|[1-9][0-9]*)(?:(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?))"  # JSON's number grammar
_WIRE = re.compile(rb'\{"source": ' + _STR + rb', "symbol": ' + _STR + rb', "price": ' + _NUM + rb', "volume": (?:null|'
                   + _NUM + rb'), "event_time": ' + _INT + rb', "ingest_time": ' + _INT + rb"\}")


class Parsed(NamedTuple):
    trades: list
    reason: Optional[str] = None  # why there are no trades (set when the record is not trades)
    heartbeat: bool = False  # a keep-alive (Finnhub's ping): skipped, not a failure

    @property
    def ok(self) -> bool:
        return self.reason is None


class _Bad(Exception):
    """A record of a known shape whose fields are not of the documented types."""


def parse(data: bytes, ingest_ms: int = 0) -> Parsed:
    """The trades in one record (bytes as they travel), or why it holds none. Never raises."""
    m = _WIRE.fullmatch(data) if type(data) is bytes else None
    if m is not None and m.group(2):
        try:
            return Parsed([_plain_wire(*m.groups())])
        except (ValueError, ArithmeticError):  # e.g. an integer past int()'s digit limit: say it as json does
            pass
    try:
        obj = json.loads(data, parse_float=Decimal)
    except (ValueError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return Parsed([], "not JSON")
    if not isinstance(obj, dict):
        return Parsed([], f"JSON, but not a trade: a {_kind(obj)}")
    try:
        return _parse_object(obj, ingest_ms)
    except _Bad as exc:
        return Parsed([], str(exc))


def _parse_object(obj: dict, ingest_ms: int) -> Parsed:
    if all(f in obj for f in TRADE_FIELDS):
        return Parsed([_wire(obj)])
    kind = obj.get("type")
    if kind == "trade" and "data" in obj:
        return Parsed(_finnhub(obj["data"], ingest_ms))
    if kind == "ping":
        return Parsed([], heartbeat=True)
    if kind == "error":
        return Parsed([], f"a Finnhub error message: {obj.get('msg')}")
    inner = obj.get("data") if "stream" in obj else obj
    if isinstance(inner, dict) and inner.get("e") in ("trade", "aggTrade"):
        return Parsed([_binance(inner, ingest_ms)])
    if inner is not obj and isinstance(inner, dict):
        return Parsed([], f"JSON, but not a trade: a Binance {inner.get('e')!r} event from {obj.get('stream')}")
    keys = list(obj)
    shown = ", ".join(str(k) for k in keys[:MAX_KEYS_SHOWN]) + (", ..." if len(keys) > MAX_KEYS_SHOWN else "")
    return Parsed([], f"JSON, but not a trade: keys {shown}" if keys else "JSON, but not a trade: an empty object")


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _number(value: Any, what: str) -> Any:
    """An int or Decimal (JSON numbers, or Binance's numeric strings), finite; else _Bad."""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise _Bad(f"{what} is not a number: {value!r}") from None
    if type(value) not in (int, Decimal) or (isinstance(value, Decimal) and not value.is_finite()):
        raise _Bad(f"{what} is not a number: {value!r}")
    return value


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise _Bad(f"{what} is not an integer time in ms: {value!r}")
    return value


def _symbol(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad(f"{what} without a symbol")
    return value


def _wire(obj: dict) -> Trade:
    known = {f: obj[f] for f in TRADE_FIELDS + OPTIONAL_TRADE_FIELDS if f in obj}
    _symbol(known["symbol"], "a streamlab trade")
    known["price"] = _number(known["price"], "a streamlab trade's price")
    if known["volume"] is not None:
        known["volume"] = _number(known["volume"], "a streamlab trade's volume")
    _int(known["event_time"], "a streamlab trade's event_time")
    return Trade(**known)


def _json_number(text: bytes) -> Any:
    """What json.loads(parse_float=Decimal) makes of a JSON number: an int, or a Decimal of its digits."""
    return Decimal(text.decode()) if b"." in text or b"e" in text or b"E" in text else int(text)


def _plain_wire(source: bytes, symbol: bytes, price: bytes, volume: Optional[bytes], event_time: bytes,
                ingest_time: bytes) -> Trade:
    """The Trade `_wire` makes of the same object, from `_WIRE`'s groups."""
    return Trade(source.decode(), symbol.decode(), _json_number(price), None if volume is None else _json_number(volume),
                 int(event_time), int(ingest_time))


def _finnhub(data: Any, ingest_ms: int) -> list:
    if not isinstance(data, list):
        raise _Bad("a Finnhub trade message whose data is not a list")
    out = []
    for d in data:
        if not isinstance(d, dict) or not all(k in d for k in ("s", "p", "t")):
            raise _Bad("a Finnhub trade without s/p/t fields")
        v = d.get("v")
        t = _int(d["t"], "a Finnhub trade's t")
        out.append(Trade("finnhub", _symbol(d["s"], "a Finnhub trade"), _number(d["p"], "a Finnhub trade's p"),
                         None if v is None else _number(v, "a Finnhub trade's v"), t, ingest_ms, t, None, d.get("c")))
    return out


def _binance(d: dict, ingest_ms: int) -> Trade:
    if not all(k in d for k in ("s", "p", "q", "T")):
        raise _Bad(f"a Binance {d['e']} event without s/p/q/T fields")
    t = _int(d["T"], "a Binance trade's T")
    event = d.get("E")
    trade_id = d.get("t", d.get("a"))
    extra = {"m": d["m"]} if "m" in d else None
    return Trade("binance", _symbol(d["s"], "a Binance trade"), _number(d["p"], "a Binance trade's p"),
                 _number(d["q"], "a Binance trade's q"), event if type(event) is int else t, ingest_ms, t, trade_id, None, extra)
