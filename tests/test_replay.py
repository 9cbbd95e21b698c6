"""--record on a live feed, then `produce replay`: the same records, offline."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from streamlab.testing import assert_one_line, flat
from tests.test_feed_websocket import KEY, binance_trade, finnhub_trades


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path / "home"))


def test_replay_reproduces_a_live_binance_run_exactly(wsfeed, run_cli, tmp_path):
    feed = wsfeed(
        [("send", binance_trade(i)) for i in range(4)] + [("send", "{oops"), ("drop",)],
        # a planned reconnect: frames the provider sends after its notice may be missed (we reconnect at once)
        [("send", binance_trade(4, "ethusdt", "3011.50")), ("send", json.dumps({"data": {"e": "serverShutdown", "E": 1}}))],
        [("send", binance_trade(5))],
    )
    cap = tmp_path / "live.jsonl.gz"
    live = run_cli("produce", "binance", "--url", feed.url, "--symbols", "btcusdt,ethusdt",
                   "--record", str(cap), "--count", "6", "--quiet")
    assert live.code == 0, live.err
    assert len(live.out.splitlines()) == 6
    with gzip.open(cap, "rt") as fh:
        header = json.loads(fh.readline())
        assert header["source"] == "binance" and len(fh.readlines()) == 8  # every text frame, bad ones too
    again = run_cli("produce", "replay", str(cap), "--speed", "max", "--quiet")
    assert again.code == 0, again.err
    assert again.out == live.out  # byte for byte, ingest_time included


def test_replay_of_a_finnhub_capture_needs_no_key_and_masks_it(wsfeed, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FINNHUB_API_KEY", KEY)
    feed = wsfeed([("send", json.dumps({"type": "ping"})),
                   ("send", finnhub_trades(("AAPL", 189.25, 1764000000003, 100), ("AAPL", 189.5, 1764000000004, 7)))])
    cap = tmp_path / "fh.jsonl"
    live = run_cli("produce", "finnhub", "--url", feed.url, "--record", str(cap), "--count", "2", "--quiet")
    assert live.code == 0, live.err
    assert KEY not in cap.read_text()
    monkeypatch.delenv("FINNHUB_API_KEY")
    again = run_cli("produce", "replay", str(cap), "--speed", "max")
    assert again.code == 0, again.err
    assert again.out == live.out
    assert "frames 2, records 2" in flat(again.err)


def test_replay_keeps_the_recorded_pacing_scaled_by_speed(run_cli, tmp_path):
    cap = tmp_path / "c.jsonl"
    frames = [(100.0 + 0.5 * i, binance_trade(i)) for i in range(5)]  # 2.0 s recorded
    cap.write_text(json.dumps({"streamlab_capture": 1, "source": "binance"}) + "\n"
                   + "".join(json.dumps({"t": t, "frame": f}) + "\n" for t, f in frames))
    t0 = time.monotonic()
    fast = run_cli("produce", "replay", str(cap), "--speed", "max", "--quiet")
    assert fast.code == 0 and len(fast.out.splitlines()) == 5
    assert time.monotonic() - t0 < 1.0  # without waiting out the recorded 2 s
    t0 = time.monotonic()
    r = run_cli("produce", "replay", str(cap), "--speed", "4", "--quiet")
    took = time.monotonic() - t0
    assert r.code == 0 and r.out == fast.out
    # 2 s recorded at 4x is 0.5 s; --speed ignored would take 2 s, inverted (1/4) 8 s, none at all ~0
    assert 0.45 <= took < 1.0, took


def test_shipped_captures_replay_offline(run_cli):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "examples" / "captures"
    fh = run_cli("produce", "replay", str(root / "finnhub.jsonl.gz"), "--speed", "max", "--sink", "null")
    assert fh.code == 0, fh.err
    said = flat(fh.err)
    # the capture holds an error frame on purpose: said as recorded, not as a warning or an error now
    assert "Invalid symbol" in said and "recorded provider errors 1" in said and "malformed 0" in said
    assert "warning" not in said and "error frame recorded in the capture" in said
    whole = run_cli("produce", "replay", str(root / "binance.jsonl.gz"), "--speed", "max", "--sink", "null")
    said = flat(whole.err)
    assert whole.code == 0 and "warning" not in said and "recorded provider errors 1" in said, said
    assert "unknown stream name" in said and " errors 1" not in said.replace("provider errors 1", "")
    bn = run_cli("produce", "replay", str(root / "binance.jsonl.gz"), "--speed", "max", "--count", "5", "--quiet")
    assert bn.code == 0 and [json.loads(x)["source"] for x in bn.out.splitlines()] == ["binance"] * 5


@pytest.mark.parametrize("content,speed,expect", [
    (None, "max", "error: no capture file at"),
    ("hello\n", "max", "is not a streamlab capture"),
    ('{"streamlab_capture": 1, "source": "synthetic"}\n', "max", "replay cannot parse"),
    ('{"streamlab_capture": 1, "source": "binance"}\n', "fast", "error: bad --speed 'fast'"),
])
def test_replay_bad_input_is_one_line(run_cli, tmp_path, content, speed, expect):
    cap = tmp_path / "x.jsonl"
    if content is not None:
        cap.write_text(content)
    r = run_cli("produce", "replay", str(cap), "--speed", speed)
    assert r.code == 2
    assert_one_line(r.err, expect)
