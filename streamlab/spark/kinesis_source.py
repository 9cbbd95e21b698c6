"""streamlab's own Kinesis source for Spark Structured Streaming (a `pyspark.sql.datasource` source).

Used wherever the JVM `aws-kinesis` connector is absent (laptops, CI, the demo). Format name
`streamlab-kinesis`; options: `streamName` (required), `endpointUrl`, `region`, `startingPosition`
(`TRIM_HORIZON` | `LATEST`), `maxRecordsPerBatch` (default 100,000), credentials
`awsAccessKeyId`/`awsSecretAccessKey`/`awsSessionToken`, `profile` (only when given explicitly;
otherwise the executors use their default chain, e.g. the EMR instance role). Spark redacts option names that
contain "secret", "token" or "accesskey" from plans and logs.

Rows: `data` (binary payload), `streamName`, `shardId`, `partitionKey`, `sequenceNumber` (string),
`approximateArrivalTimestamp`: the native connector's columns plus `shardId`; and, for the user
records of a KPL aggregate (`streamlab.kpl`), `subSequenceNumber`, `explicitHashKey` and, for a
corrupt aggregate kept whole as one row, `kplError` (see `kinesis_pages.user_records`). Aggregates
are split where batches are handed to Spark (`read`): everything before that, the driver's buffer,
the offsets and `maxRecordsPerBatch`, counts Kinesis records, so a checkpoint never falls inside an
aggregate and a restart neither loses nor repeats its user records.

Offsets: `{"shards": {shardId: position}}` with a position per shard:
`trim` (from the oldest record), `latest@<ms>` (records that arrived at/after the query's first start;
`LATEST` is pinned to a timestamp so every later call means the same thing) or `after:<seq>` (the
last sequence number consumed). Sequence numbers are compared as integers (moto's are small ints,
AWS's are 56-digit ints; neither compares correctly as text). One input partition per shard with
data in the batch. Shards are re-listed on every batch; a shard first seen after the start (a
reshard's child) is read from its oldest record; a shard gone from the listing (expired) is dropped.

Kinesis has no "latest sequence number" call, so `latestOffset` finds the end by reading: it pages
GetRecords from each shard's offset until the shard reports it is caught up (MillisBehindLatest 0),
the read limit is reached, or `MAX_BUFFERED_RECORDS` are held. What it read is kept in a driver-side
buffer and shipped inside the input partitions, so executors do not read the same records again; an
executor reads from Kinesis itself only when the buffer does not cover its range (a batch replayed
from the checkpoint after a restart). The buffer is trimmed on `commit`.

Trigger.AvailableNow (Spark >= 4.2): `prepareForTriggerAvailableNow` pins a cut-off time; records
that arrived after it are not read, so the query ends. The cut-off uses this machine's clock against
Kinesis' ApproximateArrivalTimestamp: with a skewed clock, records put just before the start may be
left for the next run (never lost).

boto3 clients are made lazily, through `streamlab.aws.session.AWS` (driver) or a per-worker cache
(executors), and are never pickled.
"""

from __future__ import annotations

import bisect
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Optional

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition

# page decoding lives in kinesis_pages; SCHEMA, arrow_schema and get_page are this source's too
from streamlab.spark.kinesis_pages import (  # noqa: F401
    SCHEMA,
    Page,
    ShardBuffer,
    arrow_schema,
    compact,
    get_page,
    take_raw_records,
    user_records,
)

try:  # Spark >= 4.2
    from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadLimit, ReadMaxRows, SupportsTriggerAvailableNow

    HAS_AVAILABLE_NOW = True
except ImportError:  # pragma: no cover - Spark 4.0/4.1 (EMR 8.0): no AvailableNow for Python sources
    HAS_AVAILABLE_NOW = False
    ReadLimit = ReadAllAvailable = ReadMaxRows = None  # type: ignore[assignment,misc]

    class SupportsTriggerAvailableNow:  # type: ignore[no-redef]
        pass


FORMAT = "streamlab-kinesis"
DEFAULT_MAX_RECORDS_PER_BATCH = 100_000
#: what the driver holds per reader before it ends a batch early; bounds driver memory.
MAX_BUFFERED_RECORDS = 200_000
#: one latestOffset call stops paging after this long once it has something to return.
FETCH_BUDGET_SECONDS = 10.0

# ----------------------------------------------------------------------------------------------
# positions
def seq_of(position: str) -> Optional[int]:
    """The consumed sequence number of an `after:<seq>` position, as an int; None otherwise."""
    return int(position[6:]) if position.startswith("after:") else None


def iterator_args(position: str) -> dict[str, Any]:
    """GetShardIterator arguments that resume right after `position`."""
    if position == "trim":
        return {"ShardIteratorType": "TRIM_HORIZON"}
    if position.startswith("latest@"):
        ms = int(position[7:])
        return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": datetime.fromtimestamp(ms / 1000, timezone.utc)}
    if position.startswith("after:"):
        return {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": position[6:]}
    raise ValueError(f"unknown Kinesis position {position!r}")


def starting_position(text: Optional[str], now_ms: int) -> str:
    norm = (text or "TRIM_HORIZON").strip().upper().replace("-", "_")
    if norm == "TRIM_HORIZON":
        return "trim"
    if norm == "LATEST":
        return f"latest@{now_ms}"
    raise ValueError(f"startingPosition must be TRIM_HORIZON or LATEST, not {text!r}")


# ----------------------------------------------------------------------------------------------
# clients
_worker_clients: dict[tuple, Any] = {}


def make_client(options) -> Any:
    """A Kinesis client from the reader options (`AWS.worker_options`), built by `AWS`, the one place clients are made."""
    from streamlab.aws.session import AWS

    client = AWS.from_worker_options(options).client("kinesis")
    client.meta.events.register("before-parse.kinesis.GetRecords", take_raw_records)
    return client


def worker_client(options) -> Any:
    """One client per executor Python worker (workers are reused across tasks), never pickled."""
    key = tuple(options.get(k) for k in ("endpointurl", "region", "awsaccesskeyid", "awssessiontoken"))
    client = _worker_clients.get(key)
    if client is None:
        client = _worker_clients[key] = make_client(options)
    return client


# ----------------------------------------------------------------------------------------------
@dataclass
class KinesisPartition(InputPartition):
    """One shard's slice of a batch: records after `start` up to and including sequence `end_seq`.

    `batch` carries the records the driver already read, as one Arrow record batch (compact to
    pickle, and Spark takes it as is); None: the executor reads them from Kinesis itself.
    """

    shard: str
    start: str
    end_seq: int
    batch: Any = None

    def __init__(self, shard: str, start: str, end_seq: int, batch: Any = None):
        super().__init__(shard)
        self.shard, self.start, self.end_seq, self.batch = shard, start, end_seq, batch


class KinesisStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    def __init__(self, options):
        # Spark hands options over case-insensitively; keep them lower-cased in a plain dict.
        self.options = {str(k).lower(): v for k, v in options.items()}
        self.stream = self.options.get("streamname")
        if not self.stream:
            raise ValueError("the streamlab-kinesis source needs the option streamName")
        self.start_position = starting_position(self.options.get("startingposition"), int(time.time() * 1000))
        self.max_rows = int(self.options.get("maxrecordsperbatch") or DEFAULT_MAX_RECORDS_PER_BATCH)
        self.cutoff: Optional[float] = None  # AvailableNow: epoch seconds
        self._client = None
        self._buffers: dict[str, ShardBuffer] = {}

    # pickling: executors get the options only; clients and buffers stay on the driver
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_client"] = None
        state["_buffers"] = {}
        return state

    @property
    def client(self):
        if self._client is None:
            self._client = make_client(self.options)
        return self._client

    # --- driver side ------------------------------------------------------------------------
    def list_shards(self) -> list[str]:
        shards, token = [], None
        while True:
            kw = {"NextToken": token} if token else {"StreamName": self.stream}
            resp = self.client.list_shards(**kw)
            shards += [s["ShardId"] for s in resp["Shards"]]
            token = resp.get("NextToken")
            if not token:
                return sorted(shards)

    def initialOffset(self) -> dict:
        return {"shards": {sid: self.start_position for sid in self.list_shards()}}

    def getDefaultReadLimit(self):
        return ReadMaxRows(self.max_rows) if HAS_AVAILABLE_NOW else None

    def prepareForTriggerAvailableNow(self) -> None:
        self.cutoff = time.time()

    def latestOffset(self, start: Optional[dict] = None, limit=None) -> dict:
        if start is None:  # Spark < 4.2 calls latestOffset() without arguments
            start = self._last_end if hasattr(self, "_last_end") else self.initialOffset()
        max_rows = getattr(limit, "max_rows", None) if limit is not None else self.max_rows
        positions = start.get("shards", {})
        shards = self.list_shards()
        for gone in set(self._buffers) - set(shards):
            del self._buffers[gone]
        buffers = {sid: self._aligned(sid, positions.get(sid, "trim")) for sid in shards}
        self._fill(buffers, max_rows)
        take = allocate({sid: len(b.seqs) for sid, b in buffers.items()}, max_rows)
        end = {"shards": {sid: buffers[sid].position_after(take[sid]) for sid in shards}}
        self._last_end = end
        return end

    def _aligned(self, shard: str, position: str) -> ShardBuffer:
        """The shard's buffer, starting exactly after `position` (reset when it cannot)."""
        buf = self._buffers.get(shard)
        if buf is not None and buf.base != position:
            index = buf.index_of(seq_of(position))
            if index is None:
                buf = None
            else:
                buf.drop_through(buf.seqs[index])
        if buf is None:
            buf = self._buffers[shard] = ShardBuffer(base=position)
        return buf

    def _fill(self, buffers: dict[str, ShardBuffer], max_rows: Optional[int]) -> None:
        """Page GetRecords until every shard is caught up or enough is held for this batch.

        Shards are paged in parallel threads (one per shard, up to 8): each call mostly waits on
        the service, and boto3 clients are thread-safe.
        """
        started = time.monotonic()
        want = min(max_rows if max_rows is not None else math.inf, MAX_BUFFERED_RECORDS)
        pending = [sid for sid, b in buffers.items() if not b.closed and not b.at_cutoff]
        pool = None
        if len(pending) > 1:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(max_workers=min(8, len(pending)))
        try:
            while pending:
                held = sum(len(b.seqs) for b in buffers.values())
                if held >= want:
                    return
                if held and time.monotonic() - started > FETCH_BUDGET_SECONDS:
                    return
                if pool is None:
                    done = [self._page(sid, buffers[sid]) for sid in pending]
                else:
                    done = list(pool.map(lambda sid: self._page(sid, buffers[sid]), pending))
                pending = [sid for sid, caught_up in zip(pending, done) if not caught_up]
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _page(self, shard: str, buf: ShardBuffer) -> bool:
        """One GetRecords call; True when the shard is caught up (or closed / past the cut-off)."""
        client = self.client
        if buf.iterator is None:
            buf.iterator = client.get_shard_iterator(StreamName=self.stream, ShardId=shard, **iterator_args(buf.tail()))[
                "ShardIterator"
            ]
        try:
            page = get_page(client, self.stream, shard, buf.iterator, self.cutoff)
        except client.exceptions.ExpiredIteratorException:
            buf.iterator = None  # idle longer than 5 minutes: start a fresh iterator from the tail
            return False
        buf.add(page)
        if page.at_cutoff:
            buf.at_cutoff = True
            buf.iterator = None  # we read past the cut-off; never resume from this iterator
            return True
        buf.iterator = page.next_iterator
        if buf.iterator is None:
            buf.closed = True
            return True
        if page.caught_up and self.cutoff is not None:
            buf.at_cutoff = True  # nothing older than the cut-off can still appear in this shard
        return page.caught_up

    def partitions(self, start: dict, end: dict) -> list:
        begin = start.get("shards", {})
        parts = []
        for shard, end_pos in sorted(end.get("shards", {}).items()):
            start_pos = begin.get(shard, "trim")
            if start_pos == end_pos:
                continue
            end_seq = seq_of(end_pos)
            parts.append(KinesisPartition(shard, start_pos, end_seq, self._buffered(shard, start_pos, end_seq)))
        return parts

    def _buffered(self, shard: str, start_pos: str, end_seq: int) -> Any:
        """The buffered records for (start_pos, end_seq] as one batch, or None when the buffer does not cover them."""
        buf = self._buffers.get(shard)
        if buf is None:
            return None
        end = buf.index_of(end_seq)
        if end is None:
            return None
        if buf.base == start_pos:
            return buf.rows(0, end + 1)
        begin = buf.index_of(seq_of(start_pos))
        return None if begin is None else buf.rows(begin + 1, end + 1)

    def commit(self, end: dict) -> None:
        for shard, pos in end.get("shards", {}).items():
            buf, seq = self._buffers.get(shard), seq_of(pos)
            if buf is not None and buf.index_of(seq) is not None:
                buf.drop_through(seq)

    # --- executor side ------------------------------------------------------------------------
    def read(self, partition: KinesisPartition) -> Iterator[Any]:
        if partition.batch is not None:
            yield user_records(partition.batch)
            return
        yield from read_range(worker_client(self.options), self.stream, partition.shard, partition.start, partition.end_seq)


def read_range(client, stream: str, shard: str, start: str, end_seq: int) -> Iterator[Any]:
    """Record batches of one shard after `start` through sequence `end_seq`, straight from Kinesis,
    aggregates split into their user records."""
    it = client.get_shard_iterator(StreamName=stream, ShardId=shard, **iterator_args(start))["ShardIterator"]
    empty_caught_up = 0
    while it:
        page = get_page(client, stream, shard, it)
        if page.seqs:
            end = bisect.bisect_right(page.seqs, end_seq)
            if end:
                yield user_records(page.batch.slice(0, end))
            if end < len(page.seqs) or page.seqs[-1] == end_seq:
                return
        elif page.caught_up:
            empty_caught_up += 1
            if empty_caught_up > 3:  # the range's end is gone (expired past retention): stop
                return
            time.sleep(0.2)
        it = page.next_iterator


def allocate(available: dict[str, int], max_rows: Optional[int]) -> dict[str, int]:
    """Split a batch's row limit across shards fairly: small shards take all, big ones share the rest."""
    if max_rows is None or sum(available.values()) <= max_rows:
        return dict(available)
    take = {sid: 0 for sid in available}
    left = max_rows
    pending = sorted((n, sid) for sid, n in available.items() if n)
    while pending and left > 0:
        share = max(1, left // len(pending))
        n, sid = pending.pop(0)
        got = min(n, share, left)
        take[sid] = got
        left -= got
    return take


class KinesisDataSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self) -> str:
        return SCHEMA

    def streamReader(self, schema) -> KinesisStreamReader:
        return KinesisStreamReader(self.options)
