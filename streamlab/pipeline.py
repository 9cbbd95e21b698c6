"""The one loop joining a source to a sink.

The source runs on its own thread and hands records over a bounded buffer (`Handoff`); the main
thread feeds them to the sink's `Batcher`. A slow sink therefore blocks the source (back-pressure)
instead of growing memory: at most `queue_size` records wait between the two (plus one list, for
a source that hands over lists, see `Source.batches`), plus the chunk the main thread is batching. `--rate` paces the source, `--count`/`--duration` end the run.

Ctrl-C or SIGTERM end it cleanly: the signal only sets a flag, so no record is ever lost half-way
through a hand-over or a send; within a tenth of a second the loop sees it, the source stops,
everything already handed over is flushed, then the summary is printed. A second Ctrl-C/SIGTERM
aborts at once: it cuts short only a send or a backoff sleep (never the bookkeeping around them),
the batch whose send it cut goes to the dead-letter file as `delivery unknown`, everything else
still on hand as `not sent`, and the run returns with reason "aborted" so the summary still prints.

A sink that fails fatally (stream deleted, credentials revoked) ends the run the same way: the
records still on hand go to the dead-letter file, the summary says so, then the error is raised.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from streamlab.sinks.base import Batcher, Interrupts, Stats
from streamlab.sources.base import Source

_DONE = object()
#: reasons that mean the feeder's end mark was taken: nothing is left in the hand-over
ENDED_BY_SOURCE = ("count", "source ended")
#: longest the main thread sleeps between looks at the stop flag and the deadline
POLL = 0.1


@dataclass
class Limits:
    count: Optional[int] = None  # records, then stop
    duration: Optional[float] = None  # seconds, then stop
    rate: float = 0.0  # records per second, 0 = as fast as possible


@dataclass
class RunResult:
    stats: Stats
    elapsed: float
    reason: str  # "count", "duration", "source ended", "interrupted", "sink failed", "aborted"
    source_counters: dict = field(default_factory=dict)
    error: Optional[BaseException] = None

    @property
    def rate(self) -> float:
        return self.stats.sent / self.elapsed if self.elapsed > 0 else 0.0


class Handoff:
    """A bounded FIFO from one producer thread to one consumer thread, cheaper than queue.Queue.

    queue.Queue takes a lock and signals a condition on every put and every get (~4 us a record,
    a fifth of the budget at 50k records/s). Here records travel through a deque, whose append and
    popleft are atomic in CPython, and the lock is taken only when a side has to sleep: the consumer
    when there is nothing to take, the producer when `maxsize` records are waiting. Each side sets
    its "waiting" flag under the lock and re-checks before sleeping; the other side looks at the
    flag after changing the deque, so no wake-up is missed. A record is visible to the consumer the
    moment it is put: a live source that goes quiet holds nothing back.
    """

    def __init__(self, maxsize: int):
        self.maxsize = max(1, maxsize)
        self._items: deque = deque()
        self._cond = threading.Condition(threading.Lock())
        self._reader_waiting = False
        self._writer_waiting = False
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Any) -> None:
        """Append; blocks while `maxsize` items wait (back-pressure), unless closed."""
        self._items.append(item)
        self._after_put()

    def put_many(self, batch: list) -> None:
        """put() for a list, in order; the back-pressure check comes after the whole list, so up to
        one list more than `maxsize` may wait."""
        self._items.extend(batch)  # atomic for a list: the consumer sees all of it or none
        self._after_put()

    def _after_put(self) -> None:
        """Wake a waiting reader; block while `maxsize` items wait (back-pressure), unless closed."""
        items = self._items
        if self._reader_waiting:
            with self._cond:
                self._cond.notify_all()
        if len(items) >= self.maxsize and not self._closed:
            with self._cond:
                self._writer_waiting = True
                while len(items) >= self.maxsize and not self._closed:
                    self._cond.wait()
                self._writer_waiting = False

    def take(self, timeout: Optional[float]) -> list:
        """Everything waiting (at most `maxsize` items), after up to `timeout` s for the first one."""
        items = self._items
        if not items:
            with self._cond:
                self._reader_waiting = True
                try:
                    if not items:
                        self._cond.wait(timeout)
                finally:
                    self._reader_waiting = False
        pop = items.popleft
        out = [pop() for _ in range(min(len(items), self.maxsize))]
        if self._writer_waiting:
            with self._cond:
                self._cond.notify_all()
        return out

    def close(self) -> None:
        """Never block the producer again (the consumer has stopped taking)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _Feeder(threading.Thread):
    """Pulls from the source, paces to --rate, stops at --count, hands over through the Handoff."""

    def __init__(self, source: Source, handoff: Handoff, limits: Limits, stats: Stats, clock, sleep):
        super().__init__(name=f"source-{source.name}", daemon=True)
        self.source, self.handoff, self.limits, self.stats = source, handoff, limits, stats
        self.clock, self.sleep = clock, sleep
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        put = self.handoff.put
        source, stats = self.source, self.stats
        count = self.limits.count
        interval = 1.0 / self.limits.rate if self.limits.rate and self.limits.rate > 0 else 0.0
        n = 0
        next_at = self.clock()
        try:
            if count == 0:
                return
            if not interval and source.has_batches():
                self._run_batches()
                return
            for record in source.records():
                if interval:
                    now = self.clock()
                    if next_at > now:
                        if source.wait(next_at - now):
                            break
                    # never bank more than a second of credit after a stall
                    next_at = max(next_at, self.clock() - 1.0) + interval
                put(record)
                n += 1
                stats.produced = n
                if count is not None and n >= count or source.stopped:
                    break
        except BaseException as exc:  # reported by the main thread, after a flush
            self.error = exc
        finally:
            put(_DONE)

    def _run_batches(self) -> None:
        """The unpaced loop over a source's batches(): one hand-over per list, cut at --count."""
        put_many, source, stats = self.handoff.put_many, self.source, self.stats
        count = self.limits.count
        n = 0
        for batch in source.batches():
            if count is not None and n + len(batch) >= count:
                batch = batch[:count - n]
                put_many(batch)
                stats.produced = n + len(batch)
                break
            if batch:
                put_many(batch)
                n += len(batch)
                stats.produced = n
            if source.stopped:
                break


class _StopFlag(Interrupts):
    """Set by the first Ctrl-C/SIGTERM; the second one sets `aborted`.

    The abort raises KeyboardInterrupt only inside `interruptible()` (a send or a backoff sleep,
    which the Batcher marks): raised anywhere else it could land between taking records from the
    hand-over and recording their fate, and those records would be neither sent nor dead-lettered.
    Elsewhere the loops look at `aborted` between steps.
    """

    def __init__(self) -> None:
        self.requested = False
        self.aborted = False
        self._zone = 0

    def __call__(self, signum, frame) -> None:
        if not self.requested:
            self.requested = True
            return
        self.aborted = True
        if self._zone:
            raise KeyboardInterrupt

    def __enter__(self) -> None:
        self._zone += 1
        if self.aborted:
            self._zone -= 1
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        self._zone -= 1

    def check(self) -> None:
        """At a safe point: act on an abort that arrived outside a send."""
        if self.aborted:
            raise KeyboardInterrupt


@contextmanager
def _graceful_signals(flag: _StopFlag) -> Iterator[None]:
    """While the pipeline runs, Ctrl-C and SIGTERM set `flag` instead of raising mid-record."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, flag) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


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
    """Run until the source ends, a limit is reached, the sink fails or the process is interrupted.

    Always flushes. A fatal sink error is returned in `RunResult.error` (after the dead-letter
    file got what was left), like an error of the source; the caller raises it after its summary.
    An abort (second signal) returns reason "aborted" once every record is accounted for.
    """
    handoff = Handoff(queue_size)
    feeder = _Feeder(source, handoff, limits, batcher.stats, clock, sleep)
    stop = _StopFlag()
    batcher.interrupts = stop
    started = clock()
    error: Optional[BaseException] = None
    with _graceful_signals(stop):
        try:
            reason, error = _run_and_flush(source, batcher, handoff, feeder, limits, stop, clock, started, on_start)
        except KeyboardInterrupt as exc:  # the second signal: keep on disk what we still hold
            reason = "aborted"
            _abort(source, batcher, handoff, feeder, exc)
        finally:
            handoff.close()
            source.close()
    elapsed = clock() - started
    return RunResult(batcher.stats, elapsed, reason, source.counters(), error or feeder.error)


def _run_and_flush(source, batcher, handoff, feeder, limits, stop, clock, started, on_start):
    """The normal run: pump, then stop the source and flush what it handed over. -> (reason, error)"""
    error: Optional[BaseException] = None
    try:
        feeder.start()
        if on_start:
            on_start()
        reason = _pump(handoff, batcher, limits, stop, clock, started)
    except Exception as exc:  # the sink failed for good: keep what is left, then report
        reason, error = "sink failed", exc
    # Stop the source and flush everything it already handed over (unless its end mark,
    # and so everything before it, has been taken already).
    source.stop()
    if reason not in ENDED_BY_SOURCE:
        try:
            _drain(handoff, batcher, feeder, stop)
        except Exception as exc:
            error = error or exc
    stop.check()
    try:
        batcher.close()
    except Exception as exc:
        error = error or exc
    return reason, error


def _abort(source: Source, batcher: Batcher, handoff: Handoff, feeder: "_Feeder", exc: BaseException) -> None:
    """Dead-letter everything still on hand (buffer, hand-over, what the feeder puts last)."""
    source.stop()
    handoff.close()
    batcher.abandon(exc)
    feeder.join(1.0)  # its last put, and its end mark, land before we take the rest
    while True:
        chunk = [x for x in handoff.take(0) if x is not _DONE]
        if not chunk:
            break
        batcher.add_all(chunk)
    batcher.close()


def _pump(handoff: Handoff, batcher: Batcher, limits: Limits, stop: _StopFlag, clock, started: float) -> str:
    """Move records from the hand-over to the batcher until a limit, the source's end or a stop."""
    deadline = started + limits.duration if limits.duration else None
    take, add_all = handoff.take, batcher.add_all
    while True:
        if stop.requested:
            return "interrupted"
        wait = batcher.time_left()
        wait = POLL if wait is None else min(wait, POLL)
        if deadline is not None:
            until_deadline = deadline - clock()
            if until_deadline <= 0:
                return "duration"
            wait = min(wait, until_deadline)
        chunk = take(wait)
        if chunk and chunk[-1] is _DONE:
            add_all(chunk[:-1])
            if limits.count is not None and batcher.stats.produced >= limits.count:
                return "count"
            return "source ended"
        if chunk:
            add_all(chunk)
        batcher.flush_if_due()


def _drain(handoff: Handoff, batcher: Batcher, feeder: _Feeder, stop: _StopFlag) -> None:
    """Hand everything still waiting to the batcher, until the feeder's end mark (5 s at most)."""
    deadline = time.monotonic() + 5.0
    while True:
        stop.check()
        chunk = handoff.take(0.05)
        done = bool(chunk) and chunk[-1] is _DONE
        if done:
            chunk.pop()
        if chunk:
            batcher.add_all(chunk)
        if done:
            return
        if not chunk and (not feeder.is_alive() and not len(handoff) or time.monotonic() > deadline):
            return
