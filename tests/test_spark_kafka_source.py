"""streamlab's Python Kafka reader, driven without a JVM against the tansu broker.

What Spark would call, in order: initialOffset -> latestOffset(start, limit) -> partitions -> read
(on an executor: here, in this process) -> commit. Records go in with kafka-python in batches, so
tansu's under-reported end offsets are in play: the reader must find the true end by fetching.
"""

from __future__ import annotations

import pickle

import pytest
from kafka import KafkaProducer

from streamlab.spark.kafka_source import KafkaStreamReader, allocate

pytestmark = pytest.mark.spark


def produce(bootstrap: str, topic: str, n: int, start: int = 0, partitions: int = 2) -> None:
    p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 * 1024)
    for i in range(start, start + n):
        p.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % partitions)
    p.flush()
    p.close()


def reader(bootstrap: str, topic: str, **opts) -> KafkaStreamReader:
    return KafkaStreamReader({"topic": topic, "bootstrapServers": bootstrap, **opts})


def read_all(r: KafkaStreamReader, start: dict, end: dict) -> list[str]:
    """What the executors would return for (start, end], via a pickled copy like Spark ships."""
    worker = pickle.loads(pickle.dumps(r))
    values = []
    for part in r.partitions(start, end):
        for batch in worker.read(pickle.loads(pickle.dumps(part))):
            values += [v.decode() for v in batch.column("value").to_pylist()]
    return values


class Limit:  # what Spark passes as ReadMaxRows
    def __init__(self, n):
        self.max_rows = n


def test_batches_cover_every_record_once_across_partitions(kafka_broker, kafka_topic):
    produce(kafka_broker.bootstrap, kafka_topic, 3000)
    r = reader(kafka_broker.bootstrap, kafka_topic)
    start = r.initialOffset()
    assert start == {kafka_topic: {"0": 0, "1": 0}}
    end = r.latestOffset(start, None)
    assert end == {kafka_topic: {"0": 1500, "1": 1500}}  # the true end, not tansu's ListOffsets answer
    got = read_all(r, start, end)
    assert sorted(got) == sorted(f"v{i}" for i in range(3000))
    r.commit(end)
    # nothing new: the next batch is empty; new records: exactly those
    assert r.latestOffset(end, None) == end
    produce(kafka_broker.bootstrap, kafka_topic, 10, start=3000)
    end2 = r.latestOffset(end, None)
    assert sorted(read_all(r, end, end2)) == sorted(f"v{i}" for i in range(3000, 3010))
    r.stop()


def test_limit_splits_across_partitions_and_rows_have_kafka_schema(kafka_broker, kafka_topic):
    produce(kafka_broker.bootstrap, kafka_topic, 100)
    r = reader(kafka_broker.bootstrap, kafka_topic, maxOffsetsPerTrigger="30")
    start = r.initialOffset()
    end = r.latestOffset(start, Limit(30))
    assert end == {kafka_topic: {"0": 15, "1": 15}}
    worker = pickle.loads(pickle.dumps(r))
    batch = next(worker.read(r.partitions(start, end)[0]))
    assert batch.schema.names == ["key", "value", "topic", "partition", "offset", "timestamp", "timestampType"]
    row = batch.to_pylist()[0]
    assert (row["key"], row["value"], row["topic"], row["partition"], row["offset"], row["timestampType"]) == (
        b"k0", b"v0", kafka_topic, 0, 0, 0)
    assert row["timestamp"].year >= 2024
    r.stop()


def test_latest_starts_after_what_is_there_and_available_now_pins_the_end(kafka_broker, kafka_topic):
    produce(kafka_broker.bootstrap, kafka_topic, 50)
    r = reader(kafka_broker.bootstrap, kafka_topic, startingOffsets="latest")
    start = r.initialOffset()
    assert start == {kafka_topic: {"0": 25, "1": 25}}
    r.prepareForTriggerAvailableNow()
    produce(kafka_broker.bootstrap, kafka_topic, 20, start=50)  # after the pin: left for the next run
    assert r.latestOffset(start, None) == start
    r.stop()


def test_missing_topic_says_so(kafka_broker):
    r = reader(kafka_broker.bootstrap, "no-such-topic-xyz")
    with pytest.raises(ValueError, match="does not exist"):
        r.partition_ids()
    r.stop()


def test_allocate_is_fair_and_exact():
    assert allocate({0: 100, 1: 5}, 30) == {0: 25, 1: 5}
    assert allocate({0: 10, 1: 10}, None) == {0: 10, 1: 10}
    assert sum(allocate({0: 7, 1: 9, 2: 11}, 20).values()) == 20


def test_arrow_schema_is_what_spark_checks_returned_batches_against():
    from pyspark.sql.pandas.types import to_arrow_schema

    from streamlab.spark.kafka_source import SCHEMA, arrow_schema

    assert arrow_schema() == to_arrow_schema(SCHEMA, timezone="UTC")


def test_record_checksums_are_checked_in_c():
    """kafka-python verifies each batch's CRC-32C; the pure-Python fallback took ~60% of a read."""
    from kafka.record import util

    assert util.crc32c_c is not None and util._crc32c is util.crc32c_c


def test_a_broker_gone_mid_query_ends_the_read_with_the_stall_message(monkeypatch):
    from streamlab.local import kafka as local_broker
    from streamlab.spark import kafka_source

    monkeypatch.setattr(kafka_source, "STALL_SECONDS", 1.0)
    with local_broker.start() as broker:  # a broker of its own, stopped before the read
        consumer = kafka_source.make_consumer({"bootstrapservers": broker.bootstrap})
        assert consumer.partitions_for_topic("warm-up") is not None
    with pytest.raises(RuntimeError, match=r"Kafka gone\[0\]: offsets 0\.\.10 did not arrive within 1s"):
        list(kafka_source.read_range(consumer, "gone", 0, 0, 10))
    consumer.close()
