"""`streamlab dashboard`: the running numbers (batch by batch), the HTTP server on 127.0.0.1, and the
page in headless Chromium while new batches arrive (written in consume's layout by the fixture)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from streamlab.charts.data import open_output
from streamlab.dashboard import start_background
from streamlab.dashboard.state import State
from tests.fixtures.charts import trade, window, write_batch

T0 = 1_764_000_000_000


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def ticker_batch(out, batch_id: int, base: float, n: int = 5) -> None:
    t = T0 + batch_id * 10_000
    write_batch(out, "trades", batch_id, [trade(s, p + base + i, t + i * 1000, 0.5) for i in range(n)
                                           for s, p in (("BTCUSDT", 90_000.0), ("ETHUSDT", 3_000.0))])
    write_batch(out, "windows", batch_id, [window(s, t, p + base, p + base + n, p + base, p + base + n - 1, n, 0.5 * n)
                                            for s, p in (("BTCUSDT", 90_000.0), ("ETHUSDT", 3_000.0))])


def test_state_reads_each_batch_once_and_measures_rate_and_lag(tmp_path):
    out = tmp_path / "out"
    ticker_batch(out, 0, 0.0)
    write_batch(out, "_quarantine", 0, [{"raw": "x", "reason": "not JSON", "position": "1"}] * 2)
    clock = Clock(T0 / 1000 + 60)
    state = State(open_output(str(out)), clock=clock)
    assert state.poll() == 10
    snap = state.snapshot()
    assert snap["rate"] is None  # the first poll found a backlog, not a rate
    assert snap["lag_s"] == 60 - 4  # the newest trade is at T0 + 4 s
    assert snap["quarantined"] == 2 and snap["reasons"] == {"not JSON": 2}

    # the first batch is never read again: garbage in its place now changes nothing
    for f in (out / "trades" / "batch_id=0").glob("part-*"):
        f.write_bytes(b"not parquet")
    ticker_batch(out, 1, 100.0)
    clock.t += 2
    assert state.poll() == 10
    snap = state.snapshot()
    assert snap["rate"] == 5.0  # 10 new rows in 2 s
    assert [(p["symbol"], p["price"], p["change"], p["trades"]) for p in snap["prices"]] == [
        ("BTCUSDT", 90_104.0, 104.0, 10), ("ETHUSDT", 3_104.0, 104.0, 10)]
    assert [(u["symbol"], u["units"]) for u in snap["units"]] == [("BTCUSDT", 5.0), ("ETHUSDT", 5.0)]
    assert snap["value"]["rows"][0]["symbol"] == "BTCUSDT"
    assert snap["svg"]["candles"].count('class="candle"') == 4
    assert state.poll() == 0  # nothing new


def test_state_counts_hashtags_from_posts_until_windows_close(tmp_path):
    out = tmp_path / "out"
    posts = [{"text": "x", "user": None, "hashtags": tags, "event_ts": T0 + i, "position": "0"}
             for i, tags in enumerate([["spark"], ["spark", "aws"], ["kafka"]])]
    write_batch(out, "tweets", 0, posts)
    state = State(open_output(str(out)), window="1m")
    state.poll()
    snap = state.snapshot()
    assert snap["dataset"] == "tweets"
    assert snap["hashtags"] == [{"window_start": T0, "tags": [("spark", 2), ("aws", 1), ("kafka", 1)]}]
    assert 'data-hashtag="#spark"' in snap["svg"]["hashtags"]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def test_server_on_loopback_before_and_after_consume_writes(tmp_path):
    out = tmp_path / "not-yet"
    dash = start_background(str(out), port=0, min_poll=0)
    try:
        assert dash.httpd.server_address[0] == "127.0.0.1"
        status, ctype, body = _get(dash.url + "api/state")
        assert status == 200 and ctype == "application/json" and json.loads(body)["dataset"] == "empty"
        ticker_batch(out, 0, 0.0)
        snap = json.loads(_get(dash.url + "api/state")[2])
        assert [p["symbol"] for p in snap["prices"]] == ["BTCUSDT", "ETHUSDT"] and snap["error"] is None
        page = _get(dash.url)[2].decode()
        assert 'data-refresh-ms="3000"' in page and "http" not in page  # every asset is ours
        for name in ("app.js", "interact.js", "style.css", "dashboard.css"):
            assert _get(dash.url + "static/" + name)[0] == 200
        with pytest.raises(urllib.error.HTTPError) as e:
            _get(dash.url + "static/../../etc/passwd")
        assert e.value.code == 404
    finally:
        dash.stop()


def _tiles(dom: str) -> dict[str, float]:
    import re

    return {s: float(p) for s, p in re.findall(r'class="tile-price" data-symbol="([^"]+)" data-price="([^"]+)"', dom)}


def test_page_in_a_real_browser_follows_new_batches(chromium, tmp_path):
    from PIL import Image, ImageStat

    out = tmp_path / "out"
    ticker_batch(out, 0, 0.0)
    ticker_batch(out, 1, 50.0)
    dash = start_background(str(out), port=0, refresh=0.5, min_poll=0)
    try:
        first = chromium.dom(dash.url)
        ticker_batch(out, 2, 200.0)  # consume writes on
        second = chromium.dom(dash.url)
        shot = chromium.screenshot(dash.url, tmp_path / "dashboard.png")
    finally:
        dash.stop()
    one, two = _tiles(first), _tiles(second)
    assert set(one) == set(two) == {"BTCUSDT", "ETHUSDT"}
    assert one == {"BTCUSDT": 90_054.0, "ETHUSDT": 3_054.0} and two == {"BTCUSDT": 90_204.0, "ETHUSDT": 3_204.0}
    for dom in (first, second):
        assert 'class="candle" data-symbol="BTCUSDT"' in dom and 'class="tile" data-symbol="ETHUSDT"' in dom
    assert second.count('class="candle"') == first.count('class="candle"') + 2
    with Image.open(shot) as im:
        assert im.size == (1300, 1100)
        stat = ImageStat.Stat(im.convert("L"))
    assert stat.stddev[0] > 20, "the screenshot is (nearly) one colour"


def test_cli_warns_off_loopback_and_stops_on_ctrl_c(tmp_path):
    (tmp_path / "out").mkdir()
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    p = subprocess.Popen([sys.executable, "-m", "streamlab", "dashboard", "--path", str(tmp_path / "out"), "--host", "0.0.0.0", "--port", "0"],
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [p.stderr.readline(), p.stderr.readline()]
        assert "anyone who can reach this port can read the page" in lines[0]
        assert lines[1].startswith(f"dashboard for {tmp_path / 'out'} at http://127.0.0.1:")
        p.send_signal(signal.SIGINT)
        rest = p.communicate(timeout=15)[1]
    finally:
        p.kill() if p.poll() is None else None
    assert p.returncode == 0 and "dashboard stopped" in rest and "Traceback" not in rest


def test_state_reads_s3_output_incrementally(aws_env, s3):
    from pyarrow import fs

    from tests.fixtures.aws import unique

    bucket = unique("dash")
    s3.create_bucket(Bucket=bucket)
    s3fs = fs.S3FileSystem(endpoint_override=aws_env.url.split("://")[1], scheme="http", region="us-east-1",
                           access_key="testing", secret_key="testing")
    root = f"{bucket}/out"
    write_batch(root, "trades", 0, [trade("BTCUSDT", 90_000.0, T0, 0.5)], arrow_style=True, filesystem=s3fs)
    state = State(open_output(f"s3://{root}"))
    assert state.poll() == 1
    write_batch(root, "trades", 1, [trade("BTCUSDT", 91_000.0, T0 + 1000, 0.5)], arrow_style=True, filesystem=s3fs)
    assert state.poll() == 1 and state.poll() == 0
    assert [(p["symbol"], p["price"], p["change"]) for p in state.snapshot()["prices"]] == [("BTCUSDT", 91_000.0, 1_000.0)]
