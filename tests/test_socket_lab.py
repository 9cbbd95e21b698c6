"""Lab 4 as a student runs it: `produce tweets --sink socket` in one terminal, `consume --source
socket` in another, each a process of its own, until the consumer's --timeout stops it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from streamlab.local.processes import free_port, port_open

pytestmark = pytest.mark.spark

JAVA_NOISE = ("at org.apache", "StackOverflowError", "Exception in thread", "at java.", "py4j.protocol")
DONE = re.compile(r"done \(timeout\) after ([\d.]+)s of streaming \(Spark start-up ([\d.]+)s, stopping ([\d.]+)s\)")


@pytest.mark.parametrize("rate,trigger", [("50", "2s"), ("10", "5s")])  # the rate; the README's
def test_socket_lab_stops_on_timeout_without_java_noise_and_shows_a_table(tmp_path, rate, trigger):
    port = free_port()
    env = {**os.environ, "STREAMLAB_HOME": str(tmp_path / "home")}
    producer = subprocess.Popen(
        [sys.executable, "-m", "streamlab", "produce", "tweets", "--sink", "socket", "--port", str(port), "--rate", rate],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path, env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", port):
            assert producer.poll() is None and time.monotonic() < deadline, producer.stderr.read().decode()[-2000:]
            time.sleep(0.1)
        started = time.monotonic()
        consumer = subprocess.run(
            [sys.executable, "-m", "streamlab", "consume", "--source", "socket", "--port", str(port), "--dataset", "tweets",
             "--trigger", trigger, "--timeout", "20"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=240,
        )
        took = time.monotonic() - started
    finally:
        producer.send_signal(signal.SIGINT)
        try:
            producer.wait(15)
        except subprocess.TimeoutExpired:
            producer.kill()
    err = consumer.stderr
    assert consumer.returncode == 0, err[-3000:]
    noise = [line for line in err.splitlines() if any(n in line for n in JAVA_NOISE)]
    assert noise == [], f"{len(noise)} lines of Java noise, e.g. {noise[:3]}"
    # the summary and the wall clock agree: 20 s of streaming, start-up and stopping shown apart
    said = " ".join(err.split())
    assert "--timeout 20s counts from now" in said
    m = DONE.search(said)
    assert m, said[-1500:]
    streaming, startup, stopping = (float(g) for g in m.groups())
    assert 20 <= streaming < 22
    assert startup + streaming + stopping <= took
    # a table came with the first batch, before the windows query's first (slow, stateful) result:
    # the rows read, then the top hashtags per window once there are any
    titles = re.findall(r"^batch (\d+): (.*)$", consumer.stdout, re.M)
    assert titles and "rows read" in titles[0][1], consumer.stdout[-2000:]  # the first batch with data
    assert all("rows read" in t or "top 10 hashtags per window" in t for _, t in titles), titles
