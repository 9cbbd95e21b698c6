"""Read up to N records from every shard of a Kinesis stream or every partition of a Kafka topic.

No Spark, nothing committed, nothing written. A read stops at `count` records, or once every shard
(partition) is caught up and no new record arrived for `wait` seconds: `--from latest` waits for
new records that long, a stream read from the start ends soon after its last record. Shards are
read round robin, each asked for its share of what is still missing, so a sample of a busy shard
and a quiet one holds both. `start` is "trim-horizon", "latest" or epoch milliseconds.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Iterator, Union

from streamlab.errors import ResourceNotFound

Start = Union[str, int]
#: pause between rounds once every shard is caught up (Kinesis allows 5 GetRecords/s per shard)
IDLE_PAUSE_S = 0.25
#: a Kafka read with no record for this long ends even if a partition's end was never reported
STALL_S = 30.0


class Idle:
    """When to stop waiting: caught up everywhere and nothing new for `wait` seconds."""

    def __init__(self, wait: float, clock: Callable[[], float] = time.monotonic):
        self.wait, self.clock = wait, clock
        self.last = clock()

    def progressed(self) -> None:
        self.last = self.clock()

    def over(self, seconds: float | None = None) -> bool:
        return self.clock() - self.last >= max(self.wait, seconds or 0)


def _iterator(client, stream: str, shard: str, start: Start) -> str:
    kw: dict = {"StreamName": stream, "ShardId": shard}
    if start == "trim-horizon":
        kw["ShardIteratorType"] = "TRIM_HORIZON"
    elif start == "latest":
        kw["ShardIteratorType"] = "LATEST"
    else:
        kw.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=int(start) / 1000)
    return client.get_shard_iterator(**kw)["ShardIterator"]


def _shards(client, stream: str) -> list[str]:
    out, kw = [], {"StreamName": stream}
    while True:
        resp = client.list_shards(**kw)
        out += [s["ShardId"] for s in resp["Shards"]]
        if not resp.get("NextToken"):
            return out
        kw = {"NextToken": resp["NextToken"]}


def read_kinesis(aws, stream: str, count: int, start: Start = "trim-horizon", wait: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> Iterator[bytes]:
    """The data of up to `count` records of `stream` (every shard), as bytes."""
    from streamlab.aws.kinesis import require_stream

    require_stream(aws, stream)  # a missing stream is one line, before any shard is touched
    client = aws.client("kinesis")
    iterators = {s: _iterator(client, stream, s, start) for s in _shards(client, stream)}
    got, idle = 0, Idle(wait)
    while iterators and got < count:
        caught_up = True
        for shard in list(iterators):
            share = min(10_000, max(1, math.ceil((count - got) / len(iterators))))
            resp = client.get_records(ShardIterator=iterators[shard], Limit=share)
            for r in resp["Records"]:
                yield r["Data"]
                got += 1
            if resp["Records"] or resp.get("MillisBehindLatest", 0) > 0:
                caught_up = False
            if resp.get("NextShardIterator"):
                iterators[shard] = resp["NextShardIterator"]
            else:  # a closed shard (after a reshard), read to its end
                del iterators[shard]
            if got >= count:
                return
        if not caught_up:
            idle.progressed()
        elif idle.over():
            return
        else:
            sleep(IDLE_PAUSE_S)


def read_kafka(sec, topic: str, count: int, start: Start = "trim-horizon", wait: float = 5.0) -> Iterator[bytes]:
    """The values of up to `count` records of `topic` (every partition), as bytes. Group-less:
    nothing is committed, no consumer group is joined."""
    from kafka import KafkaConsumer

    from streamlab.kafka.diagnose import KafkaLogCapture, connect, preflight
    from streamlab.kafka.settings import client_kwargs

    preflight(sec)
    with KafkaLogCapture() as logs:
        kw = dict(client_kwargs(sec), enable_auto_commit=False, group_id=None, auto_offset_reset="earliest",
                  fetch_max_wait_ms=100, metrics_enabled=False)
        consumer = connect(lambda: KafkaConsumer(**kw), sec, logs)
        try:
            yield from _read_partitions(consumer, sec, topic, count, start, wait)
        finally:
            consumer.close(autocommit=False)


def _read_partitions(consumer, sec, topic: str, count: int, start: Start, wait: float) -> Iterator[bytes]:
    from kafka import TopicPartition

    if topic not in consumer.topics():
        raise ResourceNotFound(f"Kafka topic {topic} does not exist at {sec.describe()}",
                               "check the name (--topic), or produce to it first with `streamlab produce ... --sink kafka --topic NAME --create-topic`")
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    if start == "trim-horizon":
        consumer.seek_to_beginning(*tps)
    elif start == "latest":
        consumer.seek_to_end(*tps)
    else:
        found = consumer.offsets_for_times({tp: int(start) for tp in tps})
        ends = consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, found[tp].offset if found.get(tp) is not None else ends[tp])
    got, idle = 0, Idle(wait)
    while got < count:
        batches = consumer.poll(timeout_ms=200, max_records=count - got)
        for records in batches.values():
            for r in records:
                yield r.value
                got += 1
        if batches:
            idle.progressed()
        elif idle.over() and (_caught_up(consumer, tps) or idle.over(STALL_S)):
            return


def _caught_up(consumer, tps) -> bool:
    """Every partition's position at its high-water mark, as the last fetch reported it (unknown
    until a partition was fetched once: not caught up)."""
    for tp in tps:
        hw = consumer.highwater(tp)
        if hw is None or consumer.position(tp) < hw:
            return False
    return True
