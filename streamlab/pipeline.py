"""The one loop joining a source to a sink.

The source runs on its own thread and hands records over a bounded queue; the main thread feeds
them to the sink's `Batcher`. A slow sink therefore blocks the source (back-pressure) instead of
growing memory. `--rate` paces the source, `--count`/`--duration` end the run, and Ctrl-C or
SIGTERM end it cleanly: the source stops, everything already handed over is flushed, then the
summary is printed. A second Ctrl-C aborts at once.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from streamlab.sinks.base import Batcher, Stats
from streamlab.sources.base import Source

_DONE = object()


@dataclass
class Limits:
    count: Optional[int] = None  # records, then stop
    duration: Optional[float] = None  # seconds, then stop
    rate: float = 0.0  # records per second, 0 = as fast as possible


@dataclass
class RunResult:
    stats: Stats
    elapsed: float
    reason: str  # "count", "duration", "source ended", "interrupted"
    source_counters: dict = field(default_factory=dict)
    error: Optional[BaseException] = None

    @property
    def rate(self) -> float:
        return self.stats.sent / self.elapsed if self.elapsed > 0 else 0.0


class _Feeder(threading.Thread):
    """Pulls from the source, paces to --rate, stops at --count, hands over through the queue."""

    def __init__(self, source: Source, q: "queue.Queue", limits: Limits, stats: Stats, clock, sleep):
        super().__init__(name=f"source-{source.name}", daemon=True)
        self.source, self.q, self.limits, self.stats = source, q, limits, stats
        self.clock, self.sleep = clock, sleep
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        put = self.q.put
        count = self.limits.count
        interval = 1.0 / self.limits.rate if self.limits.rate and self.limits.rate > 0 else 0.0
        n = 0
        next_at = self.clock()
        try:
            if count == 0:
                return
            for record in self.source.records():
                if interval:
                    now = self.clock()
                    if next_at > now:
                        if self.source.wait(next_at - now):
                            break
                    # never bank more than a second of credit after a stall
                    next_at = max(next_at, self.clock() - 1.0) + interval
                put(record)
                n += 1
                self.stats.produced = n
                if count is not None and n >= count or self.source.stopped:
                    break
        except BaseException as exc:  # reported by the main thread, after a flush
            self.error = exc
        finally:
            put(_DONE)


@contextmanager
def _graceful_signals() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt in the main thread) while the pipeline runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run(
    source: Source,
    batcher: Batcher,
    limits: Limits,
    *,
    queue_size: int = 10_000,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_start: Optional[Callable[[], None]] = None,
) -> RunResult:
    """Run until the source ends, a limit is reached or the process is interrupted; always flushes."""
    stats = batcher.stats
    q: "queue.Queue" = queue.Queue(maxsize=queue_size)
    feeder = _Feeder(source, q, limits, stats, clock, sleep)
    started = clock()
    deadline = started + limits.duration if limits.duration else None
    reason = "source ended"
    get = q.get
    add = batcher.add
    with _graceful_signals():
        try:
            feeder.start()
            if on_start:
                on_start()
            while True:
                wait = batcher.time_left()
                if deadline is not None:
                    until_deadline = deadline - clock()
                    if until_deadline <= 0:
                        reason = "duration"
                        break
                    wait = until_deadline if wait is None else min(wait, until_deadline)
                try:
                    item = get(timeout=wait) if wait is not None else get()
                except queue.Empty:
                    batcher.flush_if_due()
                    continue
                # take what is already queued too, without re-checking the clock per record
                while item is not _DONE:
                    add(item)
                    try:
                        item = q.get_nowait()
                    except queue.Empty:
                        break
                if item is _DONE:
                    if limits.count is not None and stats.produced >= limits.count:
                        reason = "count"
                    break
                batcher.flush_if_due()
        except KeyboardInterrupt:
            reason = "interrupted"
        finally:
            # Stop the source and flush everything it already handed over; a second Ctrl-C aborts.
            source.stop()
            _drain(q, batcher, feeder)
            try:
                batcher.close()
            finally:
                source.close()
    elapsed = clock() - started
    return RunResult(stats, elapsed, reason, source.counters(), feeder.error)


def _drain(q: "queue.Queue", batcher: Batcher, feeder: _Feeder) -> None:
    """Hand everything queued to the batcher; unblocks a feeder stuck on a full queue."""
    deadline = time.monotonic() + 5.0
    while True:
        try:
            item = q.get(timeout=0.05)
        except queue.Empty:
            if not feeder.is_alive() or time.monotonic() > deadline:
                return
            continue
        if item is _DONE:
            return
        batcher.add(item)
