"""The ticker/trades transform on batch DataFrames (the same functions run on the stream)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from streamlab.records import Trade
from streamlab.spark.datasets import TickerDataset

pytestmark = [pytest.mark.spark, pytest.mark.spark35]  # also runs under pyspark 3.5 (`make test-spark35`)

ticker = TickerDataset()

T0 = 1764000000000  # 2025-11-24 16:00:00 UTC, a minute boundary


def raw_df(spark, payloads):
    return spark.createDataFrame([(p if p is None else p.encode(),) for p in payloads], "data BINARY")


def test_parse_keeps_every_row_and_says_why_a_row_is_bad(spark):
    good = Trade("synthetic", "Index_1", 100.5, None, T0, T0 + 3).to_json()
    payloads = [
        good,
        "not json at all",
        "[1, 2, 3]",
        '{"symbol": "X", "event_time": 1}',
        '{"symbol": "X", "price": "abc", "event_time": 1}',
    ]
    rows = ticker.parse(raw_df(spark, payloads)).collect()
    assert len(rows) == len(payloads)
    by_raw = {r["_raw"]: r for r in rows}
    assert by_raw[good]["_error"] is None
    assert by_raw[good]["event_ts"] == datetime(2025, 11, 24, 16, 0, tzinfo=timezone.utc).replace(tzinfo=None)
    assert by_raw["not json at all"]["_error"] == "not JSON"
    assert by_raw["[1, 2, 3]"]["_error"] == "not a JSON object"
    assert by_raw['{"symbol": "X", "event_time": 1}']["_error"] == "missing fields: price"
    assert by_raw['{"symbol": "X", "price": "abc", "event_time": 1}']["_error"] == "not JSON"

    q = ticker.quarantine(ticker.parse(raw_df(spark, payloads))).collect()
    assert sorted(r["raw"] for r in q) == sorted(payloads[1:])
    assert ticker.good(ticker.parse(raw_df(spark, payloads))).count() == 1


def test_windows_open_high_low_close_count_vwap(spark):
    trades = [
        Trade("t", "A", 10.0, 1, T0 + 1_000, T0),
        Trade("t", "A", 12.0, 3, T0 + 2_000, T0),
        Trade("t", "A", 9.0, None, T0 + 3_000, T0),  # no volume: counts, but not in the VWAP
        Trade("t", "A", 11.0, 1, T0 + 59_999, T0),
        Trade("t", "A", 50.0, 1, T0 + 60_000, T0),  # next window
        Trade("t", "B", 5.0, None, T0 + 30_000, T0),  # no volume at all: vwap null
    ]
    # out of order on purpose: open/close follow event time, not arrival
    payloads = [t.to_json() for t in reversed(trades)]
    rows = ticker.windows(ticker.good(ticker.parse(raw_df(spark, payloads)))).orderBy("symbol", "window_start").collect()
    got = {(r["symbol"], r["window_start"].minute): r.asDict() for r in rows}
    a0 = got[("A", 0)]
    assert (a0["open"], a0["high"], a0["low"], a0["close"], a0["count"]) == (10.0, 12.0, 9.0, 11.0, 4)
    assert a0["vwap"] == pytest.approx((10 * 1 + 12 * 3 + 11 * 1) / 5)
    assert a0["window_end"].minute == 1
    assert got[("A", 1)]["count"] == 1 and got[("A", 1)]["open"] == 50.0
    assert got[("B", 0)]["vwap"] is None and got[("B", 0)]["count"] == 1
