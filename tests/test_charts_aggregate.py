"""The numbers behind each chart, on known rows (streamlab.charts.aggregate): exact values."""

import pytest

from streamlab.charts import aggregate as agg
from streamlab.errors import ConfigError
from tests.fixtures.charts import trade, window

T0 = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC


def test_candles_closed_win_over_open_and_the_newest_open_batch_wins():
    closed = [dict(window("BTCUSDT", T0, 10, 12, 9, 11, volume=2.0), batch_id=1)]
    opened = [
        dict(window("BTCUSDT", T0, 10, 99, 1, 50), batch_id=0),  # superseded by the closed one
        dict(window("BTCUSDT", T0 + 10_000, 11, 13, 11, 12), batch_id=1),
        dict(window("BTCUSDT", T0 + 10_000, 11, 14, 10, 13), batch_id=2),  # newer batch: wins
        dict(window("ETHUSDT", T0, 3, 3, 3, 3), batch_id=2),
    ]
    out = agg.candles(closed, opened, symbols=["BTCUSDT"])
    assert list(out) == ["BTCUSDT"]
    a, b = out["BTCUSDT"]
    assert (a.start, a.open, a.high, a.low, a.close, a.volume, a.is_open) == (T0, 10, 12, 9, 11, 2.0, False)
    assert (b.start, b.high, b.low, b.close, b.is_open) == (T0 + 10_000, 14, 10, 13, True)
    assert list(agg.candles(closed, opened, since=T0 + 5_000)) == ["BTCUSDT", "ETHUSDT"][:1]
    assert agg.candles(closed, opened, until=T0) == {}


def test_price_series_orders_by_event_then_ingest_time_and_downsamples_to_bucket_last():
    rows = [trade("A", 3.0, T0 + 2000), trade("A", 1.0, T0), trade("B", 7.0, T0 + 500), trade("A", 2.0, T0 + 1000)]
    rows.append(dict(trade("A", 2.5, T0 + 1000), ingest_time=T0 + 1010))  # same ms, ingested later (2.0 at +1005): after it
    assert agg.price_series(rows) == {"A": [(T0, 1.0), (T0 + 1000, 2.0), (T0 + 1000, 2.5), (T0 + 2000, 3.0)], "B": [(T0 + 500, 7.0)]}
    pts = [(T0 + i * 100, float(i)) for i in range(11)]  # 0..1000 ms, 11 points, 2 buckets of 500 ms
    assert agg.downsample(pts, 2) == [(T0 + 400, 4.0), (T0 + 1000, 10.0)]
    assert agg.price_series(rows, symbols=["A"], since=T0 + 1000, until=T0 + 2000) == {"A": [(T0 + 1000, 2.0), (T0 + 1000, 2.5)]}


def test_latest_prices_change_since_first_trade():
    out = agg.latest_prices([trade("A", 100.0, T0), trade("A", 110.0, T0 + 2), trade("A", 105.0, T0 + 1)])
    assert out["A"]["price"] == 110.0 and out["A"]["first"] == 100.0
    assert out["A"]["change"] == 10.0 and out["A"]["change_pct"] == 10.0 and out["A"]["trades"] == 3


@pytest.mark.parametrize("symbol,expected", [
    ("BTCUSDT", ("BTC", "USDT")), ("BINANCE:ETHUSDC", ("ETH", "USDC")), ("ETHBTC", ("ETH", "BTC")),
    ("BNBETH", ("BNB", "ETH")), ("AAPL", ("AAPL", "USD")), ("Index_1", ("INDEX_1", "USD")), ("USDT", ("USDT", "USD")),
])
def test_quote_assets(symbol, expected):
    assert agg.quote_of(symbol) == expected


def test_units_per_symbol_sums_volume_and_counts_trades():
    rows = [trade("BTCUSDT", 1, T0, 0.5), trade("ETHUSDT", 1, T0, 2.0), trade("BTCUSDT", 1, T0, 0.25), trade("X", 1, T0, None)]
    assert agg.units_per_symbol(rows) == [("ETHUSDT", 2.0, 1), ("BTCUSDT", 0.75, 2), ("X", 0.0, 1)]


def test_value_in_usd_converts_other_quotes_with_the_latest_stream_price():
    rows = [
        trade("BTCUSDT", 90_000.0, T0, 0.5),       # 45,000
        trade("BTCUSDT", 100_000.0, T0 + 10, 0.1),  # 10,000; and the latest BTC price
        trade("ETHBTC", 0.03, T0, 10.0),            # 0.3 BTC x 100,000 = 30,000
        trade("BNBETH", 0.2, T0, 5.0),              # 1 ETH, but no ETHUSDT in the data
        trade("AAPL", 200.0, T0, 3.0),              # a stock: dollars
    ]
    v = agg.value_per_symbol(rows)
    assert v.rows == [("BTCUSDT", 55_000.0, 0.6), ("ETHBTC", pytest.approx(30_000.0), 10.0), ("AAPL", 600.0, 3.0)]
    assert v.converted == {"ETHBTC": "x BTCUSDT 100,000.00"}
    assert v.unpriced == ["BNBETH"]
    assert v.total == pytest.approx(85_600.0)


def test_hashtags_per_window_and_trend():
    rows = [
        {"window_start": T0, "hashtag": "spark", "count": 5}, {"window_start": T0, "hashtag": "aws", "count": 5},
        {"window_start": T0, "hashtag": "kafka", "count": 1},
        {"window_start": T0 + 60_000, "hashtag": "kafka", "count": 9}, {"window_start": T0 + 60_000, "hashtag": "spark", "count": 2},
    ]
    # ties by name; the newest windows last
    assert agg.hashtags_per_window(rows, top=2) == [(T0, [("aws", 5), ("spark", 5)]), (T0 + 60_000, [("kafka", 9), ("spark", 2)])]
    assert agg.hashtags_per_window(rows, top=1, last=1) == [(T0 + 60_000, [("kafka", 9)])]
    starts, series = agg.hashtag_trend(rows, top=2)
    assert starts == [T0, T0 + 60_000]
    assert series == {"kafka": [1, 9], "spark": [5, 2]}  # totals 10 and 7 beat aws's 5


def test_hashtag_counts_from_posts_use_tumbling_windows():
    posts = [{"hashtags": ["a", "b"], "event_ts": T0 + 1}, {"hashtags": ["a"], "event_ts": T0 + 59_999},
             {"hashtags": ["a"], "event_ts": T0 + 60_000}, {"hashtags": [], "event_ts": T0}, {"hashtags": ["z"], "event_ts": None}]
    assert agg.hashtag_counts_from_posts(posts, 60_000) == [
        {"window_start": T0, "window_end": T0 + 60_000, "hashtag": "a", "count": 2},
        {"window_start": T0, "window_end": T0 + 60_000, "hashtag": "b", "count": 1},
        {"window_start": T0 + 60_000, "window_end": T0 + 120_000, "hashtag": "a", "count": 1},
    ]


def test_squarify_the_papers_example():
    # Bruls, Huizing, van Wijk (2000), figure 3: 6, 6, 4, 3, 2, 2, 1 in a 6 x 4 rectangle
    rects = agg.squarify([6, 6, 4, 3, 2, 2, 1], 0, 0, 6, 4)
    assert [tuple(round(v, 4) for v in r) for r in rects] == [
        (0, 0, 3, 2), (0, 2, 3, 2),
        (3, 0, 1.7143, 2.3333), (4.7143, 0, 1.2857, 2.3333),
        (3, 2.3333, 1.2, 1.6667), (4.2, 2.3333, 1.2, 1.6667), (5.4, 2.3333, 0.6, 1.6667),
    ]
    assert sum(w * h for _, _, w, h in rects) == pytest.approx(24)


@pytest.mark.parametrize("text,ms", [
    ("2025-11-24T16:00:00", T0), ("2025-11-24T17:00:00+01:00", T0), ("2025-11-24T16:00:00Z", T0),
    ("1764000000", T0), ("1764000000000", T0), (None, None),
])
def test_parse_time(text, ms):
    assert agg.parse_time(text) == ms


def test_bad_times_and_durations_are_config_errors():
    with pytest.raises(ConfigError) as e:
        agg.parse_time("yesterday")
    assert e.value.one_line() == "cannot read the time 'yesterday'; use ISO 8601 (2025-11-24T16:00, UTC unless a zone is given) or epoch seconds"
    with pytest.raises(ConfigError) as e:
        agg.parse_duration("soon")
    assert "use e.g. 10s, 1m, 1h or 1d" in e.value.one_line()
    assert agg.parse_duration("1 minute") == 60_000 and agg.parse_duration("10s") == 10_000 and agg.parse_duration("2h") == 7_200_000
    assert agg.parse_duration("1d") == 86_400_000 and agg.parse_duration("2 days") == 172_800_000
