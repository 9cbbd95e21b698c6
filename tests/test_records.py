"""The wire form: round trips exactly, keeps provider digits, and is what the README documents."""

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from streamlab.records import Trade
from streamlab.sources.synthetic import DEFAULT_SYMBOLS, SyntheticSource, parse_symbols, step
from streamlab.settings import load_settings


def test_trade_wire_form_has_documented_fields():
    t = Trade("synthetic", "Index_1", 100.5, None, 1_700_000_000_000, 1_700_000_000_003)
    obj = json.loads(t.to_bytes())
    assert obj == {"source": "synthetic", "symbol": "Index_1", "price": 100.5, "volume": None,
                   "event_time": 1_700_000_000_000, "ingest_time": 1_700_000_000_003}


def test_decimal_digits_survive_exactly():
    t = Trade("binance", "BTCUSDT", Decimal("67432.01000000"), Decimal("0.00012000"), 1, 2, trade_id=42)
    assert '"price": 67432.01000000' in t.to_json()
    back = Trade.from_json(t.to_json())
    assert back.price == Decimal("67432.01000000") and str(back.volume) == "0.00012000"


@given(
    symbol=st.text(min_size=1, max_size=20),
    price=st.floats(min_value=0.0001, max_value=1e9, allow_nan=False),
    volume=st.one_of(st.none(), st.floats(min_value=0, max_value=1e9, allow_nan=False)),
    t=st.integers(min_value=0, max_value=2**42),
    conditions=st.one_of(st.none(), st.lists(st.text(max_size=3), max_size=3)),
)
def test_round_trip_any_trade(symbol, price, volume, t, conditions):
    trade = Trade("x", symbol, price, volume, t, t + 1, conditions=conditions)
    obj = json.loads(trade.to_json())  # valid JSON for any symbol text
    assert obj["symbol"] == symbol and obj["price"] == price and obj["volume"] == volume
    back = Trade.from_json(trade.to_json())
    assert back.symbol == symbol and float(back.price) == price


def test_from_json_rejects_malformed_with_reason():
    import pytest

    for bad, reason in [("not json", "not JSON"), ("[1]", "not a JSON object"), ('{"symbol": "A"}', "missing fields")]:
        with pytest.raises(ValueError, match=reason):
            Trade.from_json(bad)


def test_synthetic_defaults_follow_the_serverless_lab():
    assert DEFAULT_SYMBOLS == {"Index_1": 100.0, "Index_2": 90.0, "Index_3": 80.0, "Index_4": 70.0, "Index_5": 60.0}
    assert parse_symbols("AAPL=150,MSFT") == {"AAPL": 150.0, "MSFT": 100.0}


def test_synthetic_is_reproducible_with_a_seed_and_moves_a_little():
    clock = lambda: 1_700_000_000.0  # noqa: E731
    a = SyntheticSource(load_settings(), seed=3, clock=clock)
    b = SyntheticSource(load_settings(), seed=3, clock=clock)
    ra, rb = a.records(), b.records()
    first = [next(ra) for _ in range(50)]
    assert [x.to_json() for x in first] == [next(rb).to_json() for _ in range(50)]
    last = {}
    for rec in first:
        if rec.symbol in last:
            assert abs(rec.price - last[rec.symbol]) <= last[rec.symbol] * 0.005 + 0.01
        last[rec.symbol] = rec.price
        assert rec.event_time == 1_700_000_000_000


@given(st.floats(min_value=0.01, max_value=1e6), st.integers(0, 2**32))
def test_step_never_goes_below_a_cent(price, seed):
    import random

    assert step(price, random.Random(seed)) >= 0.01
