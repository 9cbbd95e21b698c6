"""SIGTERM (and Ctrl-C) on a real `python -m streamlab produce` process: it flushes, nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from streamlab.testing import parse_summary
from tests.fixtures.aws import read_all


def summary(err: str) -> tuple[str, int, int, int]:
    s = parse_summary(err)
    return s["reason"], s["produced"], s["sent"], s["failed"]


def start(*args: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = dict(os.environ, COLUMNS="200", **(env_extra or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "streamlab", "produce", "synthetic", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def stop_after(proc: subprocess.Popen, seconds: float, sig=signal.SIGTERM) -> tuple[int, str]:
    """Send `sig` `seconds` after `proc` said it is producing. Counted from that line, not from the
    start: imports and connecting take a varying time on a loaded machine, and a signal before the
    run has begun would test nothing."""
    said = ""
    while not said.splitlines()[-1:] or not said.splitlines()[-1].startswith("producing"):
        line = proc.stderr.readline()
        assert line, said + proc.communicate()[1]  # ended before producing anything
        said += line
    time.sleep(seconds)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, said + err


def test_sigterm_flushes_everything_into_kinesis(emulator, fresh_stream, kinesis, tmp_path):
    # linger is 0.1 s and 200 records/s arrive: there is almost always a partial batch to flush
    proc = start("--sink", "kinesis", "--stream", fresh_stream, "--endpoint-url", emulator.url, "--rate", "200",
                 env_extra={"STREAMLAB_HOME": str(tmp_path)})
    code, err = stop_after(proc, 2.5)
    assert code == 0, err
    assert "Traceback" not in err
    reason, produced, sent, failed = summary(err)
    assert reason == "interrupted" and failed == 0
    assert produced > 100
    data = read_all(kinesis, fresh_stream)
    assert len(data) == sent == produced
    assert all(json.loads(d)["source"] == "synthetic" for d in data)


def test_sigterm_flushes_everything_into_a_file(tmp_path):
    out = tmp_path / "out.jsonl"
    proc = start("--sink", "file", "--path", str(out), "--rate", "500", env_extra={"STREAMLAB_HOME": str(tmp_path)})
    code, err = stop_after(proc, 1.5)
    assert code == 0, err
    reason, produced, sent, failed = summary(err)
    assert reason == "interrupted" and failed == 0 and produced > 100
    lines = out.read_text().splitlines()
    assert len(lines) == sent == produced
    json.loads(lines[-1])  # the last line is whole


def test_ctrl_c_flushes_like_sigterm(tmp_path):
    out = tmp_path / "out.jsonl"
    proc = start("--sink", "file", "--path", str(out), "--rate", "500", env_extra={"STREAMLAB_HOME": str(tmp_path)})
    code, err = stop_after(proc, 1.0, signal.SIGINT)
    assert code == 0, err
    assert "Traceback" not in err
    reason, produced, sent, failed = summary(err)
    assert reason == "interrupted" and failed == 0 and produced > 100
    lines = out.read_text().splitlines()
    assert len(lines) == sent == produced
    json.loads(lines[-1])  # the last line is whole
