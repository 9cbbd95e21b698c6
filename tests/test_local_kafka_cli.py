"""`streamlab local up --kafka` starts a broker that `produce --sink kafka` finds; `local down` stops it."""

import json
import os
import subprocess
import sys

from streamlab.local.processes import free_port, port_open
from tests.fixtures.kafka import consume_all


def _run(env, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "streamlab", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_local_up_kafka_detached_then_produce_then_down(tmp_path):
    env = dict(os.environ, STREAMLAB_HOME=str(tmp_path / "home"))
    aws_port, kafka_port = free_port(), free_port()
    try:
        up = _run(env, "local", "up", "--detach", "--port", str(aws_port), "--kafka", "--kafka-port", str(kafka_port))
        assert up.returncode == 0, up.stderr
        assert up.stdout.split() == [f"http://127.0.0.1:{aws_port}", f"127.0.0.1:{kafka_port}"]
        # both services are recorded in one private file: no kafka.json beside it
        state_file = tmp_path / "home" / "local.json"
        recorded = json.loads(state_file.read_text())
        assert recorded["aws"]["port"] == aws_port and recorded["kafka"]["port"] == kafka_port
        assert (state_file.stat().st_mode & 0o777) == 0o600
        assert not (tmp_path / "home" / "kafka.json").exists()
        status = json.loads(_run(env, "local", "status", "-o", "json").stdout)
        assert status["running"] and status["kafka"] == {"running": True, "bootstrap": f"127.0.0.1:{kafka_port}"}

        again = _run(env, "local", "up", "--detach", "--kafka", "--kafka-port", str(free_port()))
        assert again.returncode == 2 and "already running" in again.stderr and "Traceback" not in again.stderr

        # no --bootstrap: the sink uses the broker `local up --kafka` started
        p = _run(env, "produce", "reviews", "--sink", "kafka", "--topic", "reviews", "--create-topic", "--count", "25", "--quiet")
        assert p.returncode == 0, p.stderr
        assert len(consume_all(f"127.0.0.1:{kafka_port}", "reviews", expected=25)) == 25
    finally:
        down = _run(env, "local", "down")
    assert down.returncode == 0, down.stderr
    assert "stopped the local Kafka broker" in down.stderr
    assert not port_open("127.0.0.1", kafka_port) and not port_open("127.0.0.1", aws_port)
    assert not (tmp_path / "home" / "local.json").exists()  # gone with its last section
