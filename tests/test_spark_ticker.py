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
    assert by_raw['{"symbol": "X", "price": "abc", "event_time": 1}']["_error"] == "price is not a number"

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


NOW = 1_767_225_600_000  # event times near the test's own clock are plausible; T0 is a year before


def parsed_rows(spark, payloads, max_future=3600.0):
    from streamlab.spark.datasets.ticker import TickerDataset

    return TickerDataset(max_future=max_future).parse(raw_df(spark, payloads)).collect()


def test_provider_native_json_parses_one_row_per_trade(spark):
    finnhub = ('{"type":"trade","data":[{"p":97001.5,"s":"BINANCE:BTCUSDT","t":%d,"v":0.01,"c":["1"]},'
               '{"p":97002,"s":"BINANCE:BTCUSDT","t":%d,"v":0.02,"c":null}]}' % (T0, T0 + 5))
    binance = '{"e":"trade","E":%d,"s":"ETHUSDT","t":4242,"p":"3001.25","q":"0.500","T":%d,"m":true,"M":true}' % (T0 + 9, T0 + 8)
    combined = '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":77,"p":"97000.00","q":"1.5","f":1,"l":2,"T":%d,"m":false}}' % (T0 + 7)
    combined = combined.replace('"E":1,', '"E":%d,' % (T0 + 6))
    rows = parsed_rows(spark, [finnhub, binance, combined, '{"type":"ping"}'])
    good = [r for r in rows if r["_error"] is None]
    got = sorted((r["source"], r["symbol"], r["price"], r["volume"], r["event_time"], r["trade_id"]) for r in good)
    assert got == sorted([
        ("finnhub", "BINANCE:BTCUSDT", 97001.5, 0.01, T0, None),
        ("finnhub", "BINANCE:BTCUSDT", 97002.0, 0.02, T0 + 5, None),
        ("binance", "ETHUSDT", 3001.25, 0.5, T0 + 9, "4242"),  # E, as streamlab's binance source; t is the trade id
        ("binance", "BTCUSDT", 97000.0, 1.5, T0 + 6, "77"),
    ])
    ping = [r for r in rows if r["_raw"] == '{"type":"ping"}']
    assert len(ping) == 1 and ping[0]["_error"].startswith("skipped: ")
    assert sum(r["_records"] for r in rows) == 4  # four records read, five rows
    from streamlab.spark.datasets.ticker import TickerDataset

    q = TickerDataset().quarantine(TickerDataset().parse(raw_df(spark, [finnhub, '{"type":"ping"}']))).count()
    assert q == 0  # a ping is not a problem


@pytest.mark.parametrize("payload, reason", [
    ('{"type":"subscribe","data":"x"}', "JSON, but not a trade: keys data, type"),
    ('{"symbol":"A","price":"NaN","event_time":%d}' % NOW, "price is not a positive finite number"),
    ('{"symbol":"A","price":Infinity,"event_time":%d}' % NOW, "price is not a number"),  # JSON has no Infinity
    ('{"symbol":"A","price":-1,"event_time":%d}' % NOW, "price is not a positive finite number"),
    ('{"symbol":"A","price":1,"volume":-2,"event_time":%d}' % NOW, "volume is negative or not finite"),
    ('{"symbol":"A","price":1,"volume":"lots","event_time":%d}' % NOW, "volume is not a number"),
    ('{"symbol":"","price":1,"event_time":%d}' % NOW, "symbol is empty"),
    ('{"symbol":"A","price":1,"event_time":"soon"}', "event_time is not a whole number of milliseconds"),
    ('{"symbol":"A","price":1,"event_time":1767225600}', "event_time is before 2000 (seconds instead of milliseconds?)"),
    ('{"symbol":"A","price":1,"event_time":%d}' % (NOW * 1000), "event_time is more than 3600s ahead of arrival (microseconds instead of milliseconds?)"),
])
def test_values_that_are_not_trades_are_quarantined_with_a_reason(spark, payload, reason):
    rows = parsed_rows(spark, [payload])
    assert [r["_error"] for r in rows] == [reason]


def test_a_microsecond_event_time_does_not_end_the_windows(spark):
    """One trade stamped in microseconds used to move the watermark ~160 years ahead."""
    import time

    now = int(time.time() * 1000)
    payloads = [Trade("t", "A", 10.0 + i, 1, now + i * 1000, now).to_json() for i in range(3)]
    payloads.insert(1, Trade("t", "A", 99.0, 1, now * 1000, now).to_json())
    rows = parsed_rows(spark, payloads)
    assert [r["_error"] is None for r in rows] == [True, False, True, True]
    from streamlab.spark.datasets.ticker import TickerDataset

    good = TickerDataset().good(TickerDataset().parse(raw_df(spark, payloads)))
    assert good.agg({"event_time": "max"}).first()[0] == now + 2000  # the watermark's input stays sane
