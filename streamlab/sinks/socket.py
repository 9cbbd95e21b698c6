"""A TCP server writing newline-delimited records to every connected client: what Spark's `socket`
source (and `nc localhost 9999`) reads. It replaces the `nc -lk 9999` of the socket lab.

Clients may come and go: each gets every line sent while it is connected; one that leaves (or
stalls for `SEND_TIMEOUT` seconds) is dropped without stopping the others. While no client is
connected, `--when-no-client hold` keeps up to `--hold` records and hands them to the next client
that connects (older ones beyond the bound are dropped and counted); `drop` discards and counts.
At the end of a run, held records wait up to `--hold-wait` seconds for a client (not when Ctrl-C or
SIGTERM ended the run: that means now), then go to the dead-letter file, counted as not delivered;
dropped ones are counted as dropped, not sent.
Lines are the records' own bytes: a tweet's text by default (`produce tweets --format json` for
the whole post), the JSON wire form for trades. Not encrypted, no authentication: keep the default
127.0.0.1 unless the consumer runs on another machine.
"""

from __future__ import annotations

import collections
import select
import socket
import threading
import time

import click

from streamlab import console
from streamlab.errors import ConfigError
from streamlab.sinks.base import Entry, Failure, Sink
from streamlab.sources.params import FiniteFloat

SEND_TIMEOUT = 10.0  # seconds a client may block us before it is dropped


class SocketSink(Sink):
    name = "socket"
    summary = "Serve records as text lines over TCP to every connected client (Spark's socket source, nc)."
    options = (
        click.Option(["--host"], default="127.0.0.1", show_default=True, help="Address the socket sink listens on (0.0.0.0 for other machines)."),
        click.Option(["--port"], type=click.IntRange(0, 65535), default=9999, show_default=True, help="TCP port the socket sink listens on (0 = any free port)."),
        click.Option(["--when-no-client"], type=click.Choice(["hold", "drop"]), default="hold", show_default=True, help="Socket sink: keep records for the next client (bounded by --hold) or drop them."),
        click.Option(["--hold"], type=click.IntRange(min=1), default=10_000, show_default=True, help="Socket sink: most records held while no client is connected."),
        click.Option(["--hold-wait"], type=FiniteFloat(min=0), default=30.0, show_default=True, help="Socket sink: at the end, seconds to wait for a client to take held records."),
    )
    max_batch_records = 500
    linger = 0.02  # a socket lab watches lines appear: keep latency low

    def open(self) -> None:
        host = self.opts.get("host") or "127.0.0.1"
        port = int(self.opts.get("port") if self.opts.get("port") is not None else 9999)
        self.mode = self.opts.get("when_no_client") or "hold"
        self.held: collections.deque = collections.deque(maxlen=int(self.opts.get("hold") or 10_000))
        self.hold_wait = float(self.opts.get("hold_wait") if self.opts.get("hold_wait") is not None else 30.0)
        self.dropped = 0
        self.clients_served = 0
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._server.bind((host, port))
        except OSError as exc:
            self._server.close()
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}", "pick another --port, or stop what uses it (an old `nc -lk`?)") from None
        self._server.listen(8)
        self.host, self.port = host, self._server.getsockname()[1]
        self._closing = False
        threading.Thread(target=self._accept, name="socket-sink-accept", daemon=True).start()
        console.warn_if_exposed(host, self.port, "the socket sink", "the records")
        console.info(f"socket sink: waiting for a client on {self.host}:{self.port} (e.g. Spark's socket source, or nc {self.host} {self.port})")

    def _accept(self) -> None:
        while True:
            try:
                conn, addr = self._server.accept()
            except OSError:
                return  # closed
            conn.settimeout(SEND_TIMEOUT)
            with self._lock:
                if self.held:
                    data = b"".join(e + b"\n" for e in self.held)
                    try:
                        conn.sendall(data)
                    except OSError:
                        conn.close()
                        continue
                    self.held.clear()
                self._clients.append(conn)
                self.clients_served += 1
                self._arrived.notify_all()
            console.info(f"socket sink: client {addr[0]}:{addr[1]} connected ({len(self._clients)} now)")

    def send(self, batch: list[Entry]) -> list[Failure]:
        with self._lock:
            if not self._clients:
                self._no_client([e.data for e in batch])
                return []
            self._drop_departed()
            data = b"".join(e.data + b"\n" for e in batch)
            for conn in list(self._clients):
                try:
                    conn.sendall(data)
                except OSError:  # gone (EPIPE/ECONNRESET) or stalled past SEND_TIMEOUT
                    self._forget(conn)
            if not self._clients:
                # nobody received this batch: hold or drop it like any other
                self._no_client([e.data for e in batch])
        return []

    def _drop_departed(self) -> None:
        """Forget clients that closed their end. A send into a closed connection can still succeed
        (the kernel buffers it until the peer's reset arrives), so look for the EOF first: a client
        that left is readable and reads b"". Anything a client wrote to us is read and ignored."""
        try:
            readable, _, _ = select.select(self._clients, [], [], 0)
        except (OSError, ValueError):
            readable = list(self._clients)
        for conn in readable:
            try:
                gone = conn.recv(65536, socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                self._forget(conn)

    def _forget(self, conn: socket.socket) -> None:
        self._clients.remove(conn)
        conn.close()
        console.info(f"socket sink: a client left ({len(self._clients)} still connected)")

    def _no_client(self, items: list[bytes]) -> None:
        if self.mode == "drop":
            self.dropped += len(items)
            return
        overflow = max(0, len(self.held) + len(items) - self.held.maxlen)
        self.dropped += overflow
        self.held.extend(items)  # a bounded deque drops the oldest

    def close(self) -> None:
        with self._lock:
            self._wait_for_a_client()
            left = len(self.held)
            self._left = [Entry(data, None) for data in self.held]
            self.held.clear()
            clients, self._clients = self._clients, []
        self._server.close()
        for conn in clients:
            try:
                conn.shutdown(socket.SHUT_WR)  # the client reads to the end, then sees EOF
            except OSError:
                pass
            conn.close()
        if self.dropped or left:
            console.warn(f"socket sink: {self.dropped + left:,} records reached no client "
                         f"({self.dropped:,} dropped, {left:,} still held at the end)")

    def _wait_for_a_client(self) -> None:
        """Held records wait up to --hold-wait for a client, unless a signal ended (or ends) the run:
        Ctrl-C means now, so the wait looks at the stop flag every tenth of a second."""
        interrupts = getattr(self, "interrupts", None)
        stopping = lambda: interrupts is not None and (interrupts.requested or interrupts.aborted)  # noqa: E731
        if not self.held or self._clients or self.hold_wait <= 0 or stopping():
            return
        console.info(f"socket sink: holding {len(self.held):,} records for a client for up to {self.hold_wait:g}s (Ctrl-C gives up)")
        deadline = time.monotonic() + self.hold_wait
        while not self._clients and not stopping() and time.monotonic() < deadline:
            self._arrived.wait(min(0.1, max(0.0, deadline - time.monotonic())))

    def undelivered(self) -> list[Entry]:
        """The lines still held at close(): they reached no client (the Batcher dead-letters them)."""
        left, self._left = getattr(self, "_left", []), []
        return left

    def describe(self) -> str:
        return f"socket {self.host}:{self.port}"
