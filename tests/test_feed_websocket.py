"""Finnhub and Binance sources against a local websocket feed (tests/fixtures/wsfeed.py)."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest

from streamlab.settings import load_settings
from streamlab.sources.binance import BinanceSource
from streamlab.sources.websocket_base import backoff_delay
from streamlab.testing import EdgeRandom, assert_one_line, flat, pull

KEY = "sk-test-4f9a2c7e1b"  # must never show up in anything a user sees


def finnhub_trades(*trades, **kw) -> str:
    return json.dumps({"type": "trade", "data": [dict(s=s, p=p, t=t, v=v, **kw) for s, p, t, v in trades]})


def binance_trade(i: int, sym: str = "btcusdt", price: str = "67432.01000000") -> str:
    return json.dumps({"stream": f"{sym}@trade", "data": {
        "e": "trade", "E": 1764000000000 + i, "s": sym.upper(), "t": 1000 + i, "p": price,
        "q": "0.00120000", "T": 1763999999990 + i, "m": i % 2 == 0, "M": True}})


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def finnhub_key(monkeypatch):
    monkeypatch.setenv("FINNHUB_API_KEY", KEY)


def lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines()]


# --- Finnhub -----------------------------------------------------------------------------------

def test_finnhub_end_to_end_exact_records(wsfeed, run_cli, finnhub_key, home):
    feed = wsfeed([
        ("await", 2),  # both subscriptions arrived
        ("send", finnhub_trades(("BINANCE:BTCUSDT", 67432.01, 1764000000001, 0.5),
                                ("BINANCE:BTCUSDT", 67432.5, 1764000000002, 0), c=["1", "12"])),
        ("send", json.dumps({"type": "ping"})),
        ("send", json.dumps({"type": "error", "msg": "Invalid symbol NOPE"})),
        ("send", "{not json"),
        ("send", json.dumps({"type": "trade", "data": [{"s": "AAPL", "p": "x", "t": 1}]})),
        ("send", finnhub_trades(("AAPL", 189.25, 1764000000003, 100))),
    ])
    r = run_cli("produce", "finnhub", "--url", feed.url, "--symbols", "BINANCE:BTCUSDT,AAPL", "--count", "3")
    assert r.code == 0, r.err
    got = lines(r.out)
    assert [(x["symbol"], x["price"], x["volume"], x["event_time"]) for x in got] == [
        ("BINANCE:BTCUSDT", 67432.01, 0.5, 1764000000001),
        ("BINANCE:BTCUSDT", 67432.5, 0, 1764000000002),
        ("AAPL", 189.25, 100, 1764000000003),
    ]
    assert got[0]["conditions"] == ["1", "12"] and got[0]["trade_time"] == 1764000000001
    assert all(x["source"] == "finnhub" for x in got)
    assert feed.conns[0].texts == [
        '{"type": "subscribe", "symbol": "BINANCE:BTCUSDT"}', '{"type": "subscribe", "symbol": "AAPL"}']
    assert feed.conns[0].path == f"/?token={KEY}"  # the server does get the key...
    assert KEY not in r.out + r.err  # ...nobody else sees it
    assert "Invalid symbol NOPE" in r.err
    assert "frames 6" in r.err and "malformed 2" in r.err and "errors 1" in r.err
    dead = list((home / "dead-letter").glob("finnhub-malformed-*.jsonl"))
    assert len(dead) == 1 and str(dead[0]) in r.err.replace("\n", "")
    assert [json.loads(x)["frame"][:9] for x in dead[0].read_text().splitlines()] == ["{not json", '{"type": ']


def test_finnhub_without_key_is_one_line(run_cli):
    r = run_cli("produce", "finnhub", "--count", "1")
    assert r.code == 2
    assert assert_one_line(r.err) == ("error: FINNHUB_API_KEY is not set; set FINNHUB_API_KEY in the environment "
                                      "or in .env (a free key comes from finnhub.io)")


def test_finnhub_401_is_one_line_and_hides_the_key(wsfeed, run_cli, finnhub_key):
    feed = wsfeed(401)
    r = run_cli("produce", "finnhub", "--url", feed.url, "--count", "1")
    assert r.code == 5
    assert assert_one_line(r.err, after_progress=True) == "error: Finnhub rejected the API key; check FINNHUB_API_KEY"
    assert KEY not in r.out + r.err
    assert "token=***" in r.err  # the startup line shows the endpoint masked


def test_finnhub_raw_forwards_payload_unchanged(wsfeed, run_cli, finnhub_key):
    frame = finnhub_trades(("AAPL", 189.25, 1764000000003, 100))
    feed = wsfeed([("send", json.dumps({"type": "ping"})), ("send", frame)])
    r = run_cli("produce", "finnhub", "--url", feed.url, "--raw", "--count", "1", "--quiet")
    assert r.code == 0, r.err
    assert r.out == frame + "\n"


# --- Binance -----------------------------------------------------------------------------------

def test_binance_no_loss_across_a_mid_stream_disconnect(wsfeed, run_cli, home):
    feed = wsfeed(
        [("send", binance_trade(i)) for i in range(5)] + [("drop",)],
        [("send", binance_trade(i, "ethusdt", "3011.5")) for i in range(5, 8)],
    )
    r = run_cli("produce", "binance", "--url", feed.url, "--symbols", "BTCUSDT,ethusdt", "--count", "8")
    assert r.code == 0, r.err
    got = lines(r.out)
    assert [x["trade_id"] for x in got] == list(range(1000, 1008))
    assert [c.path for c in feed.conns] == ["/stream?streams=btcusdt@trade/ethusdt@trade"] * 2
    # exact digits, as Binance sent them
    assert '"price": 67432.01000000, "volume": 0.00120000' in r.out.splitlines()[0]
    assert got[0]["extra"] == {"m": True} and got[0]["event_time"] == 1764000000000
    assert got[0]["trade_time"] == 1763999999990 and got[5]["symbol"] == "ETHUSDT"
    assert "reconnects 1" in r.err
    assert "connection lost" in r.err and "reconnecting in" in r.err  # said, without --quiet


def test_binance_host_builds_the_wss_url(wsfeed, run_cli, tls_cert, monkeypatch):
    """The README's HTTP 451 workaround: `--host H[:PORT]` alone (no --url) connects to wss://H/stream."""
    feed = wsfeed([("send", binance_trade(0))], tls=tls_cert)
    monkeypatch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", tls_cert.cert)  # trust the feed's certificate
    r = run_cli("produce", "binance", "--host", f"127.0.0.1:{feed.port}", "--symbols", "BTCUSDT,ethusdt", "--count", "1")
    assert r.code == 0, r.err
    assert [x["trade_id"] for x in lines(r.out)] == [1000]
    assert feed.conns[0].path == "/stream?streams=btcusdt@trade/ethusdt@trade"
    assert f"wss://127.0.0.1:{feed.port}/stream" in flat(r.err)  # the startup line says where it went


def test_binance_451_suggests_the_other_hosts(wsfeed, run_cli):
    feed = wsfeed(451)
    r = run_cli("produce", "binance", "--url", feed.url, "--count", "1")
    assert r.code == 5
    last = r.err.strip().splitlines()[-1]
    assert last.startswith("error: Binance refuses connections from this location (HTTP 451")
    assert "--host data-stream.binance.vision" in last and "Binance.US" in last


def test_refused_connection_is_one_line(run_cli):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = run_cli("produce", "binance", "--url", f"ws://127.0.0.1:{port}", "--count", "1", "--quiet")
    assert r.code == 5
    assert assert_one_line(r.err).startswith(f"error: connection refused by ws://127.0.0.1:{port}/stream")


def test_binance_server_shutdown_reconnects_at_once(wsfeed, run_cli):
    script = (
        [("send", binance_trade(0)), ("send", json.dumps({"event": {"e": "serverShutdown", "E": 1764000000100}}))],
        [("send", binance_trade(1))],
    )
    feed = wsfeed(*script)
    r = run_cli("produce", "binance", "--url", feed.url, "--count", "2", "--quiet")
    assert r.code == 0, r.err
    assert [x["trade_id"] for x in lines(r.out)] == [1000, 1001]
    assert len(feed.conns) == 2
    assert r.err == ""  # --quiet: a reconnect the run recovers from by itself is not an error
    # no backoff for a planned reconnect: with a 15-30 s first backoff, the second trade would not
    # arrive within pull's 10 s (a clock-free check, unlike timing the gap)
    src = BinanceSource(load_settings(), url=wsfeed(*script).url, backoff_base=30)
    assert [x.trade_id for x in pull(src, 2)] == [1000, 1001] and src.backoffs == []


def test_watchdog_reconnects_a_silent_connection(wsfeed, run_cli):
    feed = wsfeed([("hold",)], [("send", binance_trade(0))])
    r = run_cli("produce", "binance", "--url", feed.url, "--idle-timeout", "0.4", "--count", "1")
    assert r.code == 0, r.err
    assert len(lines(r.out)) == 1
    assert "nothing received for 0.4s" in r.err
    gap = feed.conns[1].opened_at - feed.conns[0].opened_at
    assert 0.4 <= gap < 5  # the idle timeout, then a reconnect after a first backoff (<= 0.5 s), not 60 s later


def test_reconnect_backoff_grows_within_bounds(wsfeed):
    feed = wsfeed(503, 503, 503, 503, [("send", binance_trade(0))])
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        time.sleep(s)

    src = BinanceSource(load_settings(), url=feed.url, sleep=sleep, rng=random.Random(3), backoff_base=0.05, backoff_cap=0.15)
    got = pull(src, 1)
    assert len(got) == 1 and feed.statuses == [503, 503, 503, 503, 101]
    assert len(slept) == 4
    for n, delay in enumerate(slept, start=1):
        ceiling = min(0.15, 0.05 * 2 ** (n - 1))
        assert 0.5 * ceiling <= delay <= ceiling, (n, delay)
    assert slept[0] < 0.05 <= slept[3] * 2  # it did grow, and the cap held


def test_backoff_formula_bounds():
    assert [backoff_delay(n, 0.5, 30, EdgeRandom(0)) for n in (1, 2, 3, 8)] == [0.25, 0.5, 1.0, 15.0]
    assert [backoff_delay(n, 0.5, 30, EdgeRandom(1)) for n in (1, 2, 3, 8)] == [0.5, 1.0, 2.0, 30.0]


def test_pongs_echo_payloads_and_stay_under_five_per_second(wsfeed):
    payloads = [f"ping-{i}".encode() for i in range(12)]
    feed = wsfeed([("ping", p) for p in payloads] + [("sleep", 2.6), ("send", binance_trade(0))])
    src = BinanceSource(load_settings(), url=feed.url)
    assert len(pull(src, 1)) == 1
    pongs = feed.conns[0].pongs
    assert [p for _, p in pongs] == payloads
    times = [t for t, _ in pongs]
    # any 6 consecutive client messages span about a second or more (5 per second at most); the
    # times are taken where the server reads the pongs, so each may be late by scheduling jitter
    assert all(times[i + 5] - times[i] > 0.9 for i in range(len(times) - 5)), times


def test_planned_rotation_reconnects_before_the_cut(wsfeed):
    feed = wsfeed([("send", binance_trade(0)), ("hold",)], [("send", binance_trade(1))])
    src = BinanceSource(load_settings(), url=feed.url, rotate_after=0.3)
    got = pull(src, 2)
    assert [r.trade_id for r in got] == [1000, 1001]
    assert src.backoffs == []  # planned: no backoff
    assert 0.3 <= feed.conns[1].opened_at - feed.conns[0].opened_at < 3  # after rotate_after, not at the cut


def test_stop_returns_promptly_while_connected(wsfeed):
    feed = wsfeed([("hold",)])
    src = BinanceSource(load_settings(), url=feed.url)
    t = threading.Thread(target=lambda: list(src.records()), daemon=True)
    t.start()
    feed.wait_conns(1)
    t0 = time.monotonic()
    src.stop()
    t.join(5)
    assert not t.is_alive() and time.monotonic() - t0 < 3  # not the 60 s idle timeout


def test_dotenv_in_the_working_directory_is_read(wsfeed, run_cli, tmp_path, monkeypatch):
    """The README's `.env` next to where you run streamlab: the key comes from it, no flag, no env."""
    monkeypatch.delenv("STREAMLAB_ENV_FILE", raising=False)  # the tests point it at /dev/null
    monkeypatch.delenv("FINNHUB_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"# from examples/sample.env\nFINNHUB_API_KEY={KEY}\n")
    feed = wsfeed([("send", finnhub_trades(("AAPL", 189.25, 1764000000003, 100)))])
    r = run_cli("produce", "finnhub", "--url", feed.url, "--symbols", "AAPL", "--count", "1", "--quiet")
    assert r.code == 0, r.err
    assert feed.conns[0].path == f"/?token={KEY}" and len(lines(r.out)) == 1
