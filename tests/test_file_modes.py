"""Issue 17 item 8: every file holding record payloads is private (0600) after a real run, like
the ledger: a dead-letter file, a feed's or the reviews' set-aside lines, a capture written by
`--record`, and the local state file. The runs use umask 0, under which a file opened the ordinary
way would come out 0666 (world-readable): only files created 0600 pass."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from streamlab.local.processes import free_port
from tests.test_feed_websocket import binance_trade


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path / "home"))
    old = os.umask(0)
    yield
    os.umask(old)


def test_dead_letter_and_set_aside_files_are_0600(open_umask, run_cli, tmp_path):
    reviews = tmp_path / "mine.tsv"
    reviews.write_text("too\tfew\tfields\n")
    dl = tmp_path / "dl.jsonl"
    r = run_cli("produce", "reviews", "--file", str(reviews), "--sink", "null")
    assert r.code == 0, r.err  # the one line was malformed: set aside, nothing to deliver
    [aside] = (tmp_path / "home" / "dead-letter").glob("reviews-malformed-*.jsonl")
    assert mode(aside) == 0o600
    # the socket sink with no client: the held lines are dead-lettered at the end (exit 6)
    r = run_cli("produce", "tweets", "--sink", "socket", "--port", str(free_port()), "--count", "3",
                "--hold-wait", "0", "--dead-letter", str(dl))
    assert r.code == 6, r.err
    assert len(dl.read_text().splitlines()) == 3 and mode(dl) == 0o600


def test_a_capture_is_0600(open_umask, wsfeed, run_cli, tmp_path):
    feed = wsfeed([("send", binance_trade(i)) for i in range(3)])
    cap = tmp_path / "live.jsonl.gz"
    r = run_cli("produce", "binance", "--url", feed.url, "--symbols", "btcusdt", "--record", str(cap), "--count", "3", "--quiet")
    assert r.code == 0, r.err
    assert mode(cap) == 0o600


def test_the_local_state_file_is_0600(tmp_path):
    env = dict(os.environ, STREAMLAB_HOME=str(tmp_path / "home"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "streamlab", *args], capture_output=True, text=True, env=env,
                              timeout=60, umask=0)

    try:
        up = run("local", "up", "--detach", "--port", str(free_port()))
        assert up.returncode == 0, up.stderr
        state = tmp_path / "home" / "local.json"
        assert json.loads(state.read_text())["aws"]["pid"] > 0
        assert mode(state) == 0o600
    finally:
        assert run("local", "down").returncode == 0
