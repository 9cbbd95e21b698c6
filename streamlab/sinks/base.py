"""The sink contract, and the batching every sink shares.

A sink declares its limits (`max_batch_records`, `max_batch_bytes`, `max_record_bytes`, `linger`),
builds its client in `open()` (checking the target exists), and implements `send(batch)`: deliver a
list of `Entry` and return the failures *by index into that batch* (Kinesis' `ErrorCode`, Firehose's
`RequestResponses`, Kafka's failed futures). A whole call that failed transiently raises
`RetryBatch`; anything else raised is fatal and propagates as a StreamlabError.

`Batcher` owns the buffer and the guarantees: batches never exceed the limits, only the failed
entries are resent, with jittered exponential backoff, entries still failing after the retry budget
go to the dead-letter file, and `close()` flushes whatever is buffered. At-least-once: an entry the
service accepted but whose answer was lost may be sent twice.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Optional, Sequence

import click

from streamlab.errors import ConnectionFailed, StreamlabError
from streamlab.jsonl import SetAside
from streamlab.records import Record

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings

MiB = 1024 * 1024


#: what a dead-letter line says about where the record may be (its `delivery` field)
REJECTED = "rejected"  # the service answered no: resending cannot duplicate it
NOT_SENT = "not sent"  # it never left this process: resending cannot duplicate it
UNKNOWN = "delivery unknown"  # a request carrying it may have reached the service: resending may duplicate


@dataclass(slots=True)
class Entry:
    data: bytes
    key: Optional[str]
    #: an attempt ended without an answer (timeout, reset, interrupt): it may be there already
    unsure: bool = False


@dataclass(slots=True)
class Failure:
    index: int
    code: str
    message: str = ""
    #: True when the request may have reached the service (read timeout, reset, no ack in time)
    unsure: bool = False
    #: True when the service could not be reached at all (refused, reset, timed out): an outage
    outage: bool = False


class RetryBatch(Exception):
    """The whole call failed in a way worth retrying (throttled, connection reset).

    `unsure`: the request may have reached the service (a reset or read timeout after sending);
    False when it surely did not (refused, throttled: the service said no)."""

    def __init__(self, code: str, message: str = "", *, unsure: bool = False, outage: bool = False):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.unsure = unsure
        self.outage = outage


class SinkUnreachable(ConnectionFailed):
    """The target stayed unreachable for longer than --max-outage: the run stops (exit 5)."""


class Interrupts:
    """What the Batcher asks whoever handles signals (the pipeline's stop flag; this default never
    interrupts): `interruptible()` marks a send or a backoff sleep, the only places a second
    Ctrl-C may cut short, so an abort never lands between taking records and recording their fate."""

    requested = False  # a first signal asked the run to stop: waits that are only courtesy end now
    aborted = False

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None

    def interruptible(self) -> "Interrupts":
        return self


class Sink:
    name: ClassVar[str]
    summary: ClassVar[str]
    options: ClassVar[Sequence[click.Parameter]] = ()

    max_batch_records: ClassVar[int] = 1000
    max_batch_bytes: ClassVar[int] = 4 * MiB
    max_record_bytes: ClassVar[Optional[int]] = None
    #: seconds a partial batch may wait for more records before it is sent
    linger: ClassVar[float] = 0.05
    #: records send() accepted then discarded on purpose (socket sink, --when-no-client drop)
    dropped: int = 0
    #: set by the Batcher before close(): a sink's optional waits end when `requested` is set
    interrupts: "Interrupts"

    def __init__(self, settings: Settings, **options: Any):
        self.settings = settings
        self.opts = options

    def entry_size(self, entry: Entry) -> int:
        """What one entry counts against max_batch_bytes (Kinesis adds the partition key)."""
        return len(entry.data)

    def open(self) -> None:
        """Build clients and check the target exists; raise StreamlabError with a fix if not."""

    def send(self, batch: list[Entry]) -> list[Failure]:
        raise NotImplementedError

    def close(self) -> None:
        """Release clients; called after the last flush."""

    def undelivered(self) -> list[Entry]:
        """After close(): records send() accepted but could not deliver after all (a socket sink's
        lines still held for a client that never came). The Batcher dead-letters them."""
        return []

    def describe(self) -> str:
        return self.name


@dataclass
class Stats:
    produced: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    bytes: int = 0
    dropped: int = 0


@dataclass
class RetryPolicy:
    attempts: int = 6  # sends of one entry, the first included (answers that say no)
    base: float = 0.1
    cap: float = 5.0
    #: seconds the target may stay unreachable (refused, reset, timed out) before the run stops;
    #: attempts during an outage do not use up `attempts`
    max_outage: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter (AWS architecture blog): uniform(0, min(cap, base * 2**attempt))."""
        return rng.uniform(0, min(self.cap, self.base * (2 ** attempt)))


class DeadLetter(SetAside):
    """JSON lines of records that could not be delivered, with the reason (see `streamlab.jsonl`):
    `{"reason", "delivery", "message", "key", "data", "time"}`; `delivery` is REJECTED, NOT_SENT
    or UNKNOWN (only those may already be in the target). Created 0600 on first use."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.unknown = 0

    def write(self, entry: Entry, code: str, message: str = "", delivery: str = REJECTED) -> None:
        if entry.unsure:
            delivery = UNKNOWN  # an earlier attempt may have landed, whatever the last one said
        self.unknown += delivery == UNKNOWN
        self.add(code, delivery=delivery, message=message, key=entry.key,
                 data=entry.data.decode("utf-8", errors="backslashreplace"))


class Batcher:
    """Buffers records for one sink and delivers them under the sink's limits."""

    def __init__(
        self,
        sink: Sink,
        dead_letter: DeadLetter,
        stats: Optional[Stats] = None,
        retry: Optional[RetryPolicy] = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Optional[random.Random] = None,
    ):
        self.sink = sink
        self.dead_letter = dead_letter
        self.stats = stats or Stats()
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._buf: list[Entry] = []
        self._buf_bytes = 0
        self._first_at: Optional[float] = None
        #: the fatal error of an earlier send; once set, batches go straight to the dead-letter file
        self.broken: Optional[BaseException] = None
        #: set by the pipeline to its stop flag: where a second signal may cut a send short
        self.interrupts: Interrupts = Interrupts()
        self._closed = False
        #: clock() when the target stopped answering (None: it answers), and the wall time then
        self.outage_since: Optional[float] = None
        self.outage_wall = 0.0

    # -- buffering --------------------------------------------------------------------------
    def add(self, record: Record) -> None:
        self.add_all((record,))

    def add_all(self, records: Iterable[Record]) -> None:
        """Buffer records in order, sending a batch each time one is full.

        One loop for many records, with the sink's limits looked up once: the pipeline hands
        records over in chunks, and at 50k records/s per-record attribute lookups add up.
        If the sink fails for good part-way, or an abort cuts a send short, the rest of `records`
        still goes through the buffer (and so to the dead-letter file, see `broken`) before the
        error (or KeyboardInterrupt) is raised: every record handed in is accounted for.
        """
        sink = self.sink
        size_of = sink.entry_size
        plain_size = getattr(size_of, "__func__", None) is Sink.entry_size  # len(data): no call per record
        limit = sink.max_record_bytes
        max_records, max_bytes = sink.max_batch_records, sink.max_batch_bytes
        fatal: Optional[BaseException] = None
        buf, buf_bytes = self._buf, self._buf_bytes  # kept in locals, written back around each flush
        try:
            for record in records:
                data = record.to_bytes()
                entry = Entry(data, record.key())
                size = len(data) if plain_size else size_of(entry)
                if limit is not None and size > limit:
                    self._dead(entry, "RecordTooLarge", f"{size} bytes > the sink's limit of {limit}", NOT_SENT)
                    continue
                if buf and (len(buf) >= max_records or buf_bytes + size > max_bytes):
                    self._buf_bytes = buf_bytes
                    fatal = self._flush_noting(fatal)
                    buf, buf_bytes = self._buf, self._buf_bytes
                if not buf:
                    self._first_at = self.clock()
                buf.append(entry)
                buf_bytes += size
                if len(buf) >= max_records:
                    self._buf_bytes = buf_bytes
                    fatal = self._flush_noting(fatal)
                    buf, buf_bytes = self._buf, self._buf_bytes
        finally:
            self._buf_bytes = buf_bytes
        if fatal is not None:
            raise fatal

    def _flush_noting(self, fatal: Optional[BaseException]) -> Optional[BaseException]:
        """flush(), returning (not raising) the first fatal error or abort; `broken` is set by then,
        so the rest of the chunk is dead-lettered without another send."""
        try:
            self.flush()
        except BaseException as exc:
            if self.broken is None:
                self.broken = exc
            return fatal or exc
        return fatal

    def time_left(self) -> Optional[float]:
        """Seconds until the partial batch is due, None when the buffer is empty."""
        if not self._buf:
            return None
        return max(0.0, self._first_at + self.sink.linger - self.clock())

    def flush_if_due(self) -> None:
        left = self.time_left()
        if left is not None and left <= 0:
            self.flush()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    # -- delivery ---------------------------------------------------------------------------
    def flush(self) -> None:
        batch, self._buf, self._buf_bytes, self._first_at = self._buf, [], 0, None
        if batch:
            self._deliver(batch)

    def _deliver(self, batch: list[Entry]) -> None:
        if self.broken is not None:
            # Sending again after a fatal error would only fail again (and slowly): keep the records.
            why = "the run was aborted" if isinstance(self.broken, KeyboardInterrupt) else f"the sink failed earlier: {self.broken}"
            for entry in batch:
                self._dead(entry, "NotSent", why, NOT_SENT)
            return
        pending = batch
        attempt = 0
        while True:
            failures = self._attempt(pending)
            self.stats.batches += 1
            ok = len(pending) - len(failures)
            self.stats.sent += ok
            self.stats.bytes += sum(len(e.data) for e in pending) - sum(len(pending[f.index].data) for f in failures)
            if ok:
                self.outage_since = None  # it answered: whatever outage there was is over
            if not failures:
                return
            for f in failures:
                if f.unsure:
                    pending[f.index].unsure = True
            if all(f.outage for f in failures):
                self._outage_check(pending, failures)  # raises once it lasted over max_outage
                delay_step = min(attempt + 1, 6)
            else:
                attempt += 1
                if attempt >= self.retry.attempts:
                    for f in failures:
                        self._dead(pending[f.index], f.code, f.message)
                    return
                delay_step = attempt
            self.stats.retried += len(failures)
            pending = [pending[f.index] for f in failures]
            self._backoff(delay_step, pending, failures)

    def _outage_check(self, pending: list[Entry], failures: list[Failure]) -> None:
        """Note when the target stopped answering; past `max_outage`, keep `pending` and give up."""
        now = self.clock()
        if self.outage_since is None:
            self.outage_since, self.outage_wall = now, time.time()
            return
        lasted = now - self.outage_since
        if lasted <= self.retry.max_outage:
            return
        for f in failures:  # NOT_SENT unless an attempt may have landed (then DeadLetter says unknown)
            self._dead(pending[f.index], f.code, f.message, NOT_SENT)
        since = time.strftime("%H:%M:%S", time.localtime(self.outage_wall))
        last = failures[0]
        self.broken = SinkUnreachable(
            f"{self.sink.describe()} unreachable since {since} ({lasted:.1f}s, over --max-outage {self.retry.max_outage:g}s; last: {last.code})",
            "check that the endpoint is up and reachable, then resend the dead-letter file",
        )
        raise self.broken

    def _backoff(self, step: int, pending: list[Entry], failures: list[Failure]) -> None:
        try:
            with self.interrupts.interruptible():
                self.sleep(self.retry.delay(step, self.rng))
        except KeyboardInterrupt:  # aborted while waiting to resend: nothing is in flight
            for entry, f in zip(pending, failures):
                self._dead(entry, f.code, f"{f.message} (aborted before the next attempt)")
            raise

    def _attempt(self, pending: list[Entry]) -> list[Failure]:
        """One send; a fatal error or an abort dead-letters `pending` and propagates."""
        try:
            with self.interrupts.interruptible():
                return self.sink.send(pending)
        except RetryBatch as exc:
            return [Failure(i, exc.code, exc.message, exc.unsure, exc.outage) for i in range(len(pending))]
        except KeyboardInterrupt:
            # The abort cut the request short: it may have reached the service, or not.
            for entry in pending:
                self._dead(entry, "Interrupted", "aborted while these were being sent", UNKNOWN)
            raise
        except BaseException as exc:
            # Fatal (stream deleted, credentials revoked): the service answered, nothing was written.
            # Anything else unexpected may have failed half-way through the request.
            delivery = REJECTED if isinstance(exc, StreamlabError) else UNKNOWN
            for entry in pending:
                self._dead(entry, "NotSent", "the sink failed before these were delivered", delivery)
            self.broken = exc
            raise

    def abandon(self, reason: BaseException) -> None:
        """Give up on the sink (an abort): what is buffered, and anything added later, is dead-lettered."""
        if self.broken is None:
            self.broken = reason
        self.flush()

    def _dead(self, entry: Entry, code: str, message: str, delivery: str = REJECTED) -> None:
        self.dead_letter.write(entry, code, message, delivery)
        self.stats.failed += 1

    def close(self) -> None:
        """Flush, then release the sink (once, even if close() runs again after an abort)."""
        try:
            self.flush()
        finally:
            try:
                if not self._closed:
                    self._closed = True
                    self.sink.interrupts = self.interrupts
                    self.sink.close()
                    self._settle_accepted()
            finally:
                self.dead_letter.close()

    def _settle_accepted(self) -> None:
        """Records the sink accepted but did not deliver are not `sent`: dropped, or dead-lettered."""
        sink, stats = self.sink, self.stats
        if sink.dropped:
            stats.sent -= sink.dropped
            stats.dropped += sink.dropped
        for entry in sink.undelivered():
            stats.sent -= 1
            self._dead(entry, "NoClient", "held for a client that did not come before the end", NOT_SENT)
