"""Discard everything (benchmarks, dry runs): measures the pipeline without a service behind it."""

from __future__ import annotations

from streamlab.sinks.base import Entry, Failure, Sink


class NullSink(Sink):
    name = "null"
    summary = "Discard records (for measuring the pipeline itself)."
    max_batch_records = 10_000
    linger = 0.5

    def send(self, batch: list[Entry]) -> list[Failure]:
        return []
