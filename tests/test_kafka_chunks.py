"""The Kafka reader's column-wise record-batch decoding (`streamlab.spark.kafka_chunks`).

It must give exactly what kafka-python's own record decoding gives, for every record batch
kafka-python can build (keys and values absent, empty or long enough for multi-byte lengths,
headers, gzip), and on a real broker the reader must read the same rows either way.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka import KafkaProducer
from kafka.record.memory_records import MemoryRecords, MemoryRecordsBuilder

from streamlab.spark import kafka_chunks
from streamlab.spark.kafka_source import make_consumer, read_range, worker_consumer

pytestmark = pytest.mark.spark

# lengths from 64 on take two varint bytes, from 8,192 three
maybe_bytes = st.none() | st.binary(max_size=20) | st.binary(min_size=60, max_size=400) | st.binary(min_size=8_190, max_size=8_200)
record = st.tuples(
    st.integers(min_value=0, max_value=2**41),  # timestamp, ms
    maybe_bytes,  # key
    maybe_bytes,  # value
    st.lists(st.tuples(st.text(max_size=5), st.none() | st.binary(max_size=5)), max_size=2),  # headers
)


def build_batch(records, compression: int, base_offset: int) -> bytes:
    builder = MemoryRecordsBuilder(magic=2, compression_type=compression, batch_size=1 << 24, offset=base_offset)
    for ts, key, value, headers in records:
        builder.append(timestamp=ts, key=key, value=value, headers=headers)
    builder.close()
    return builder.buffer()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(st.lists(record, min_size=1, max_size=40), st.sampled_from([0, 1]), st.integers(0, 10**6), st.integers(0, 45))
def test_decoding_matches_kafka_python(records, compression, base_offset, skip):
    raw = build_batch(records, compression, base_offset)
    expected = [(r.offset, r.timestamp, r.key, r.value) for r in MemoryRecords(raw).next_batch()
                if r.offset >= base_offset + skip]
    batch = MemoryRecords(raw).next_batch()
    chunk = kafka_chunks.decode_batch(batch, min_offset=base_offset + skip)
    assert list(zip(chunk.offsets, chunk.timestamps, chunk.keys, chunk.values)) == expected
    assert chunk.timestamp_type == 0


def test_long_records_use_multi_byte_lengths():
    big = [(1_700_000_000_000 + i, b"k" * 200, bytes([i % 256]) * (20_000 + i), []) for i in range(3)]
    chunk = kafka_chunks.decode_batch(MemoryRecords(build_batch(big, 0, 5)).next_batch())
    assert chunk.offsets == [5, 6, 7]
    assert [len(v) for v in chunk.values] == [20_000, 20_001, 20_002]
    assert chunk.keys == [b"k" * 200] * 3


def test_the_reader_reads_the_same_rows_with_and_without_the_fast_path(kafka_broker, kafka_topic):
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, linger_ms=20, compression_type="gzip")
    for i in range(2500):
        producer.send(kafka_topic, key=None if i % 3 else f"k{i}".encode(), value=f"v{i}".encode(), partition=0)
    producer.flush()
    producer.close()
    options = {"bootstrapservers": kafka_broker.bootstrap, "topic": kafka_topic}

    fast = worker_consumer(options)
    assert fast._fetcher.PartitionRecords.__name__ == "ChunkRecords", "kafka-python changed: the fast path is off"
    stock = make_consumer(options)
    try:
        got = [b for b in read_range(fast, kafka_topic, 0, 7, 2403)]
        want = [b for b in read_range(stock, kafka_topic, 0, 7, 2403)]
    finally:
        stock.close()
    assert sum(b.num_rows for b in got) == 2396
    rows = [r for b in got for r in b.to_pylist()]
    assert rows == [r for b in want for r in b.to_pylist()]
    assert [r["offset"] for r in rows] == list(range(7, 2403))
    assert rows[2]["key"] == b"k9" and rows[0]["key"] is None and rows[0]["value"] == b"v7"
