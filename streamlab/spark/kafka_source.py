"""streamlab's own Kafka source for Spark Structured Streaming (a `pyspark.sql.datasource` source).

Used where Spark's JVM `kafka` connector is absent (laptops offline, CI, the pyspark wheel, which
ships no Kafka jar). Format name `streamlab-kafka`; built on kafka-python. Options: `topic`
(required, one topic), `bootstrapServers` (required), `startingOffsets` (`earliest` | `latest`),
`maxOffsetsPerTrigger`, and the security settings `securityProtocol`, `saslMechanism`,
`username`, `password`, `caFile` (Spark redacts option names containing "password" in plans/logs).

Rows: exactly the columns of Spark's own `kafka` source: `key` and `value` (binary), `topic`,
`partition` (int), `offset` (long), `timestamp`, `timestampType` (int: 0 CreateTime, 1 LogAppendTime).

Offsets: `{"<topic>": {"<partition>": next offset to read}}`, the form Spark's source uses. One
input partition per topic partition with new records; each executor task assigns its partition,
seeks to the start offset and reads up to (not including) the end offset, so a batch replayed
from the checkpoint after a crash reads exactly the same records. No consumer group is joined and
nothing is committed to Kafka: the checkpoint is the only record of progress.

The end of a partition is learned by fetching, not from ListOffsets: the local tansu broker
under-reports `end_offsets` after batched sends (a batch counts as one), while the high watermark
in a fetch response is right. `true_ends` fetches from just before the reported end and takes the
high watermark (or the last offset seen + 1, whichever is larger); a real broker costs one short
fetch per partition per batch.

Trigger.AvailableNow (Spark >= 4.2): `prepareForTriggerAvailableNow` pins the ends found then;
records produced afterwards are left for the next run (never lost). New partitions of the topic
are picked up on every batch and read from their beginning.

Consumers are made lazily (driver: one probe consumer; executors: one per Python worker and
topic partition, reused across tasks) and are never pickled. Executor consumers hand over whole
record batches column-wise (`kafka_chunks`): kafka-python's per-record objects were the reader's
bottleneck.
"""

from __future__ import annotations

import bisect
import functools
import time
from typing import Any, Iterator, Optional

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.types import BinaryType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

try:  # Spark >= 4.2
    from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadMaxRows, SupportsTriggerAvailableNow

    HAS_AVAILABLE_NOW = True
except ImportError:  # pragma: no cover - Spark 4.0/4.1: no AvailableNow for Python sources
    HAS_AVAILABLE_NOW = False
    ReadAllAvailable = ReadMaxRows = None  # type: ignore[assignment,misc]

    class SupportsTriggerAvailableNow:  # type: ignore[no-redef]
        pass


FORMAT = "streamlab-kafka"
SCHEMA = StructType(
    [
        StructField("key", BinaryType()),
        StructField("value", BinaryType()),
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("offset", LongType()),
        StructField("timestamp", TimestampType()),
        StructField("timestampType", IntegerType()),
    ]
)
#: rows per Arrow batch handed to Spark by a task
ARROW_CHUNK = 10_000
#: a task that sees no progress for this long gives up (the range is gone: retention, a deleted topic)
STALL_SECONDS = 30.0


def security_from_options(options: dict):
    """The `KafkaSecurity` the (lower-cased) reader options describe."""
    from pydantic import SecretStr

    from streamlab.kafka.settings import KafkaSecurity

    password = options.get("password")
    return KafkaSecurity(
        bootstrap=options.get("bootstrapservers") or "",
        protocol=(options.get("securityprotocol") or "PLAINTEXT").upper(),
        mechanism=options.get("saslmechanism") or None,
        username=options.get("username") or None,
        password=SecretStr(password) if password else None,
        ca_file=options.get("cafile") or None,
    )


def make_consumer(options: dict, **extra):
    """A group-less kafka-python consumer (assign/seek only; nothing committed)."""
    from kafka import KafkaConsumer

    from streamlab.kafka.settings import client_kwargs

    kw = client_kwargs(security_from_options(options))
    kw.update(
        enable_auto_commit=False,
        group_id=None,
        # read_committed: kafka-python skips aborted transactions (the fetch response's aborted list
        # and the control batches) and never reads past the last stable offset
        isolation_level=isolation_level(options),
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        max_poll_records=ARROW_CHUNK,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        metrics_enabled=False,
    )
    kw.update(extra)
    return KafkaConsumer(**kw)


ISOLATION_LEVELS = ("read_uncommitted", "read_committed")


def isolation_level(options: dict) -> str:
    level = (options.get("isolationlevel") or "read_uncommitted").strip().lower()
    if level not in ISOLATION_LEVELS:
        raise ValueError(f"isolationLevel must be read_committed or read_uncommitted, not {level!r}")
    return level


_worker_consumers: dict[tuple, Any] = {}


def worker_consumer(options: dict):
    """One consumer per executor Python worker and connection (workers are reused across tasks),
    returning record batches column-wise (`kafka_chunks`) where this kafka-python allows it."""
    from streamlab.spark import kafka_chunks

    key = tuple(options.get(k) for k in ("bootstrapservers", "securityprotocol", "username", "cafile", "isolationlevel"))
    consumer = _worker_consumers.get(key)
    if consumer is None:
        consumer = _worker_consumers[key] = make_consumer(options)
        kafka_chunks.install(consumer)
    return consumer


class KafkaPartition(InputPartition):
    """One topic partition's slice of a batch: offsets [start, end)."""

    def __init__(self, topic: str, partition: int, start: int, end: int):
        super().__init__(partition)
        self.topic, self.partition, self.start, self.end = topic, partition, start, end


def allocate(available: dict[Any, int], max_rows: Optional[int]) -> dict[Any, int]:
    """Split a batch's row limit across partitions fairly: small ones take all, big ones share the rest."""
    if max_rows is None or sum(available.values()) <= max_rows:
        return dict(available)
    take = {k: 0 for k in available}
    left = max_rows
    pending = sorted(((n, k) for k, n in available.items() if n), key=lambda t: t[0])
    while pending and left > 0:
        share = max(1, left // len(pending))
        n, k = pending.pop(0)
        got = min(n, share, left)
        take[k] = got
        left -= got
    return take


class KafkaStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    def __init__(self, options):
        self.options = {str(k).lower(): v for k, v in options.items()}
        self.topic = self.options.get("topic") or self.options.get("subscribe")
        if not self.topic:
            raise ValueError("the streamlab-kafka source needs the option topic")
        if not self.options.get("bootstrapservers"):
            raise ValueError("the streamlab-kafka source needs the option bootstrapServers")
        isolation_level(self.options)  # a bad value fails here, on the driver
        self.starting = (self.options.get("startingoffsets") or "earliest").strip().lower()
        if self.starting not in ("earliest", "latest"):
            raise ValueError(f"startingOffsets must be earliest or latest, not {self.starting!r}")
        limit = self.options.get("maxoffsetspertrigger")
        self.max_rows = int(limit) if limit else None
        self.pinned: Optional[dict[int, int]] = None  # AvailableNow: ends fixed at the start
        self._consumer = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_consumer"] = None
        return state

    @property
    def consumer(self):
        if self._consumer is None:
            self._consumer = make_consumer(self.options)
        return self._consumer

    # --- driver side ------------------------------------------------------------------------
    def partition_ids(self) -> list[int]:
        deadline = time.monotonic() + 10
        while True:
            ids = self.consumer.partitions_for_topic(self.topic)
            if ids:
                return sorted(ids)
            if time.monotonic() > deadline:
                raise ValueError(f"Kafka topic {self.topic} does not exist (or has no partitions)")
            self.consumer.topics()  # refresh metadata
            time.sleep(0.2)

    def true_ends(self, parts: list[int]) -> dict[int, int]:
        """Each partition's end (next offset to be written), confirmed by a fetch (see module doc)."""
        from kafka import TopicPartition

        c = self.consumer
        tps = [TopicPartition(self.topic, p) for p in parts]
        begins, reported = c.beginning_offsets(tps), c.end_offsets(tps)
        ends = {tp.partition: reported[tp] for tp in tps}
        probe = [tp for tp in tps if reported[tp] >= begins[tp]]
        c.assign(probe)
        for tp in probe:
            c.seek(tp, max(reported[tp] - 1, begins[tp]))
        pending = set(probe)
        deadline = time.monotonic() + 5.0
        while pending and time.monotonic() < deadline:
            got = c.poll(timeout_ms=100)
            for tp in list(pending):
                hw = c.highwater(tp)
                last = got.get(tp)
                if last:
                    ends[tp.partition] = max(ends[tp.partition], last[-1].offset + 1)
                if hw is not None:
                    ends[tp.partition] = max(ends[tp.partition], hw)
                    pending.discard(tp)
        return ends

    def initialOffset(self) -> dict:
        from kafka import TopicPartition

        parts = self.partition_ids()
        if self.starting == "latest":
            ends = self.true_ends(parts)
        else:
            tps = [TopicPartition(self.topic, p) for p in parts]
            ends = {tp.partition: o for tp, o in self.consumer.beginning_offsets(tps).items()}
        return {self.topic: {str(p): int(ends[p]) for p in parts}}

    def getDefaultReadLimit(self):
        if not HAS_AVAILABLE_NOW:
            return None
        return ReadMaxRows(self.max_rows) if self.max_rows else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        self.pinned = self.true_ends(self.partition_ids())

    def latestOffset(self, start: Optional[dict] = None, limit=None) -> dict:
        if start is None:  # Spark < 4.2 calls latestOffset() without arguments
            start = getattr(self, "_last_end", None) or self.initialOffset()
            max_rows = self.max_rows
        else:
            max_rows = getattr(limit, "max_rows", None) if limit is not None else self.max_rows
        begin = {int(p): int(o) for p, o in start.get(self.topic, {}).items()}
        parts = self.partition_ids()
        ends = self.true_ends(parts) if self.pinned is None else dict(self.pinned)
        for p in parts:
            if p not in ends:  # a partition added after AvailableNow pinned its ends: next run
                ends[p] = begin.get(p, 0)
            if p not in begin:  # a partition added since the last batch: read it from its start
                from kafka import TopicPartition

                tp = TopicPartition(self.topic, p)
                begin[p] = self.consumer.beginning_offsets([tp])[tp]
        take = allocate({p: max(0, ends[p] - begin[p]) for p in parts}, max_rows)
        end = {self.topic: {str(p): begin[p] + take[p] for p in parts}}
        self._last_end = end
        return end

    def partitions(self, start: dict, end: dict) -> list:
        begin = start.get(self.topic, {})
        out = []
        for p, stop in sorted(end.get(self.topic, {}).items(), key=lambda kv: int(kv[0])):
            first = int(begin.get(p, 0))
            if int(stop) > first:
                out.append(KafkaPartition(self.topic, int(p), first, int(stop)))
        return out

    def commit(self, end: dict) -> None:
        pass  # progress lives in Spark's checkpoint; nothing is committed to Kafka

    def stop(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            except Exception:
                pass
            self._consumer = None

    # --- executor side ------------------------------------------------------------------------
    def read(self, partition: KafkaPartition) -> Iterator[Any]:
        yield from read_range(worker_consumer(self.options), partition.topic, partition.partition, partition.start, partition.end)


def read_range(consumer, topic: str, partition: int, start: int, end: int) -> Iterator[Any]:
    """Arrow batches of the records at offsets [start, end) of one partition."""
    from kafka import TopicPartition
    from kafka.errors import KafkaError

    from streamlab.spark.kafka_chunks import Chunk, chunks_of

    tp = TopicPartition(topic, partition)
    # Learn the partition's leader now (one metadata round trip, or none when known): a consumer
    # assigned to a topic it has no metadata for waits its retry backoff (100 ms) before fetching.
    # Only a shortcut: a broker problem is reported by the loop below, with its stall message.
    try:
        consumer.partitions_for_topic(topic)
    except KafkaError:
        pass
    consumer.assign([tp])
    consumer.seek(tp, start)
    cols = Chunk([], [], [], [], 0)
    types: list = []  # timestampType per record (constant within a record batch)
    last_progress = time.monotonic()
    while True:
        got = list(chunks_of(consumer.poll(timeout_ms=200).get(tp, [])))
        for chunk in got:
            offs = chunk.offsets
            lo, hi = bisect.bisect_left(offs, start), bisect.bisect_left(offs, end)
            if lo >= hi:
                continue
            cols.offsets += offs[lo:hi]
            cols.timestamps += chunk.timestamps[lo:hi]
            cols.keys += chunk.keys[lo:hi]
            cols.values += chunk.values[lo:hi]
            types += [chunk.timestamp_type] * (hi - lo)
            if len(cols) >= ARROW_CHUNK:
                yield to_arrow(topic, partition, cols, types)
                cols, types = Chunk([], [], [], [], 0), []
        position = consumer.position(tp)
        if position >= end or (got and got[-1].offsets[-1] >= end - 1):
            break
        if got:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > STALL_SECONDS:
            raise RuntimeError(f"Kafka {topic}[{partition}]: offsets {position}..{end} did not arrive within {STALL_SECONDS:.0f}s")
    if len(cols):
        yield to_arrow(topic, partition, cols, types)


@functools.lru_cache(maxsize=1)
def arrow_schema() -> Any:
    """SCHEMA in the Arrow form Spark checks a returned batch against."""
    from streamlab.spark.arrow import arrow_schema_of

    return arrow_schema_of(SCHEMA)


def to_arrow(topic: str, partition: int, cols, types: list) -> Any:
    """One partition's records (a Chunk's columns + each record's timestampType) -> one pyarrow
    RecordBatch in SCHEMA's Arrow form (timestamps from epoch ms)."""
    import pyarrow as pa

    schema = arrow_schema()
    n = len(cols.offsets)
    ts_arr = pa.array(cols.timestamps, type=pa.int64()).cast(pa.timestamp("ms")).cast(schema.field("timestamp").type)
    arrays = [
        pa.array(cols.keys, type=pa.binary()),
        pa.array(cols.values, type=pa.binary()),
        pa.array([topic] * n, type=pa.string()),
        pa.array([partition] * n, type=pa.int32()),
        pa.array(cols.offsets, type=pa.int64()),
        ts_arr,
        pa.array(types, type=pa.int32()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class KafkaDataSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self):
        return SCHEMA

    def streamReader(self, schema) -> KafkaStreamReader:
        return KafkaStreamReader(self.options)
