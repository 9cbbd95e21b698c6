"""The socket sink: a TCP server every client reads lines from (and Spark's socket source)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from streamlab.settings import load_settings
from streamlab.sinks.base import Entry
from streamlab.sinks.socket import SocketSink
from streamlab.testing import assert_one_line


def flat(text: str) -> str:
    """Messages as one line of words (rich wraps stderr at 80 columns when it is not a terminal)."""
    return " ".join(text.split())


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


def test_hold_keeps_a_bounded_backlog_for_the_next_client(capfd):
    s = SocketSink(load_settings(), port=0, hold=3, hold_wait=0)
    s.open()
    try:
        s.send(entries("a", "b", "c", "d", "e"))
        assert s.dropped == 2  # the oldest beyond --hold
        c = Client(s.port)
        assert c.wait_lines(3) == ["c", "d", "e"]
        wait_clients(s, 1)
        s.send(entries("f"))
        assert c.wait_lines(4) == ["c", "d", "e", "f"]
    finally:
        s.close()
    assert "2 records reached no client (2 dropped, 0 still held at the end)" in flat(capfd.readouterr().err)


def test_drop_mode_counts_and_discards(capfd):
    s = SocketSink(load_settings(), port=0, when_no_client="drop")
    s.open()
    try:
        s.send(entries("x", "y"))
        c = Client(s.port)
        wait_clients(s, 1)
        s.send(entries("z"))
        assert c.wait_lines(1) == ["z"]
        assert s.dropped == 2
    finally:
        s.close()


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
    assert r.code == 0, r.err
    assert f"waiting for a client on 127.0.0.1:{port}" in flat(r.err)
    assert "1 records reached no client (0 dropped, 1 still held at the end)" in flat(r.err)
