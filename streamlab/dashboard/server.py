"""The dashboard's HTTP server: the standard library's, on 127.0.0.1 unless told otherwise.

    GET /              the page (index.html, the refresh interval filled in)
    GET /static/NAME   its script and styles, served from the package (no CDN, works offline)
    GET /api/state     the JSON the page polls; reading new batches happens here, at most once per
                       `min_poll` seconds however many pages are open

No login and nothing to write: it only reads consume's output. Bound to a non-loopback address
(`--host 0.0.0.0`) anyone who can reach the port can read it, which the command says.
"""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Optional

from streamlab.dashboard.state import State

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: name -> (package, file): the page's assets, the chart tooltips shared with the HTML charts
ASSETS = {
    "app.js": ("streamlab.dashboard", "app.js"),
    "dashboard.css": ("streamlab.dashboard", "dashboard.css"),
    "interact.js": ("streamlab.charts", "interact.js"),
    "style.css": ("streamlab.charts", "style.css"),
}


def asset(package: str, name: str) -> bytes:
    return resources.files(package).joinpath("static", name).read_bytes()


class Dashboard:
    """A running server: `url`, `stop()`. `start()` serves on a thread (for `consume --dashboard`)."""

    def __init__(self, state: State, host: str = "127.0.0.1", port: int = 8050, refresh: float = 3.0, min_poll: float = 1.0):
        self.state, self.refresh, self.min_poll = state, refresh, min_poll
        self._last_poll = 0.0
        self._error: Optional[str] = None
        self._poll_lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
        self.thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{shown}:{port}/"

    def state_json(self) -> bytes:
        with self._poll_lock:
            if time.monotonic() - self._last_poll >= self.min_poll:
                try:
                    self.state.poll()
                    self._error = None
                except Exception as exc:  # S3 away for a moment: say so on the page, keep serving
                    self._error = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
                self._last_poll = time.monotonic()
        snap = self.state.snapshot()
        snap["error"] = self._error
        return json.dumps(snap, default=str).encode()

    def page(self) -> bytes:
        return asset("streamlab.dashboard", "index.html").replace(b"{{REFRESH_MS}}", str(int(self.refresh * 1000)).encode())

    def start(self) -> "Dashboard":
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="streamlab-dashboard", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def _handler(dash: Dashboard):
    class Handler(BaseHTTPRequestHandler):
        server_version = "streamlab-dashboard"

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                return self._send(dash.page(), TYPES[".html"])
            if path == "/api/state":
                return self._send(dash.state_json(), "application/json")
            if path.startswith("/static/") and path[len("/static/"):] in ASSETS:
                name = path[len("/static/"):]
                return self._send(asset(*ASSETS[name]), TYPES["." + name.rsplit(".", 1)[1]])
            self._send(b"not found\n", "text/plain", HTTPStatus.NOT_FOUND)

        def _send(self, body: bytes, ctype: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args) -> None:  # quiet: a request per poll is noise
            pass

    return Handler
