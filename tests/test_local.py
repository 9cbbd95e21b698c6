"""`streamlab local up/down/status` as a user runs them (subprocesses), and how other commands
find, or deliberately do not use, the emulator they started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from streamlab.local.processes import free_port, pid_alive, port_open
from streamlab.testing import assert_one_line
from tests.fixtures.aws import unique


def streamlab(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streamlab", *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def local_env(tmp_path):
    """Environment for a private STREAMLAB_HOME; stops whatever emulator a test left running."""
    home = tmp_path / "lhome"
    env = {k: v for k, v in os.environ.items() if k not in ("STREAMLAB_ENDPOINT_URL", "STREAMLAB_LOCAL", "AWS_ENDPOINT_URL")}
    env["STREAMLAB_HOME"] = str(home)
    yield env, home
    state = home / "local.json"
    if state.exists():
        pid = json.loads(state.read_text()).get("aws", {}).get("pid")
        streamlab(env, "local", "down")
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_up_detach_status_down(local_env):
    env, home = local_env
    port = free_port()
    up = streamlab(env, "local", "up", "--detach", "--port", str(port))
    assert up.returncode == 0, up.stderr
    url = f"http://127.0.0.1:{port}"
    assert up.stdout.strip() == url
    assert f"export STREAMLAB_ENDPOINT_URL={url}" in up.stderr and "--local" in up.stderr
    state = json.loads((home / "local.json").read_text())["aws"]
    assert state["port"] == port and state["url"] == url and state["mode"] == "detached"
    assert pid_alive(state["pid"]) and port_open("127.0.0.1", port)
    # It really is AWS: a stream can be made on it.
    boto3.client("kinesis", endpoint_url=url, region_name="us-east-1").create_stream(StreamName="s", ShardCount=1)

    st = streamlab(env, "local", "status")
    assert st.returncode == 0 and st.stdout.startswith(f"running at {url}")
    js = json.loads(streamlab(env, "local", "status", "--output", "json").stdout)
    assert js["running"] is True and js["pid"] == state["pid"]

    again = streamlab(env, "local", "up", "--detach", "--port", str(free_port()))
    assert again.returncode == 2
    assert again.stderr.strip() == (
        f"error: a local emulator is already running at {url} (pid {state['pid']}); "
        "use it with --local, or stop it with `streamlab local down`"
    )

    down = streamlab(env, "local", "down")
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stderr
    assert not port_open("127.0.0.1", port)
    deadline = time.monotonic() + 5
    while pid_alive(state["pid"]) and time.monotonic() < deadline:  # reaped by init, maybe a moment later
        time.sleep(0.05)
    assert not (home / "local.json").exists()
    assert streamlab(env, "local", "status").stdout.strip() == "not running"

    down_again = streamlab(env, "local", "down")
    assert down_again.returncode == 0 and "no local emulator is running" in down_again.stderr


def test_port_in_use_is_refused_in_one_line(local_env):
    env, home = local_env
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = streamlab(env, "local", "up", "--detach", "--port", str(port))
    assert r.returncode == 2
    assert assert_one_line(r.stderr) == f"error: port {port} on 127.0.0.1 is already in use; pick another with --port (e.g. --port {port + 1}) or stop what uses it"
    assert not (home / "local.json").exists()


def test_foreground_serves_until_sigterm_and_cleans_up(local_env):
    env, home = local_env
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlab", "local", "up", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not (home / "local.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        st = streamlab(env, "local", "status")
        assert st.stdout.startswith(f"running at http://127.0.0.1:{port}") and "foreground" in st.stdout
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Ctrl-C stops it" in err
    assert not (home / "local.json").exists()
    assert not port_open("127.0.0.1", port)


def test_local_flag_without_emulator_is_one_line(local_env, run_cli, monkeypatch):
    env, home = local_env
    monkeypatch.setenv("STREAMLAB_HOME", str(home))
    monkeypatch.delenv("STREAMLAB_ENDPOINT_URL", raising=False)
    for args in (("status", "--local"), ("provision", "kinesis", "--stream", "x", "--local", "--yes"), ("teardown", "--local", "--yes")):
        r = run_cli(*args)
        assert r.code == 2, args
        assert assert_one_line(r.err) == (
            "error: --local was given but no local emulator is running; "
            "start it with `streamlab local up --detach`, or pass --endpoint-url"
        )


def test_running_emulator_is_not_used_without_local(local_env, run_cli, monkeypatch, emulator):
    """With an emulator up, a command without --local says so and goes to 'real AWS' (here the
    session's other moto server via AWS_ENDPOINT_URL); only --local sends it to the emulator."""
    env, home = local_env
    port = free_port()
    assert streamlab(env, "local", "up", "--detach", "--port", str(port)).returncode == 0
    local_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("STREAMLAB_HOME", str(home))
    monkeypatch.delenv("STREAMLAB_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)  # stands in for real AWS
    local_k = boto3.client("kinesis", endpoint_url=local_url, region_name="us-east-1")
    remote_k = boto3.client("kinesis", endpoint_url=emulator.url, region_name="us-east-1")

    remote_name, local_name = unique("loc-remote"), unique("loc-local")
    r = run_cli("provision", "kinesis", "--stream", remote_name, "--yes")
    assert r.code == 0, r.err
    said = " ".join(r.err.split())  # rich folds long lines when stderr is not a terminal
    assert f"note: a local emulator is running at {local_url}, but this command talks to real AWS" in said
    assert said.count("note: a local emulator is running") == 1  # one AWS handle per command, one note
    assert remote_name in remote_k.list_streams()["StreamNames"]
    assert remote_name not in local_k.list_streams()["StreamNames"]

    r = run_cli("provision", "kinesis", "--stream", local_name, "--yes", "--local")
    assert r.code == 0, r.err
    assert local_name in local_k.list_streams()["StreamNames"]
    assert local_name not in remote_k.list_streams()["StreamNames"]

    # Each teardown stays on its own side; the other side's ledger entry is only mentioned.
    r = run_cli("teardown", "--yes", "--local")
    assert r.code == 0, r.err
    assert local_k.list_streams()["StreamNames"] == []
    assert remote_name in remote_k.list_streams()["StreamNames"]
    assert run_cli("teardown", "--yes").code == 0
    assert remote_name not in remote_k.list_streams()["StreamNames"]
    assert streamlab(env, "local", "down").returncode == 0
