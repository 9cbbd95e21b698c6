"""Terminal output: one stderr console for messages, the live progress line and the run summary.

Data goes to stdout only when the user asked for it (`--sink stdout`); everything streamlab says
goes to stderr, so pipes stay clean.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from rich.console import Console
from rich.text import Text

err = Console(stderr=True, highlight=False, soft_wrap=True)


def info(message: str) -> None:
    err.print(message)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}")


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
