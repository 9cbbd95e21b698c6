"""Reaching a Kafka broker within a bounded time, and saying in one line why it failed.

kafka-python retries a failing bootstrap silently until its timeout and only logs why.
`preflight` checks TCP (and TLS) first, `connect` bounds a client's construction in time, and
`KafkaLogCapture` keeps kafka-python's log lines (and keeps them off the user's terminal) so
`explain()` can say whether the broker was unreachable, refused the credentials or spoke no TLS.
Messages never contain the password (`scrub`). kafka-python itself is never imported here: the
caller passes the constructor to `connect`.
"""

from __future__ import annotations

import collections
import logging
import socket
import threading
from typing import Iterable

from streamlab.errors import ConfigError, ConnectionFailed, StreamlabError
from streamlab.kafka.settings import CONNECT_TIMEOUT_S, ENV_HINT, KafkaSecurity, scrub


# -- pre-flight and bounded connection ------------------------------------------------------------
def _split(server: str) -> tuple[str, int]:
    host, sep, port = server.rpartition(":")
    if not sep:
        return server, 9092
    return host.strip("[]"), int(port)


def preflight(sec: KafkaSecurity, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Check that some bootstrap server accepts TCP (and a TLS handshake, for SSL protocols).

    kafka-python 3.0 retries a refused connection until its bootstrap timeout, and never times
    out a TLS handshake with a listener that does not speak TLS (it waits forever). This check
    answers both in at most `timeout` seconds per server, with the reason.
    """
    reasons = []
    for server in sec.servers:
        try:
            host, port = _split(server)
        except ValueError:
            raise ConfigError(f"bad Kafka bootstrap server {server!r}", "write HOST:PORT, several separated by commas") from None
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except socket.timeout:
            reasons.append(f"{server}: no answer within {timeout:.0f}s")
            continue
        except OSError as exc:
            reasons.append(f"{server}: {exc.strerror or exc}")
            continue
        try:
            if not sec.uses_tls:
                return
            import ssl

            ctx = ssl.create_default_context(cafile=sec.ca_file) if sec.ca_file else ssl.create_default_context()
            sock.settimeout(timeout)
            try:
                with ctx.wrap_socket(sock, server_hostname=host):
                    return
            except ssl.SSLCertVerificationError as exc:
                raise ConnectionFailed(
                    f"the TLS certificate of Kafka at {server} is not trusted ({exc.verify_message})",
                    "pass --ca-file PATH with your cluster's CA certificate (PEM), or check the host name",
                ) from None
            except (ssl.SSLError, socket.timeout, OSError) as exc:
                what = "no TLS answer" if isinstance(exc, socket.timeout) else f"TLS failed ({exc})"
                raise ConnectionFailed(
                    f"{what} from Kafka at {server} over {sec.protocol}",
                    "is this a TLS listener? check --security-protocol (PLAINTEXT/SASL_PLAINTEXT for a plain port) and the port number",
                ) from None
        finally:
            sock.close()
    raise ConnectionFailed(
        f"cannot reach Kafka at {sec.describe()}: {'; '.join(reasons)}",
        "check the host and port (--bootstrap / HWE_BOOTSTRAP), that the broker is running and your network or VPN "
        "allows it; for a local broker run `streamlab local up --kafka`",
    )


def connect(make, sec: KafkaSecurity, logs: "KafkaLogCapture", timeout: float = CONNECT_TIMEOUT_S):
    """`make()` (a kafka-python client constructor) with a hard time bound and a one-line error.

    The constructor runs on a daemon thread: if kafka-python hangs past its own bootstrap timeout,
    we stop waiting, report, and the abandoned thread dies with the process.
    """
    box: dict = {}

    def target():
        try:
            box["client"] = make()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    t = threading.Thread(target=target, name="kafka-connect", daemon=True)
    t.start()
    t.join(timeout + 3.0)
    if t.is_alive():
        raise explain(TimeoutError(f"no answer within {timeout:.0f}s"), sec, list(logs.lines), timeout=timeout)
    if "error" in box:
        exc = box["error"]
        if type(exc).__module__.startswith("kafka"):
            raise explain(exc, sec, list(logs.lines), timeout=timeout) from None
        raise exc
    return box["client"]


# -- diagnostics ----------------------------------------------------------------------------------
class KafkaLogCapture(logging.Handler):
    """Keeps kafka-python's recent warnings for `explain()` and off the terminal while installed."""

    def __init__(self, size: int = 200):
        super().__init__(level=logging.WARNING)
        self.lines: collections.deque[str] = collections.deque(maxlen=size)
        self._logger = logging.getLogger("kafka")
        self._old_propagate = self._logger.propagate

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a log line that cannot format must not break a send
            pass

    def install(self) -> "KafkaLogCapture":
        self._logger.addHandler(self)
        self._logger.propagate = False
        return self

    def remove(self) -> None:
        self._logger.removeHandler(self)
        self._logger.propagate = self._old_propagate

    def __enter__(self) -> "KafkaLogCapture":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.remove()


_AUTH_MARKERS = ("SaslAuthenticationFailed", "Authentication failed", "authentication failed", "IllegalSaslState", "invalid credentials")
_TLS_MARKERS = ("SSL", "CERTIFICATE", "certificate", "TLS", "WRONG_VERSION_NUMBER")


def explain(exc: BaseException, sec: KafkaSecurity, logs: Iterable[str] = (), *, timeout: float = CONNECT_TIMEOUT_S) -> StreamlabError:
    """One line for a failure to connect, authenticate or find the broker; never shows the password."""
    text = " ".join([f"{type(exc).__name__}: {exc}", *logs])
    where = sec.describe()
    if any(m in text for m in _AUTH_MARKERS):
        err: StreamlabError = ConnectionFailed(
            f"Kafka at {sec.bootstrap} rejected the credentials of user {sec.username} ({sec.mechanism}): authentication failed",
            f"check the username and password ({ENV_HINT}) and the SASL mechanism (--sasl-mechanism)",
        )
    elif "UnsupportedSaslMechanism" in text:
        err = ConnectionFailed(
            f"Kafka at {sec.bootstrap} does not accept SASL mechanism {sec.mechanism} over {sec.protocol}",
            "check --sasl-mechanism (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) and --security-protocol with your cluster's settings",
        )
    elif sec.uses_tls and any(m in text for m in _TLS_MARKERS):
        err = ConnectionFailed(
            f"TLS handshake with Kafka at {where} failed",
            "check --security-protocol (SSL/SASL_SSL need a TLS listener, usually a different port) and --ca-file",
        )
    else:
        err = ConnectionFailed(
            f"cannot reach Kafka at {where} within {timeout:.0f}s",
            "check the host and port (--bootstrap / HWE_BOOTSTRAP), that the broker is running and your network or VPN "
            "allows it, and that --security-protocol matches the listener; for a local broker run `streamlab local up --kafka`",
        )
    err.message = scrub(err.message, sec)
    err.hint = scrub(err.hint or "", sec) or None
    return err
