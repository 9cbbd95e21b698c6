"""The socket sink: a TCP server every client reads lines from (and Spark's socket source)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from streamlab.settings import load_settings
from streamlab.sinks.base import Entry
from streamlab.sinks.socket import SocketSink
from streamlab.testing import assert_one_line, flat


def entries(*texts: str) -> list[Entry]:
    return [Entry(t.encode(), None) for t in texts]


class Client:
    """A line reader on its own thread, like `nc 127.0.0.1 PORT`."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(None)  # reads wait for the server: a quiet spell is not an end
        self.lines: list[str] = []
        self.eof = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                *done, buf = buf.split(b"\n")
                self.lines += [d.decode() for d in done]
        except OSError:
            pass
        self.eof.set()

    def wait_lines(self, n: int, timeout: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.lines

    def close(self):
        """Leave like `nc` exiting. A bare close() is not enough: while our reader thread is blocked
        in recv() on Linux, the connection stays open (no FIN) until that recv returns, which can
        take longer than the test's sends on a loaded machine. shutdown() sends the FIN now."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def wait_clients(sink: SocketSink, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(sink._clients) < n:
        assert time.monotonic() < deadline, "client was not accepted"
        time.sleep(0.01)


@pytest.fixture
def sink(capfd):
    s = SocketSink(load_settings(), port=0, hold_wait=0)
    s.open()
    yield s
    s.close()


def test_two_clients_get_every_line_and_one_leaving_stops_nothing(sink, capfd):
    assert f"waiting for a client on 127.0.0.1:{sink.port}" in flat(capfd.readouterr().err)
    a, b = Client(sink.port), Client(sink.port)
    wait_clients(sink, 2)
    sink.send(entries("one", "two"))
    assert a.wait_lines(2) == ["one", "two"] and b.wait_lines(2) == ["one", "two"]
    a.close()
    # keep sending until the sink notices a left (at least 50 lines, at most 5 s): every line must
    # still reach b, and no send may fail
    sent, deadline = 0, time.monotonic() + 5
    while sent < 50 or len(sink._clients) > 1:
        assert time.monotonic() < deadline, "the sink never noticed that a client left"
        assert sink.send(entries(f"line {sent}")) == []
        sent += 1
        if sent >= 50:
            time.sleep(0.005)
    assert b.wait_lines(2 + sent)[2:] == [f"line {i}" for i in range(sent)]
    assert len(sink._clients) == 1
    assert "a client left (1 still connected)" in flat(capfd.readouterr().err)
    c = Client(sink.port)  # clients may come back
    wait_clients(sink, 2)
    sink.send(entries("after"))
    assert c.wait_lines(1) == ["after"] and b.wait_lines(3 + sent)[-1] == "after"


def produce_to_socket(tmp_path, *args: str) -> tuple[subprocess.Popen, int]:
    """`streamlab produce synthetic ... --sink socket --port 0` in a child; returns it and its port
    (read from its first line, printed before any client)."""
    p = subprocess.Popen([sys.executable, "-m", "streamlab", "produce", "synthetic", "--seed", "1", "--sink", "socket",
                          "--port", "0", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                         env={**os.environ, "STREAMLAB_HOME": str(tmp_path), "COLUMNS": "200"})
    first = p.stderr.readline()
    m = re.search(r"waiting for a client on 127\.0\.0\.1:(\d+)", first)
    assert m, first
    return p, int(m.group(1))


def test_hold_keeps_a_bounded_backlog_for_the_next_client(tmp_path):
    """--hold 3: of 5 records made before any client, the newest 3 wait for one (the oldest 2 go)."""
    p, port = produce_to_socket(tmp_path, "--count", "5", "--hold", "3", "--hold-wait", "30")
    try:
        said = ""
        while "holding 3 records" not in said:  # the run is over; the sink waits for a client
            line = p.stderr.readline()
            assert line, said
            said += line
        c = Client(port)
        assert c.eof.wait(20)
        _, err = p.communicate(timeout=20)
    finally:
        p.kill()
    assert p.returncode == 0, said + err
    assert [json.loads(x)["symbol"] for x in c.lines] == ["Index_3", "Index_4", "Index_5"]
    assert "2 records reached no client (2 dropped, 0 still held at the end)" in flat(err)


def test_drop_mode_counts_and_discards(tmp_path):
    """--when-no-client drop: what is made before a client connects is dropped (not held), the rest
    delivered, and the end does not wait for a client."""
    p, port = produce_to_socket(tmp_path, "--count", "60", "--rate", "20", "--when-no-client", "drop", "--hold-wait", "30")
    try:
        time.sleep(0.5)  # records are being made with no one to take them
        c = Client(port)
        assert c.eof.wait(30)
        _, err = p.communicate(timeout=20)
    finally:
        p.kill()
    assert p.returncode == 0, err
    m = re.search(r"(\d+) records reached no client \((\d+) dropped, 0 still held at the end\)", flat(err))
    assert m and m.group(1) == m.group(2), err
    dropped = int(m.group(1))
    assert 0 < dropped < 60 and len(c.lines) == 60 - dropped
    assert "holding" not in err
    # the ones delivered are the newest, in order: everything after the client came
    times = [json.loads(x)["event_time"] for x in c.lines]
    assert times == sorted(times)


def test_port_in_use_is_one_line(run_cli):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        r = run_cli("produce", "tweets", "--sink", "socket", "--port", str(port), "--count", "1")
    finally:
        busy.close()
    assert r.code == 2
    assert assert_one_line(r.err).startswith(f"error: cannot listen on 127.0.0.1:{port}")


def test_produce_waits_for_a_client_then_delivers_exactly(tmp_path):
    """The whole command as a user runs it: `produce tweets --sink socket` then `nc`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    p = subprocess.Popen(
        [sys.executable, "-m", "streamlab", "produce", "tweets", "--count", "25", "--seed", "4",
         "--sink", "socket", "--port", str(port)],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        assert "waiting for a client" in p.stderr.readline()  # the first line, before any client
        c = Client(port)
        assert c.eof.wait(20)
        assert p.wait(20) == 0
    finally:
        p.kill()
    assert len(c.lines) == 25 and all(line.strip() for line in c.lines)


def test_binance_feed_host_and_socket_listen_host_do_not_collide(wsfeed, run_cli):
    """`--host` is Binance's feed host; the socket sink's listen host becomes --sink-host there."""
    from tests.test_feed_websocket import binance_trade

    feed = wsfeed([("send", binance_trade(0))])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = run_cli("produce", "binance", "--url", feed.url, "--host", "example.invalid", "--count", "1",
                "--sink", "socket", "--sink-host", "127.0.0.1", "--port", str(port), "--hold-wait", "0")
    assert r.code == 6, r.err  # the held record reached no client: dead-lettered, partial delivery
    assert f"waiting for a client on 127.0.0.1:{port}" in flat(r.err)
    assert "1 records reached no client (0 dropped, 1 still held at the end)" in flat(r.err)
