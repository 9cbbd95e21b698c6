"""Terminal output: one stderr console for messages, the live progress line and the run summary.

Data goes to stdout only when the user asked for it (`--sink stdout`); everything streamlab says
goes to stderr, so pipes stay clean.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from rich.console import Console
from rich.text import Text

from streamlab.redact import ScrubbingStream, scrub

# everything written to stderr through this console passes `streamlab.redact.scrub` on its way out
err = Console(file=ScrubbingStream(), highlight=False, soft_wrap=True)
_quiet = False  # set by `quieted()` for a --quiet run


def info(message: str) -> None:
    err.print(scrub(message))


def warn(message: str) -> None:
    """Something the user must know even with --quiet (records set aside, a feed's error)."""
    err.print(f"[yellow]warning:[/] {scrub(message)}")


EVERY_INTERFACE = ("0.0.0.0", "::", "")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def warn_if_exposed(host: str, port: int, what: str, serves: str) -> None:
    """One warning line when a server of ours (`what`, serving `serves`) listens beyond this
    machine (`--host 0.0.0.0`)."""
    if host in LOOPBACK or host.startswith("127."):
        return
    where = f"every interface ({host or '0.0.0.0'}:{port})" if host in EVERY_INTERFACE else f"{host}:{port}"
    warn(f"{what} listens on {where}: anyone who can reach this port can read {serves} (no login); "
         "use --host 127.0.0.1 to keep it on this machine")


def notice(message: str) -> None:
    """A passing condition the run recovers from by itself (a reconnect); --quiet hides it."""
    if not _quiet:
        warn(message)


@contextmanager
def quieted(enabled: bool) -> Iterator[None]:
    """While inside, `notice()` prints nothing when `enabled` (--quiet: errors and losses only)."""
    global _quiet
    old, _quiet = _quiet, _quiet or enabled
    try:
        yield
    finally:
        _quiet = old


def wide_console(stderr: bool = False) -> Console:
    """A rich console for tables: the terminal's width, or 160 columns when piped (rich would use
    80 and fold names and ARNs that scripts and logs need whole)."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, highlight=False, width=max(probe.width, 160))


def fmt_rate(n: float) -> str:
    return f"{n:,.0f}/s"


@contextmanager
def live_line(render: Callable[[], str], enabled: bool = True) -> Iterator[None]:
    """A single status line refreshed 4x a second by rich's own thread (no cost per record)."""
    if not enabled or not err.is_terminal:
        yield
        return
    from rich.live import Live

    with Live(get_renderable=lambda: Text(render()), console=err, refresh_per_second=4, transient=True):
        yield


def progress_text(stats, elapsed: float, extra: Optional[dict] = None) -> str:
    parts = [
        f"sent {stats.sent:,}",
        fmt_rate(stats.sent / elapsed if elapsed > 0 else 0),
        f"retried {stats.retried:,}",
        f"failed {stats.failed:,}",
    ]
    for k, v in (extra or {}).items():
        parts.append(f"{k} {v:,}")
    return " · ".join(parts)
