"""`streamlab dashboard`: a live page of what `consume` writes, served by streamlab on 127.0.0.1.

    state.py   folds new `batch_id=` folders into running numbers and renders the charts as SVG
    server.py  the standard library's HTTP server: the page, its assets, /api/state (JSON)
    static/    index.html, app.js, dashboard.css (the chart tooltips come from streamlab.charts)

`start_background(path, ...)` is the hook for `consume --dashboard`: it serves on a thread beside
the running query and returns the `Dashboard` (its `url`, and `stop()` for the `finally`).
"""

from __future__ import annotations

from typing import Optional


def make(path: str, settings=None, *, host: str = "127.0.0.1", port: int = 8050, refresh: float = 3.0,
         top: int = 10, window: str = "1m", min_poll: Optional[float] = None, must_exist: bool = True):
    """A `Dashboard` over the consume output at `path` (folder or s3://), not started yet."""
    from streamlab.charts.data import open_output
    from streamlab.dashboard.server import Dashboard
    from streamlab.dashboard.state import State
    from streamlab.errors import ConfigError

    state = State(open_output(path, settings, must_exist), top=top, window=window)
    try:
        return Dashboard(state, host, port, refresh, min(refresh, 1.0) if min_poll is None else min_poll)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", "pick another --port (or --port 0 for any free one)") from None


def start_background(path: str, settings=None, **kwargs):
    """Serve on a daemon thread; the caller prints `.url` and calls `.stop()` when done. The output
    folder may not exist yet (consume is about to create it)."""
    kwargs.setdefault("must_exist", False)
    return make(path, settings, **kwargs).start()
