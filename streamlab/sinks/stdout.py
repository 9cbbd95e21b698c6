"""JSON lines (or text lines) on standard output, for piping into other tools."""

from __future__ import annotations

import sys

from streamlab.sinks.base import Entry, Failure, Sink


class StdoutSink(Sink):
    name = "stdout"
    summary = "Print each record as one line on standard output."
    max_batch_records = 256
    linger = 0.02

    def send(self, batch: list[Entry]) -> list[Failure]:
        out = sys.stdout.buffer
        out.write(b"".join(e.data + b"\n" for e in batch))
        out.flush()
        return []
