"""`streamlab sample`: N records of a stream -> trades, units and USD value per symbol.

Against the moto server (a 2-shard stream), the tansu broker (a 2-partition topic) and a local
stand-in for Binance's REST ticker. The records mix every shape `trade_shapes` reads: streamlab's
wire form, a Finnhub message (two trades), a Finnhub ping, a raw Binance trade event, a Binance
combined-stream message (ETHBTC, priced in BTC) and two that are not trades. The expected numbers
are worked out by hand below.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from streamlab.records import Trade
from streamlab.trade_shapes import parse
from tests.fixtures.aws import new_stream

WIRE = Trade("binance", "BTCUSDT", Decimal("90000.50"), Decimal("0.002"), 1000, 1003).to_bytes()
BINANCE = json.dumps({"e": "trade", "E": 2001, "s": "BTCUSDT", "t": 11, "p": "91000.00", "q": "0.010", "T": 2000, "m": True}).encode()
FINNHUB = json.dumps({"type": "trade", "data": [
    {"p": 3000.5, "s": "BINANCE:ETHUSDT", "t": 1500, "v": 0.5, "c": None},
    {"p": 3001, "s": "BINANCE:ETHUSDT", "t": 1600, "v": 1.5},
]}).encode()
PING = b'{"type":"ping"}'
COMBINED = json.dumps({"stream": "ethbtc@trade", "data": {
    "e": "trade", "E": 2100, "s": "ETHBTC", "t": 5, "p": "0.03300000", "q": "2.00000000", "T": 2100, "m": False}}).encode()
JUNK = b"\x00\x01 not a record"
OTHER = b'{"hello": "world", "n": 1}'

SHARD_0 = [WIRE, FINNHUB, COMBINED, OTHER]
SHARD_1 = [BINANCE, PING, JUNK]

# BTCUSDT: 90000.50 x 0.002 = 180.001, 91000.00 x 0.010 = 910.00 -> 1090.001 USD, 0.012 units
# BINANCE:ETHUSDT: 3000.5 x 0.5 = 1500.25, 3001 x 1.5 = 4501.5 -> 6001.75 USD, 2.0 units
# ETHBTC: 0.033 x 2 = 0.066 BTC; the latest BTCUSDT in the sample (event time 2001) is 91000.00
#   -> 6006.00 USD; with Binance's ticker at 95000 -> 6270.00 USD
BTC = {"symbol": "BTCUSDT", "trades": 2, "units": 0.012, "value_usd": 1090.001}
ETH = {"symbol": "BINANCE:ETHUSDT", "trades": 2, "units": 2.0, "value_usd": 6001.75}
UNPARSED = {"count": 2, "reasons": {"not JSON": 1, "JSON, but not a trade: keys hello, n": 1}}


def expected(ethbtc_usd: float) -> dict:
    ethbtc = {"symbol": "ETHBTC", "trades": 1, "units": 2.0, "value_usd": ethbtc_usd}
    rows = sorted([BTC, ETH, ethbtc], key=lambda r: -r["value_usd"])
    return {"symbols": rows, "total": {"trades": 5, "units": 4.012, "value_usd": 1090.001 + 6001.75 + ethbtc_usd}}


def numbers(doc: dict) -> dict:
    return {"symbols": doc["symbols"], "total": doc["total"]}


def approx(doc: dict) -> dict:
    """Exact sums printed as floats: equal to the hand-worked values up to float rounding."""
    return {"symbols": [{**r, "units": pytest.approx(r["units"], abs=1e-12), "value_usd": pytest.approx(r["value_usd"], abs=1e-9)} for r in doc["symbols"]],
            "total": {k: pytest.approx(v, abs=1e-9) for k, v in doc["total"].items()}}


# -- the parser ------------------------------------------------------------------------------------
def test_every_shape_parses_to_the_same_trades_or_says_why_not():
    (wire,) = parse(WIRE).trades
    assert (wire.symbol, wire.price, wire.volume, wire.event_time) == ("BTCUSDT", Decimal("90000.50"), Decimal("0.002"), 1000)
    (raw,) = parse(BINANCE, 7).trades
    assert (raw.source, raw.symbol, raw.price, raw.volume, raw.event_time, raw.trade_time, raw.trade_id, raw.extra) == (
        "binance", "BTCUSDT", Decimal("91000.00"), Decimal("0.010"), 2001, 2000, 11, {"m": True})
    assert [(t.symbol, t.price, t.volume, t.event_time) for t in parse(FINNHUB).trades] == [
        ("BINANCE:ETHUSDT", Decimal("3000.5"), Decimal("0.5"), 1500), ("BINANCE:ETHUSDT", 3001, Decimal("1.5"), 1600)]
    (combined,) = parse(COMBINED).trades
    assert (combined.symbol, combined.price, combined.volume) == ("ETHBTC", Decimal("0.03300000"), Decimal("2.00000000"))
    assert parse(PING) == ([], None, True)
    assert parse(JUNK) == ([], "not JSON", False)
    assert parse(b'{"type": "trade", "data": 5}').reason == "a Finnhub trade message whose data is not a list"
    assert parse(b'{"type": "x", "data": []}').reason == "JSON, but not a trade: keys type, data"
    assert parse(b'[1, 2]').reason == "JSON, but not a trade: a list"
    assert parse(b'{"e": "trade", "s": "BTCUSDT", "p": "abc", "q": "1", "T": 1}').reason == "a Binance trade's p is not a number: 'abc'"
    assert parse(b'{"stream": "btcusdt@depth", "data": {"e": "depthUpdate"}}').reason == "JSON, but not a trade: a Binance 'depthUpdate' event from btcusdt@depth"
    assert parse(b"tweet text #hashtag").reason == "not JSON"


def test_the_wire_forms_fast_path_gives_what_json_gives(monkeypatch):
    """Plain wire-form records skip json.loads (trade_shapes._WIRE): the same Trade, or the same
    reason, as the general path, for what streamlab writes and for near misses of it."""
    import re

    from streamlab import trade_shapes

    plain = [Trade(src, sym, price, vol, 1764000000000, 1764000000005).to_bytes() for src, sym, price, vol in [
        ("binance", "BTCUSDT", 110.0996, 0.154), ("synthetic", "Index_1", 100, None), ("x", "BINANCE:BTCUSDT", Decimal("67432.01000000"), Decimal("0E-8")),
        ("", "S", Decimal("1E+400"), -0.0), ("a", "b c/d.e-f", -1e-300, 12345678901234567890), ("a", "S", 1.5e300, Decimal("-0"))]]
    for data in plain:
        assert trade_shapes._WIRE.fullmatch(data), data  # these do take the fast path
    others = [
        plain[0].replace(b'"price": 110.0996', b'"price": "lots"'), plain[0].replace(b"SYM", b"").replace(b'"BTCUSDT"', b'""'),
        plain[0].replace(b'"price": 110.0996', b'"price": 01'), plain[0].replace(b'"price": 110.0996', b'"price": 1.'),
        plain[0].replace(b'"price": 110.0996', b'"price": -0'), plain[0].replace(b'"price": 110.0996', b'"price": 2E5'),
        plain[0].replace(b'"event_time": 1764000000000', b'"event_time": 1.5'), plain[0].replace(b'"event_time": 1764000000000', b'"event_time": -0'),
        plain[0].replace(b'"price": 110.0996', b'"price": ' + b"9" * 5000), plain[0].replace(b"BTCUSDT", "BTC\u00e9".encode()),
        plain[0].replace(b"BTCUSDT", "BTCé".encode()), plain[0].replace(b"BTCUSDT", b'BT\"C'), plain[0] + b" ", plain[0][:-1] + b', "trade_time": 5}',
        plain[0].replace(b'"ingest_time": 1764000000005', b'"ingest_time": null'), plain[0].replace(b'"volume": 0.154', b'"volume": null'),
        Trade("binance", "BTCUSDT", 1, 2, 3, 4, trade_id=7).to_bytes(),
    ]
    fast = [parse(d) for d in plain + others]
    monkeypatch.setattr(trade_shapes, "_WIRE", re.compile(rb"(?!)"))  # the general path only
    slow = [parse(d) for d in plain + others]
    assert [repr(p) for p in fast] == [repr(p) for p in slow]  # repr: the same types and digits, not only equal values
    assert [type(t.price) for t in fast[0].trades + fast[1].trades] == [Decimal, int]
    assert fast[2].trades[0].price.as_tuple() == Decimal("67432.01000000").as_tuple()  # every digit kept
    assert fast[len(plain)].reason == "a streamlab trade's price is not a number: 'lots'"


# -- Kinesis ---------------------------------------------------------------------------------------
def put(kinesis, stream: str, shard_0: list[bytes], shard_1: list[bytes]) -> None:
    """Records into shard 0 and shard 1 of a 2-shard stream (the MD5 of "shard-0" is in the lower
    half of the hash key range, that of "shard-1" in the upper half)."""
    entries = [{"Data": d, "PartitionKey": "shard-0"} for d in shard_0] + [{"Data": d, "PartitionKey": "shard-1"} for d in shard_1]
    assert kinesis.put_records(StreamName=stream, Records=entries)["FailedRecordCount"] == 0


@pytest.fixture
def two_shards(kinesis):
    with new_stream(kinesis, "sample", shards=2) as name:
        put(kinesis, name, SHARD_0, SHARD_1)
        for shard in kinesis.list_shards(StreamName=name)["Shards"]:  # both shards really hold records
            it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            assert kinesis.get_records(ShardIterator=it)["Records"]
        yield name


def test_kinesis_sample_counts_every_shape_across_both_shards(aws_env, two_shards, run_cli):
    r = run_cli("sample", "--stream", two_shards, "--count", "250", "--wait", "0.5", "-o", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert numbers(doc) == approx(expected(6006.00))
    assert (doc["records"], doc["heartbeats"], doc["unparsed"], doc["prices"]) == (7, 1, UNPARSED, "stream")
    assert doc["converted"] == {"ETHBTC": "BTCUSDT 91,000.00"} and doc["unpriced"] == []


def test_kinesis_sample_table_says_where_prices_came_from(aws_env, two_shards, run_cli):
    r = run_cli("sample", "--stream", two_shards, "--wait", "0.5")
    assert r.code == 0, r.err
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]] for line in r.out.splitlines() if line.count("│") >= 5}
    assert rows["ETHBTC"] == ["1", "2", "$6,006.00", "BTCUSDT 91,000.00"]
    assert rows["BTCUSDT"] == ["2", "0.012", "$1,090.00", ""]
    assert rows["BINANCE:ETHUSDT"] == ["2", "2", "$6,001.75", ""]
    assert rows["total"] == ["5", "4.012", "$13,097.75", ""]
    assert f"5 trades in 7 records from Kinesis stream {two_shards}, 1 heartbeat (ping) skipped" in r.out
    assert "USDT, USDC, BUSD and USD quotes count 1:1; other quote assets converted with the latest USD price in this sample (--prices stream)" in r.out
    assert "2 records not parsed as trades (JSON, but not a trade: keys hello, n (1); not JSON (1))" in r.out


def test_count_limits_the_records_and_takes_from_every_shard(aws_env, two_shards, run_cli):
    # 3 records of 2 shards: shard 0 is asked for 2 (WIRE, FINNHUB), shard 1 for the last one (BINANCE)
    r = run_cli("sample", "--stream", two_shards, "--count", "3", "-o", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["records"] == 3 and doc["unparsed"]["count"] == 0
    assert numbers(doc) == approx({"symbols": [ETH, BTC], "total": {"trades": 4, "units": 2.012, "value_usd": 7091.751}})


def test_binance_prices_come_from_the_rest_ticker(aws_env, two_shards, binance_rest, run_cli):
    # BTCBUSD is listed too, at a silly price: the USDT pair is the one that prices BTC
    binance_rest.prices = {"BTCBUSD": "1.00000000", "BTCUSDT": "95000.00000000", "ETHUSDT": "3100.00000000"}
    r = run_cli("sample", "--stream", two_shards, "--wait", "0.5", "--prices", "binance", "--host", binance_rest.url, "-o", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert numbers(doc) == approx(expected(6270.00))
    assert doc["prices"] == "binance" and doc["converted"] == {"ETHBTC": "BTCUSDT 95,000.00"}
    assert binance_rest.paths == ["/api/v3/ticker/price"]
    r = run_cli("sample", "--stream", two_shards, "--wait", "0.5", "--prices", "binance", "--host", binance_rest.url)
    assert f"Binance's ticker prices from {binance_rest.url}/api/v3/ticker/price (--prices binance)" in r.out


def test_binance_prices_refused_or_unreachable_is_one_line(aws_env, two_shards, binance_rest, run_cli):
    binance_rest.status = 451
    r = run_cli("sample", "--stream", two_shards, "--prices", "binance", "--host", binance_rest.url)
    assert r.code == 5 and r.out == ""
    assert r.err.startswith("error: Binance refuses") and "HTTP 451" in r.err and "--prices stream" in r.err
    assert len(r.err.strip().splitlines()) == 1
    binance_rest.__exit__()
    r = run_cli("sample", "--stream", two_shards, "--prices", "binance", "--host", binance_rest.url)
    assert r.code == 5 and r.err.startswith(f"error: cannot reach Binance at {binance_rest.url}") and len(r.err.strip().splitlines()) == 1


def test_from_latest_and_from_a_time_read_only_what_came_after(aws_env, kinesis, run_cli):
    with new_stream(kinesis, "sample", shards=2) as name:
        put(kinesis, name, [WIRE], [BINANCE])
        r = run_cli("sample", "--stream", name, "--from", "latest", "--wait", "0.3")
        assert r.code == 0 and "no trades: 0 trades in 0 records" in r.out
        time.sleep(1.5)
        since = str(int(time.time()))
        time.sleep(1.1)
        put(kinesis, name, [FINNHUB], [])
        r = run_cli("sample", "--stream", name, "--from", since, "--wait", "0.3", "-o", "json")
        assert r.code == 0, r.err
        doc = json.loads(r.out)
        assert doc["records"] == 1 and numbers(doc) == approx({"symbols": [ETH], "total": {"trades": 2, "units": 2.0, "value_usd": 6001.75}})


def test_chart_writes_the_units_barplot(aws_env, two_shards, run_cli, tmp_path):
    from PIL import Image

    out = tmp_path / "units.png"
    r = run_cli("sample", "--stream", two_shards, "--wait", "0.5", "--chart", str(out))
    assert r.code == 0, r.err
    assert f"wrote {out} (units per symbol)" in " ".join(r.err.split())
    with Image.open(out) as img:
        img.load()
        assert img.size == (1200, 700)
        assert len(img.convert("RGB").getcolors(1 << 20)) > 10  # bars and labels, not a blank canvas


def test_missing_stream_and_bad_flags_are_one_line(aws_env, run_cli, tmp_path):
    r = run_cli("sample", "--stream", "no-such-stream")
    assert r.code == 4 and r.err.startswith("error: stream no-such-stream not found") and len(r.err.strip().splitlines()) == 1
    r = run_cli("sample", "--stream", "x", "--chart", str(tmp_path / "units.gif"))
    assert r.code == 2 and "end --chart with one of .png, .svg, .html" in r.err
    r = run_cli("sample")
    assert r.code == 2 and r.err.strip() == "error: --source kinesis needs --stream; add --stream NAME, e.g. --stream binance"


# -- Kafka -----------------------------------------------------------------------------------------
def test_kafka_sample_reads_every_partition(kafka_broker, kafka_topic, run_cli):
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    try:
        for partition, records in ((0, SHARD_0), (1, SHARD_1)):
            for data in records:  # one request each: tansu reports end offsets right then
                producer.send(kafka_topic, data, partition=partition).get(timeout=10)
    finally:
        producer.close()
    r = run_cli("sample", "--source", "kafka", "--topic", kafka_topic, "--bootstrap", kafka_broker.bootstrap, "--wait", "1", "-o", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert numbers(doc) == approx(expected(6006.00))
    assert (doc["records"], doc["heartbeats"], doc["unparsed"]) == (7, 1, UNPARSED)


def test_kafka_missing_topic_and_unreachable_broker_are_one_line(kafka_broker, run_cli):
    r = run_cli("sample", "--source", "kafka", "--topic", "no-such-topic", "--bootstrap", kafka_broker.bootstrap)
    assert r.code == 4 and r.err.startswith("error: Kafka topic no-such-topic does not exist") and len(r.err.strip().splitlines()) == 1
    r = run_cli("sample", "--source", "kafka", "--topic", "t", "--bootstrap", "127.0.0.1:1")
    assert r.code == 5 and r.err.startswith("error: cannot reach Kafka at 127.0.0.1:1") and len(r.err.strip().splitlines()) == 1


def test_a_quote_without_a_usd_price_is_listed_and_left_out_of_the_total():
    from streamlab.sample.tally import Tally, report

    xrpeth = Trade("binance", "XRPETH", Decimal("0.0005"), Decimal("100"), 1, 1).to_bytes()
    tally = Tally().add_all([xrpeth, WIRE])
    doc = report(tally, tally.latest_prices(), "stream").to_dict()
    assert doc["symbols"] == [{"symbol": "BTCUSDT", "trades": 1, "units": 0.002, "value_usd": 180.001},
                              {"symbol": "XRPETH", "trades": 1, "units": 100.0, "value_usd": None}]
    assert doc["total"] == {"trades": 2, "units": 100.002, "value_usd": 180.001} and doc["unpriced"] == ["XRPETH"]
