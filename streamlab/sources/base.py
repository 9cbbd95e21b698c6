"""The source contract.

A source is a class with a registry `name`, a one-line `summary`, its own click `options`, and
`records()`: an iterator of records (see `records.py`) that may block waiting for data. The
pipeline runs it on its own thread, applies `--rate`/`--count`/`--duration`, and calls `stop()`
from the main thread to end it; `records()` must return soon after (check `self.stopped`).

A source whose data arrives in bunches (a websocket read holds hundreds of frames at full speed)
may also override `batches()`: the same records, in lists. Unpaced runs (no `--rate`) then take
those, one hand-over per list instead of per record.

Time and randomness are injected (`clock`, `sleep`, `rng`) so tests are deterministic.
"""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Sequence

import click

from streamlab.records import Record

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings


class Source:
    name: ClassVar[str]
    summary: ClassVar[str]
    options: ClassVar[Sequence[click.Parameter]] = ()

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        **options: Any,
    ):
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.opts = options
        self._stop = threading.Event()

    def records(self) -> Iterator[Record]:
        raise NotImplementedError

    def batches(self) -> Iterator[list[Record]]:
        """records() in lists, in order (an empty list is allowed); override where data arrives in
        bunches. The pipeline uses it only when the class overrides it (see `has_batches`)."""
        for record in self.records():
            yield [record]

    @classmethod
    def has_batches(cls) -> bool:
        return cls.batches is not Source.batches

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep that ends early on stop(); returns True when stopped."""
        return self._stop.wait(seconds)

    def counters(self) -> dict[str, int]:
        """Extra figures for the progress line (frames, reconnects, malformed...)."""
        return {}

    def close(self) -> None:
        """Release connections. Called once, after the pipeline stopped reading."""

    def describe(self) -> str:
        return self.name
