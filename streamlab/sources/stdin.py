"""Standard input, one record per line: `tail -f app.log | streamlab produce stdin --sink socket`.

Replaces the `nc -lk` typing of the socket lab. Lines are read from the raw file descriptor with a
short select() so Ctrl-C/stop() ends the run promptly even while nothing is typed; a final line
without a newline is kept; empty lines are skipped unless `--keep-empty`. Bytes that are not UTF-8
are replaced (U+FFFD), never fatal.
"""

from __future__ import annotations

import os
import select
import sys
from typing import Iterator

import click

from streamlab.records import TextLine
from streamlab.sources.base import Source

POLL = 0.2  # seconds between checks of stop() while stdin is quiet


class StdinSource(Source):
    name = "stdin"
    summary = "Each line typed or piped on standard input becomes one record."
    options = (click.Option(["--keep-empty"], is_flag=True, help="Also send empty lines."),)

    def records(self) -> Iterator[TextLine]:
        fd = sys.stdin.fileno()
        keep_empty = bool(self.opts.get("keep_empty"))
        pending = b""
        while not self.stopped:
            ready, _, _ = select.select([fd], [], [], POLL)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # end of input
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.rstrip(b"\r").decode("utf-8", "replace")
                if line or keep_empty:
                    yield TextLine(line, "stdin")
        if pending and not self.stopped:
            yield TextLine(pending.rstrip(b"\r").decode("utf-8", "replace"), "stdin")

    def describe(self) -> str:
        return "lines from standard input"
