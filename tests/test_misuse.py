"""The misuse table (issue 18): each way of getting a flag, a setting or a file wrong, the one line
it gets (what is wrong and what to do), and its documented exit code. No traceback, no "unexpected
... please report" (exit 70), and nothing slow first: the consume rows are refused by the
ConsumeRequest check before Spark starts, the Kafka rows before a broker is dialled.

A row is (id, argv, environment, exit code, a fragment of the line). In argv and values `{tmp}` is
the test's folder, which holds `afile` (a plain file, so `{tmp}/afile/x` can never be a folder) and
`bad.pem` (not a certificate). Rows with `ledger=` run against the local emulator with that text as
`$STREAMLAB_HOME/ledger.json`. Running as root, chmod cannot make a folder unwritable, hence a path
under a file, or under /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from streamlab.testing import assert_one_line

PRODUCE = ("produce", "synthetic", "--count", "1")
CONSUME = ("consume", "--source", "socket", "--port", "9")
KAFKA = ("produce", "synthetic", "--count", "1", "--sink", "kafka", "--topic", "t", "--bootstrap", "127.0.0.1:9")

Row = tuple  # (id, argv, env, code, fragment[, ledger text])
ROWS: list[Row] = [
    # --- item 8: settings and AWS endpoint --------------------------------------------------------
    ("endpoint-without-scheme", (*PRODUCE, "--sink", "kinesis", "--stream", "s", "--endpoint-url", "localhost:4566"), {}, 2,
     "--endpoint-url / STREAMLAB_ENDPOINT_URL: 'localhost:4566' is not an http(s) URL with a host; give scheme and host"),
    ("endpoint-unparsable", (*PRODUCE, "--endpoint-url", "http://[::1"), {}, 2, "'http://[::1' is not a URL (Invalid IPv6 URL)"),
    ("endpoint-env-without-scheme", ("status",), {"STREAMLAB_ENDPOINT_URL": "emulator"}, 2,
     "STREAMLAB_ENDPOINT_URL: 'emulator' is not an http(s) URL"),
    ("streamlab-local-maybe", PRODUCE, {"STREAMLAB_LOCAL": "maybe"}, 2,
     "STREAMLAB_LOCAL: 'maybe' is not valid (input should be a valid boolean"),
    # --- item 8: files and folders ------------------------------------------------------------------
    ("file-sink-under-a-file", (*PRODUCE, "--sink", "file", "--path", "{tmp}/afile/out.jsonl"), {}, 2,
     "cannot create folder {tmp}/afile: {tmp}/afile is a file; choose a path in a folder you can write to"),
    ("file-sink-unwritable", (*PRODUCE, "--sink", "file", "--path", "/proc/streamlab-out.jsonl"), {}, 2,
     "cannot write /proc/streamlab-out.jsonl"),
    ("record-unwritable", ("produce", "binance", "--url", "ws://127.0.0.1:9", "--record", "/proc/capture.jsonl",
                           "--count", "1"), {}, 2, "cannot write /proc/capture.jsonl"),
    ("home-under-a-file", PRODUCE, {"STREAMLAB_HOME": "{tmp}/afile/home"}, 2,
     "set STREAMLAB_HOME to a folder you can write to"),
    ("home-under-a-file-local-up", ("local", "up", "--detach"), {"STREAMLAB_HOME": "{tmp}/afile/home"}, 2,
     "cannot create folder {tmp}/afile/home: {tmp}/afile is a file; set STREAMLAB_HOME"),
    # --- item 8: feeds and Kafka ---------------------------------------------------------------------
    ("finnhub-url-not-a-url", ("produce", "finnhub", "--url", "notaurl", "--count", "1"), {}, 2,
     "--url 'notaurl' is not a ws:// or wss:// URL with a host; give a websocket URL"),
    ("binance-url-http", ("produce", "binance", "--url", "http://127.0.0.1:9", "--count", "1"), {}, 2,
     "is not a ws:// or wss:// URL"),
    ("ca-file-not-pem", (*KAFKA, "--ca-file", "{tmp}/bad.pem"), {}, 2,
     "Kafka CA file {tmp}/bad.pem is not a PEM certificate; pass --ca-file PATH to a PEM certificate"),
    ("consume-ca-file-not-pem", ("consume", "--source", "kafka", "--topic", "t", "--bootstrap", "127.0.0.1:9",
                                 "--ca-file", "{tmp}/bad.pem"), {}, 2, "is not a PEM certificate"),
    # --- item 8: consume, refused before Spark ------------------------------------------------------
    ("consume-window-bogus", (*CONSUME, "--window", "bogus"), {}, 2,
     "--window 'bogus' is not an interval; give a whole number and a unit"),
    ("consume-window-zero", (*CONSUME, "--window", "0s"), {}, 2, "--window '0s' must be more than 0"),
    ("consume-watermark-negative", (*CONSUME, "--watermark", "-5s"), {}, 2, "--watermark '-5s' must be 0 or more"),
    ("consume-slide-longer-than-window", (*CONSUME, "--window", "10 seconds", "--slide", "1m"), {}, 2,
     "--slide 1m is longer than the window (10 seconds)"),
    ("consume-path-under-a-file", (*CONSUME, "--sink", "parquet", "--path", "{tmp}/afile/out"), {}, 2,
     "--path {tmp}/afile/out: {tmp}/afile is a file, not a folder; give --path a folder you can write to"),
    ("consume-path-unwritable", (*CONSUME, "--sink", "parquet", "--path", "/proc/streamlab-out"), {}, 2,
     "cannot write in --path /proc/streamlab-out"),
    ("consume-checkpoint-under-a-file", (*CONSUME, "--sink", "parquet", "--path", "{tmp}/out",
                                         "--checkpoint", "{tmp}/afile/cp"), {}, 2, "give --checkpoint a folder you can write to"),
    # --- item 8: numbers that are not numbers --------------------------------------------------------
    ("rate-nan", (*PRODUCE, "--rate", "nan"), {}, 2, "Invalid value for '--rate': 'nan' is not a finite number"),
    ("rate-inf", (*PRODUCE, "--rate", "inf"), {}, 2, "Invalid value for '--rate': 'inf' is not a finite number"),
    ("duration-nan", ("produce", "synthetic", "--duration", "nan"), {}, 2, "Invalid value for '--duration': 'nan'"),
    ("consume-timeout-nan", (*CONSUME, "--timeout", "nan"), {}, 2, "Invalid value for '--timeout': 'nan'"),
    # --- item 4: corrupt ledgers ---------------------------------------------------------------------
    ("ledger-integer-entries", ("teardown", "--dry-run"), {}, 2,
     "ledger.json entry 1 of 2 is 1, not an object; fix that, or move the file aside", '{"version": 1, "entries": [1, 2]}'),
    ("ledger-entry-without-name", ("teardown", "--dry-run"), {}, 2,
     'entry 1 of 1 (kind "kinesis-stream") has no name',
     '{"entries": [{"kind": "kinesis-stream", "region": "us-east-1"}]}'),
    ("ledger-integer-name", ("status",), {}, 2,
     'entry 2 of 2 (kind "kinesis-stream" name 42) has name 42, not a non-empty str',
     '{"entries": [{"kind": "kinesis-stream", "name": "ok", "region": "us-east-1"},'
     ' {"kind": "kinesis-stream", "name": 42, "region": "us-east-1"}]}'),
    ("ledger-binary-garbage", ("teardown", "--yes"), {}, 2, "is not valid JSON (UnicodeDecodeError", b"\xff\xfe\x00\x81garbage"),
    ("ledger-not-an-object", ("status",), {}, 2, "is a JSON list, not an object", "[]"),
]


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("a plain file\n")
    (tmp_path / "bad.pem").write_bytes(b"\x00\x01 not a certificate\n")
    return tmp_path


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_misuse_is_one_line_with_the_fix(row, tmp, run_cli, monkeypatch, request):
    _, argv, env, code, fragment, *ledger = row
    fill = lambda s: s.replace("{tmp}", str(tmp))  # noqa: E731
    if ledger:
        request.getfixturevalue("aws_env")  # the emulator, and STREAMLAB_HOME under tmp_path
        path = tmp / "home" / "ledger.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ledger[0] if isinstance(ledger[0], bytes) else ledger[0].encode())
    for name, value in env.items():
        monkeypatch.setenv(name, fill(value))
    started = time.monotonic()
    r = run_cli(*(fill(a) for a in argv))
    assert r.code == code, r.err
    line = assert_one_line(r.err, "error: ", fill(fragment))
    assert "unexpected" not in line and "Traceback" not in r.err
    assert time.monotonic() - started < 5  # refused before anything slow (Spark, a broker, a feed)
    if ledger:
        assert "without a ledger `streamlab teardown` finds what streamlab created by its streamlab:created-by tags" in line
        assert (tmp / "home" / "ledger.json").exists()  # a damaged ledger is never overwritten


def test_socket_sink_on_every_interface_warns_once(tmp, run_cli):
    r = run_cli("produce", "synthetic", "--count", "1", "--sink", "socket", "--host", "0.0.0.0", "--port", "0",
                "--when-no-client", "drop", "--hold-wait", "0")
    assert r.code == 0, r.err
    warned = [line for line in r.err.splitlines() if "interface" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: the socket sink listens on every interface (0.0.0.0:")
    assert "use --host 127.0.0.1 to keep it on this machine" in warned[0]
    quiet = run_cli("produce", "synthetic", "--count", "1", "--sink", "socket", "--port", "0",
                    "--when-no-client", "drop", "--hold-wait", "0")
    assert "interface" not in quiet.err  # the loopback default says nothing


def test_dashboard_on_every_interface_warns_once(tmp):
    (tmp / "out").mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "streamlab", "dashboard", "--path", str(tmp / "out"),
                             "--host", "0.0.0.0", "--port", "0"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "400"})
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("Ctrl-C stops it" in line for line in lines):
            lines.append(proc.stderr.readline())
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    warned = [line for line in lines if "every interface" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: the dashboard listens on every interface (0.0.0.0:"), lines
