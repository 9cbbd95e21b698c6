"""Followers: the payloads of a Kinesis stream (every shard) or a Kafka topic (every partition), live.

A follower is opened (checks the stream/topic exists: fails in the first second, not later), then
`poll()` returns the next payloads (bytes; possibly none) and `caught_up` says whether every shard or
partition has been read to its current end, which is where `--once` stops.

Kinesis: shards are listed at the start and again every `relist_s` seconds and whenever a shard
closes, so a reshard's children are found; a child is read only once its parent(s) are read to the
end (the order of a partition key survives the reshard). `latest` starts the shards open at the
start at their tip; a shard found later is read from its oldest record. An iterator that expired
(idle for 5 minutes) is renewed after the last record read; a read refused for throughput is tried
again on the next poll. GetRecords is called at most once per
shard per poll; when every shard is caught up the run calls `idle()`, which sleeps `idle_s` (AWS
allows 5 calls/s per shard). A shard is read to its end when GetRecords gives no next iterator, or
when it is listed as closed and a read found nothing more (the emulator never ends an iterator).

Kafka: a group-less consumer assigned every partition (nothing is committed; each run starts where
`--from` says), re-checking the partition list every `relist_s`. Kafka's end offsets are not
trusted (the local broker under-reports them): `caught_up` needs the reported ends reached and one
poll that returned nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from streamlab.errors import ConfigError

STARTS = ("latest", "trim-horizon")
#: GetRecords' own maximum
PAGE_LIMIT = 10_000


def check_start(start: str) -> str:
    if start not in STARTS:
        raise ConfigError(f"unknown start position {start!r}", "use --from latest or --from trim-horizon")
    return start


@dataclass
class _Shard:
    id: str
    parents: tuple[str, ...]
    iterator: Optional[str] = None
    kind: str = "TRIM_HORIZON"
    last_seq: Optional[str] = None
    closed: bool = False  # listed with an EndingSequenceNumber: no record will ever be added
    done: bool = False  # closed and read to its end (or skipped: closed before a `latest` start)
    caught_up: bool = False


class KinesisFollower:
    def __init__(self, aws, stream: str, start: str = "latest", *, idle_s: float = 1.0, relist_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.aws, self.stream, self.start = aws, stream, check_start(start)
        self.idle_s, self.relist_s, self.clock, self.sleep = idle_s, relist_s, clock, sleep
        self.shards: dict[str, _Shard] = {}
        self._listed_at = 0.0
        self._relist = False
        self._client: Any = None
        self.throttled = 0  # GetRecords calls refused for throughput, after botocore's own retries

    def describe(self) -> str:
        return f"Kinesis stream {self.stream} ({len(self.shards)} shards)"

    def open(self) -> "KinesisFollower":
        from streamlab.aws.kinesis import require_stream

        require_stream(self.aws, self.stream)
        self._client = self.aws.client("kinesis")
        self._list(first=True)
        # `latest` means from now: take the iterators here, not at the first poll, or records put
        # between "following ..." and that poll would be skipped
        for shard in self.shards.values():
            if self._ready(shard):
                shard.iterator = self._iterator(shard)
        return self

    def _list(self, first: bool = False) -> None:
        listed, token = [], None
        while True:
            kw = {"NextToken": token} if token else {"StreamName": self.stream}
            resp = self._client.list_shards(**kw)
            listed += resp["Shards"]
            token = resp.get("NextToken")
            if not token:
                break
        for s in listed:
            known = self.shards.get(s["ShardId"])
            if known is not None:
                known.closed = known.closed or "EndingSequenceNumber" in s.get("SequenceNumberRange", {})
                continue
            parents = tuple(p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p)
            closed = "EndingSequenceNumber" in s.get("SequenceNumberRange", {})
            shard = self.shards[s["ShardId"]] = _Shard(s["ShardId"], parents, closed=closed)
            if first and self.start == "latest":
                shard.done, shard.kind = closed, "LATEST"
        self._listed_at, self._relist = self.clock(), False

    def _ready(self, shard: _Shard) -> bool:
        return not shard.done and all(p not in self.shards or self.shards[p].done for p in shard.parents)

    @property
    def caught_up(self) -> bool:
        return not self._relist and all(s.done or s.caught_up for s in self.shards.values())

    def poll(self) -> list[bytes]:
        if self._relist or self.clock() - self._listed_at >= self.relist_s:
            self._list()
        out: list[bytes] = []
        for shard in list(self.shards.values()):
            if self._ready(shard):
                out += self._read(shard)
        return out

    def idle(self) -> None:
        """Nothing new anywhere: wait before the next poll (GetRecords allows 5 calls/s per shard)."""
        self.sleep(self.idle_s)

    def _iterator(self, shard: _Shard) -> str:
        kw: dict[str, Any] = {"ShardIteratorType": shard.kind}
        if shard.last_seq is not None:
            kw = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": shard.last_seq}
        return self._client.get_shard_iterator(StreamName=self.stream, ShardId=shard.id, **kw)["ShardIterator"]

    def _read(self, shard: _Shard) -> list[bytes]:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        errors = self._client.exceptions
        try:
            resp = self._client.get_records(ShardIterator=shard.iterator, Limit=PAGE_LIMIT)
        except errors.ExpiredIteratorException:
            shard.iterator = self._iterator(shard)
            resp = self._client.get_records(ShardIterator=shard.iterator, Limit=PAGE_LIMIT)
        except errors.ProvisionedThroughputExceededException:  # botocore's retries ran out: next poll
            self.throttled += 1
            shard.caught_up = False
            return []
        records = resp["Records"]
        if records:
            shard.last_seq = records[-1]["SequenceNumber"]
        shard.iterator = resp.get("NextShardIterator")
        shard.caught_up = resp.get("MillisBehindLatest", 0) == 0 and len(records) < PAGE_LIMIT
        # closed and read to its end: its children may start. AWS says so with no next iterator; the
        # emulator keeps handing out iterators, so a closed shard that has nothing more is done too
        if shard.iterator is None or (shard.closed and shard.caught_up and not records):
            shard.done, self._relist = True, True
        return [r["Data"] for r in records]

    def close(self) -> None:
        self._client = None


class KafkaFollower:
    def __init__(self, security, topic: str, start: str = "latest", *, idle_s: float = 0.5, relist_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.sec, self.topic, self.start = security, topic, check_start(start)
        self.idle_s, self.relist_s, self.clock = idle_s, relist_s, clock
        self.consumer: Any = None
        self.partitions: list[Any] = []
        self._listed_at = 0.0
        self._empty_poll = False

    def describe(self) -> str:
        return f"Kafka topic {self.topic} ({len(self.partitions)} partitions)"

    def open(self) -> "KafkaFollower":
        from kafka import KafkaConsumer

        from streamlab.errors import ResourceNotFound
        from streamlab.kafka.diagnose import KafkaLogCapture, connect, preflight
        from streamlab.kafka.settings import client_kwargs

        preflight(self.sec)
        kw = client_kwargs(self.sec)
        kw.update(enable_auto_commit=False, group_id=None, auto_offset_reset="earliest", fetch_max_wait_ms=100,
                  max_poll_records=5000, metrics_enabled=False)
        with KafkaLogCapture() as logs:
            self.consumer = connect(lambda: KafkaConsumer(**kw), self.sec, logs)
        if not self.consumer.partitions_for_topic(self.topic):
            self.close()
            raise ResourceNotFound(f"Kafka topic {self.topic} does not exist at {self.sec.describe()}",
                                   f"create it, e.g. `streamlab produce ... --sink kafka --topic {self.topic} --create-topic`")
        self._assign(first=True)
        return self

    def _assign(self, first: bool = False) -> None:
        from kafka import TopicPartition

        ids = sorted(self.consumer.partitions_for_topic(self.topic) or ())
        new = [TopicPartition(self.topic, p) for p in ids if TopicPartition(self.topic, p) not in self.partitions]
        if new:
            self.partitions += new
            self.consumer.assign(self.partitions)
            if first and self.start == "latest":
                self.consumer.seek_to_end(*new)
                for tp in new:  # resolve the end now (kafka-python would at the first poll): `latest` is from now
                    self.consumer.position(tp)
            else:
                self.consumer.seek_to_beginning(*new)
        self._listed_at = self.clock()

    @property
    def caught_up(self) -> bool:
        if not self._empty_poll:
            return False
        ends = self.consumer.end_offsets(self.partitions)
        return all(self.consumer.position(tp) >= ends.get(tp, 0) for tp in self.partitions)

    def poll(self) -> list[bytes]:
        if self.clock() - self._listed_at >= self.relist_s:
            self._assign()
        got = self.consumer.poll(timeout_ms=int(self.idle_s * 1000))
        out = [r.value for records in got.values() for r in records]
        self._empty_poll = not out
        return out

    def idle(self) -> None:
        """The poll itself waited up to `idle_s` for records."""

    def close(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
