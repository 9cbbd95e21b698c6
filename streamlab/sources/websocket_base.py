"""The websocket plumbing every live feed shares, written once.

A feed subclass (Finnhub, Binance) only says its `endpoint()`, the `subscriptions()` to send after
connecting and how to `parse(text, ingest_ms)` one text frame into records. This module does the rest:

- connect (websocket-client, imported lazily), subscribe, answer pings with a pong echoing the
  payload, and send every client message through a rate limiter (Binance allows 5 per second);
- a watchdog: `--idle-timeout` seconds with no frame at all (data, ping or pong) means the
  connection is dead even if TCP says otherwise -> reconnect;
- reconnect with jittered exponential backoff and resubscribe; a planned reconnect (the provider
  announced a shutdown, or the connection reached `rotate_after`, before Binance's 24 h cut) goes
  at once, without backoff;
- handshake failures become one `ConnectionFailed` line (401, 451, DNS, refused...); the URL that
  carries a secret is never printed;
- `--record FILE` writes every text frame with its receive time (see `streamlab.capture`).

What becomes of a text frame (parse, counters, malformed frames set aside) is `frame_feed.FrameFeed`,
shared with `replay`, so replay reproduces a live run exactly.

Guarantees and limits: frames the server sent before a drop are all delivered (TCP gives us what
was sent before the FIN); what the provider publishes while we are reconnecting is lost (neither
Finnhub nor Binance trade streams can resume from an offset). A planned rotation closes before it
reopens, so it costs one handshake's worth of trades (~0.1-0.5 s).
"""

from __future__ import annotations

import collections
import socket
from typing import Callable, ClassVar, Iterator, Optional
from urllib.parse import urlsplit

import click

from streamlab import console
from streamlab.errors import ConfigError, ConnectionFailed
from streamlab.records import Record
from streamlab.sources.frame_feed import FrameFeed, Reconnect
from streamlab.sources.params import FiniteFloat

RECV_POLL = 0.25  # seconds: how often a blocked receive checks stop() and the watchdog
MAX_MESSAGE = 16 * 1024 * 1024  # bytes: a bigger frame means a broken or hostile endpoint


class Handshake(Exception):
    """Internal: the HTTP upgrade was answered with a non-101 status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def backoff_delay(attempt: int, base: float, cap: float, rng) -> float:
    """Attempt n (1, 2, ...) waits uniform(0.5, 1) * min(cap, base * 2**(n-1)) seconds.

    Half-jitter: spreads a crowd of clients apart (a whole class reconnecting after a provider
    blip) while guaranteeing a floor, so a dead endpoint is never hammered.
    """
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return ceiling * rng.uniform(0.5, 1.0)


class SendLimiter:
    """At most `per_second` messages in any 1-second window (sliding window of send times)."""

    def __init__(self, per_second: Optional[int], clock: Callable[[], float], sleep: Callable[[float], None]):
        self.per_second = per_second
        self.clock, self.sleep = clock, sleep
        self.sent: collections.deque = collections.deque()

    def acquire(self) -> None:
        if not self.per_second:
            return
        now = self.clock()
        while self.sent and now - self.sent[0] >= 1.0:
            self.sent.popleft()
        if len(self.sent) >= self.per_second:
            # a little margin: the server measures on its own clock, after network jitter
            self.sleep(1.0 - (now - self.sent[0]) + 0.02)
            now = self.clock()
            self.sent.popleft()
        self.sent.append(now)


def mask_url(url: str) -> str:
    """The URL with every query value hidden (Finnhub's token lives there): `?token=***`."""
    parts = urlsplit(url)
    query = "&".join(f"{p.partition('=')[0]}=***" for p in parts.query.split("&") if p)
    return parts._replace(query=query).geturl()


def live_options() -> tuple[click.Option, ...]:
    """Options every websocket source has (each module adds its own in front)."""
    return (
        click.Option(["--url"], default=None, metavar="URL", help="Connect to this websocket endpoint instead of the provider's (tests, mirrors); streamlab still adds the path/subscriptions."),
        click.Option(["--raw"], is_flag=True, help="Forward the provider's own JSON payload unchanged instead of the canonical trade record."),
        click.Option(["--idle-timeout"], type=FiniteFloat(min=0.05), default=60.0, show_default=True, help="Reconnect when nothing at all (data or ping) arrives for this many seconds."),
        click.Option(["--record"], type=click.Path(dir_okay=False), default=None, help="Also write every received frame with its receive time to this file (JSON lines; gzip if it ends in .gz), for `produce replay`."),
    )


def check_url(url: Optional[str]) -> None:
    """`--url` must be a ws:// or wss:// URL with a host; ConfigError (exit 2) before connecting."""
    if not url:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise ConfigError(f"--url {url!r} is not a URL ({exc})", "give a websocket URL, e.g. --url ws://127.0.0.1:8765") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConfigError(f"--url {url!r} is not a ws:// or wss:// URL with a host",
                          "give a websocket URL, e.g. --url ws://127.0.0.1:8765")


class WebSocketSource(FrameFeed):
    """Connect / subscribe / heartbeat / watchdog / reconnect for one websocket feed."""

    #: planned reconnect after this many seconds (None: never). Binance cuts at 24 h.
    rotate_after: ClassVar[Optional[float]] = None
    #: client messages (subscriptions, pongs) allowed per second; None = unlimited
    max_sends_per_second: ClassVar[Optional[int]] = None
    backoff_base: ClassVar[float] = 0.5
    backoff_cap: ClassVar[float] = 30.0
    connect_timeout: ClassVar[float] = 10.0

    def __init__(self, settings, *, sleep: Optional[Callable[[float], None]] = None, for_replay: bool = False, **kw):
        # default sleep = an interruptible wait, so stop() cuts a backoff short
        super().__init__(settings, **kw)
        self.sleep = sleep or self.wait
        self.idle_timeout = float(self.opts.get("idle_timeout") or 60.0)
        self.rotate_after = self.opts.get("rotate_after", type(self).rotate_after)
        self.backoff_base = float(self.opts.get("backoff_base", type(self).backoff_base))
        self.backoff_cap = float(self.opts.get("backoff_cap", type(self).backoff_cap))
        self.limiter = SendLimiter(self.max_sends_per_second, self.clock, self.sleep)
        self._ws = None
        self._recorder = None
        self.backoffs: list[float] = []  # every reconnect delay chosen, for tests and the summary
        if not for_replay:
            check_url(self.opts.get("url"))
            if self.opts.get("record"):  # an unwritable --record fails now, not once connected
                from streamlab.jsonl import JsonLinesFile

                JsonLinesFile(self.opts["record"]).check()
            self.validate()

    # -- the provider-specific part -------------------------------------------------------------
    def validate(self) -> None:
        """Check settings/flags before anything connects; raise ConfigError."""

    def endpoint(self) -> str:
        """The full URL to connect to (may carry a secret: never print it, use describe())."""
        raise NotImplementedError

    def subscriptions(self) -> list[str]:
        """Messages to send after each (re)connect."""
        return []

    def rejected(self, status: int) -> Optional[ConnectionFailed]:
        """The one-line error for a handshake status that retrying cannot fix; None = retry."""
        if status in (401, 403):
            return ConnectionFailed(f"{self.name} refused the connection (HTTP {status})", "check your credentials")
        if status == 404:
            return ConnectionFailed(f"{self.name} endpoint not found (HTTP 404) at {self.safe_endpoint()}", "check --url")
        return None

    def safe_endpoint(self) -> str:
        return mask_url(self.endpoint())

    def describe(self) -> str:
        return f"{self.name} {self.safe_endpoint()}"

    # -- the loop -------------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[Record]]:
        """The records of each read from the socket, in one list (see `_pump`)."""
        if self.opts.get("record"):
            from streamlab.capture import CaptureWriter

            self._recorder = CaptureWriter(self.opts["record"], self.name, self.clock, endpoint=self.safe_endpoint())
        attempt = 0
        ever_connected = False
        while not self.stopped:
            try:
                ws = self._connect()
            except Handshake as exc:
                fatal = self.rejected(exc.status)
                if fatal is not None:
                    raise fatal from None
                why = f"HTTP {exc.status}"
            except ConnectionFailed:
                raise
            except OSError as exc:
                if not ever_connected:
                    raise self._no_network(exc) from None
                why = type(exc).__name__
            except Exception as exc:  # websocket-client protocol errors during the upgrade
                if not ever_connected and not _is_websocket_error(exc):
                    raise
                why = type(exc).__name__
            else:
                if ever_connected:
                    self.n_reconnects += 1
                ever_connected = True
                frames_before = self.n_frames
                reason = yield from self._pump(ws)
                self._close_ws()
                if self.stopped:
                    return
                if reason in ("rotate", "shutdown"):
                    attempt = 0
                    continue  # planned: reconnect at once
                if self.n_frames > frames_before:
                    attempt = 0  # it worked for a while: start the backoff over
                why = reason
            if self.stopped:
                return
            attempt += 1
            delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap, self.rng)
            self.backoffs.append(delay)
            console.notice(f"{self.name}: connection lost ({why}); reconnecting in {delay:.1f}s")
            self.sleep(delay)

    def _connect(self):
        import websocket  # lazy: `streamlab --help` must not import it

        try:
            ws = websocket.create_connection(
                self.endpoint(),
                timeout=self.connect_timeout,
                skip_utf8_validation=True,  # we decode ourselves; invalid UTF-8 -> malformed
                enable_multithread=True,
            )
        except websocket.WebSocketBadStatusException as exc:
            raise Handshake(exc.status_code) from None
        except websocket.WebSocketAddressException:
            raise socket.gaierror("cannot resolve") from None
        except websocket.WebSocketTimeoutException:
            raise TimeoutError("connect timed out") from None
        ws.settimeout(RECV_POLL)
        self._ws = ws
        if self.stopped:  # stop() raced with the connect
            self._close_ws()
            return ws
        for message in self.subscriptions():
            self._send(ws, message)
        return ws

    def _send(self, ws, message: str) -> None:
        self.limiter.acquire()
        ws.send(message)

    def _pump(self, ws) -> Iterator[list[Record]]:
        """Yield the records of each read (a list) until the connection ends; return why: idle,
        closed, rotate, shutdown, stopped, or a protocol error.

        websocket-client does the handshake and sends; frames are read here, in bulk: its own
        recv() costs 2-3 syscalls and an object per frame (~25 us), which at Binance's busiest
        minutes is most of a core. RFC 6455 framing is small: 2-14 header bytes, then the payload.

        The records of one read travel on as one list: at full speed a read holds hundreds of
        frames, and handing each record over through generators and the pipeline's queue costs
        more than parsing it. A live feed's quiet read holds one frame, so nothing waits longer.

        This is the one function here over ~60 lines, on purpose: it is the per-frame hot loop
        (80k frames/s in benchmarks/websocket_ingest.py), and splitting the header decoding or the
        opcode dispatch into helpers adds a call and its locals per frame; everything that is not
        per-frame (connect, backoff, watchdog policy, what a text frame becomes) lives elsewhere.
        """
        sock = ws.sock
        clock, handle, recorder, stop = self.clock, self.handle, self._recorder, self._stop
        connected_at = last_seen = clock()
        rotate_at = connected_at + self.rotate_after if self.rotate_after else None
        idle = self.idle_timeout
        buf = b""
        pos = 0
        parts: list[bytes] = []  # fragments of a message in progress
        planned = False  # the provider announced a shutdown: reconnect after this chunk
        while not stop.is_set():
            try:
                chunk = sock.recv(262144)
            except (socket.timeout, TimeoutError):
                now = clock()
                if now - last_seen >= idle:
                    console.notice(f"{self.name}: nothing received for {idle:g}s; reconnecting")
                    return "idle"
                if rotate_at is not None and now >= rotate_at:
                    return "rotate"
                continue
            except OSError:
                return "stopped" if stop.is_set() else "closed"
            if not chunk:
                return "stopped" if stop.is_set() else "closed"
            now = last_seen = clock()
            ingest_ms = int(now * 1000)
            buf = buf[pos:] + chunk if pos < len(buf) else chunk
            pos = 0
            end = len(buf)
            out: list = []  # the records of this read
            ended = None  # why the connection ends after this read's records (close, pong failed...)
            while end - pos >= 2:
                b0, b1 = buf[pos], buf[pos + 1]
                n = b1 & 0x7F
                head = pos + 2
                if n == 126:
                    if end - pos < 4:
                        break
                    n = int.from_bytes(buf[head:head + 2], "big")
                    head += 2
                elif n == 127:
                    if end - pos < 10:
                        break
                    n = int.from_bytes(buf[head:head + 8], "big")
                    head += 8
                masked = b1 & 0x80
                if masked:
                    head += 4
                if end - head < n:
                    if n > MAX_MESSAGE:
                        console.notice(f"{self.name}: a {n:,}-byte frame is over the {MAX_MESSAGE:,}-byte limit; reconnecting")
                        ended = "protocol error: frame too large"
                    break
                payload = buf[head:head + n]
                if masked:  # servers must not mask, but be liberal in what we accept
                    from websocket import ABNF

                    payload = ABNF.mask(buf[head - 4:head], payload)
                pos = head + n
                op = b0 & 0x0F
                if op == 1 or op == 2 or op == 0:  # text, binary, continuation
                    if not b0 & 0x80:  # not the final fragment
                        parts.append(payload)
                        continue
                    if parts:
                        parts.append(payload)
                        payload, parts = b"".join(parts), []
                    try:
                        text = payload.decode("utf-8")
                    except UnicodeDecodeError:
                        self.n_frames += 1
                        self.set_aside(payload.decode("utf-8", "backslashreplace"), "invalid UTF-8")
                        continue
                    if recorder is not None:
                        recorder.write(now, text)
                    try:
                        out += handle(text, ingest_ms)
                    except Reconnect as exc:
                        # finish the frames already received, then reconnect (no backoff)
                        console.notice(f"{self.name}: {exc}; reconnecting now")
                        planned = True
                        continue
                elif op == 9:  # ping: the pong echoes the payload (RFC 6455; Binance drops us without it)
                    self.limiter.acquire()
                    try:
                        ws.pong(payload)
                    except Exception:
                        ended = "closed"
                        break
                elif op == 8:  # close
                    ended = "closed"
                    break
                # op 10 (unsolicited pong) only counts as activity
            if out:
                yield out
            if ended is not None:
                return ended
            if planned:
                return "shutdown"
            if rotate_at is not None and now >= rotate_at:
                return "rotate"
        return "stopped"

    def _no_network(self, exc: OSError) -> ConnectionFailed:
        host = urlsplit(self.endpoint()).hostname or "?"
        if isinstance(exc, socket.gaierror):
            return ConnectionFailed(f"cannot resolve {host} (no network?)", "check your internet connection or DNS; --url points elsewhere")
        if isinstance(exc, ConnectionRefusedError):
            return ConnectionFailed(f"connection refused by {self.safe_endpoint()}", "is the endpoint up? check --url and your network")
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return ConnectionFailed(f"timed out connecting to {host} (no network?)", "check your internet connection, proxy or firewall")
        return ConnectionFailed(f"cannot connect to {host}: {type(exc).__name__}", "check your internet connection")

    # -- lifecycle ------------------------------------------------------------------------------
    def stop(self) -> None:
        super().stop()
        ws = self._ws
        if ws is not None:
            ws.abort()  # wakes a blocked receive at once

    def _close_ws(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=0.5)
            except Exception:
                ws.shutdown()

    def close(self) -> None:
        self._close_ws()
        if self._recorder is not None:
            self._recorder.close()
            console.info(f"recorded {self._recorder.count:,} frames to {self._recorder.path}")
            self._recorder = None
        super().close()


def _is_websocket_error(exc: BaseException) -> bool:
    return (type(exc).__module__ or "").startswith("websocket")
