"""The trade wire form: the fast hand-built JSON is exactly what json.dumps writes, and parses back."""

from __future__ import annotations

import json
import math
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from streamlab.records import Trade

finite = st.floats(allow_nan=False, allow_infinity=False)
number = st.one_of(st.none(), finite, st.integers(-(2**60), 2**60))
#: extra's values: the flat ones take the hand-built path, floats and lists go through json.dumps
scalar = st.one_of(st.none(), st.booleans(), st.text(), st.integers(), st.floats(), st.lists(st.integers(), max_size=2))


def reference(t: Trade) -> str:
    """json.dumps of the documented fields, in order (floats/ints/None only: Decimal keeps digits instead)."""
    obj = {"source": t.source, "symbol": t.symbol, "price": t.price, "volume": t.volume,
           "event_time": t.event_time, "ingest_time": t.ingest_time}
    for k in ("trade_time", "trade_id", "conditions"):
        if getattr(t, k) is not None:
            obj[k] = getattr(t, k)
    if t.extra:
        obj["extra"] = t.extra
    return json.dumps(obj)


@settings(max_examples=400, deadline=None)
@given(
    st.text(), st.text(), number, number, st.integers(0, 2**45), st.integers(0, 2**45),
    st.one_of(st.none(), st.integers(0, 2**45)), st.one_of(st.none(), st.text(), st.integers()),
    st.one_of(st.none(), st.lists(st.text(), max_size=3)), st.one_of(st.none(), st.dictionaries(st.text(), scalar, max_size=3)),
)
def test_wire_form_equals_json_dumps(source, symbol, price, volume, event, ingest, trade_time, trade_id, conditions, extra):
    t = Trade(source, symbol, price, volume, event, ingest, trade_time, trade_id, conditions, extra)
    assert t.to_json() == reference(t)
    assert t.to_bytes() == reference(t).encode()


def test_special_values():
    t = Trade("binance", "BTCUSDT", Decimal("67432.01000000"), math.nan, 1, 2)
    assert t.to_json() == '{"source": "binance", "symbol": "BTCUSDT", "price": 67432.01000000, "volume": null, "event_time": 1, "ingest_time": 2}'
    assert Trade("s", "é", math.inf, 1.5, 1.9, 2).to_json() == '{"source": "s", "symbol": "\\u00e9", "price": null, "volume": 1.5, "event_time": 1, "ingest_time": 2}'
    assert Trade.from_json(t.to_bytes()).price == Decimal("67432.01000000")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.decimals(), st.decimals(places=8), st.builds(Decimal, st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{0,12})?(E[+-]?[0-9]{1,3})?", fullmatch=True))))
def test_decimal_digits_are_format_f(d):
    """A Decimal is written as format(d, "f") writes it (exact digits, never exponent notation)."""
    t = Trade("binance", "BTCUSDT", d, d, 1, 2)
    assert t.to_json() == f'{{"source": "binance", "symbol": "BTCUSDT", "price": {format(d, "f")}, "volume": {format(d, "f")}, "event_time": 1, "ingest_time": 2}}'
