"""`consume --isolation-level read_committed` (Spark's `kafka.isolation.level`).

The tansu broker accepts transactional producers' commit and abort calls but does not filter
aborted records (ENVIRONMENT.md: a librdkafka read_committed consumer still sees them), so the
filtering itself is tested on constructed record batches, as a broker would return them: a
committed transaction, an aborted one, their control batches, and the fetch response's list of
aborted transactions, read the way streamlab's Python reader's consumer reads a fetch.
"""

from __future__ import annotations

import struct

import pytest

from streamlab.settings import load_settings
from streamlab.spark.kafka_source import isolation_level, make_consumer
from streamlab.spark.readers import ReadRequest, kafka_native_options, kafka_python_options
from streamlab.spark.request import ConsumeRequest

COMMITTED_PID, ABORTED_PID = 7, 8


def batch(base_offset: int, producer_id: int, values: list[bytes], control: int | None = None) -> bytes:
    """One magic-2 transactional batch at `base_offset`; with `control` (0 abort, 1 commit), the
    control batch a broker writes when a transaction ends."""
    from crc32c import crc32c
    from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=True, producer_id=producer_id,
                                  producer_epoch=0, base_sequence=0, batch_size=1 << 20)
    if control is None:
        for i, v in enumerate(values):
            b.append(i, timestamp=1_764_000_000_000 + i, key=None, value=v, headers=[])
    else:  # key: version 0, type; value: version 0, coordinator epoch
        b.append(0, timestamp=1_764_000_000_000, key=struct.pack(">hh", 0, control), value=struct.pack(">hi", 0, 0), headers=[])
    buf = bytearray(b.build())
    struct.pack_into(">q", buf, 0, base_offset)
    if control is not None:
        attrs_at = DefaultRecordBatch.ATTRIBUTES_OFFSET
        attrs = struct.unpack_from(">h", buf, attrs_at)[0] | DefaultRecordBatch.CONTROL_MASK
        struct.pack_into(">h", buf, attrs_at, attrs)
        struct.pack_into(">I", buf, DefaultRecordBatch.CRC_OFFSET, crc32c(bytes(buf[attrs_at:])))
    return bytes(buf)


def fetched(level: str) -> list[bytes]:
    """The values kafka-python's fetcher hands out for the constructed fetch, at `level`."""
    from kafka.consumer.fetcher import Fetcher
    from kafka.protocol.consumer.offsets import IsolationLevel
    from kafka.protocol.old.fetch import AbortedTransaction
    from kafka.record import MemoryRecords
    from kafka.structs import TopicPartition

    log = b"".join([
        batch(0, COMMITTED_PID, [b"c0", b"c1", b"c2"]),
        batch(3, ABORTED_PID, [b"a0", b"a1", b"a2"]),
        batch(6, ABORTED_PID, [], control=0),  # abort marker
        batch(7, COMMITTED_PID, [], control=1),  # commit marker
        batch(8, COMMITTED_PID, [b"c3"]),
    ])
    records = Fetcher.PartitionRecords(
        0, TopicPartition("t", 0), MemoryRecords(log),
        isolation_level=IsolationLevel.build_from(level),
        aborted_transactions=[AbortedTransaction(ABORTED_PID, 3)],
    )
    return [r.value for r in records.take()]


def test_read_committed_skips_the_aborted_transaction_and_the_markers():
    assert fetched("read_committed") == [b"c0", b"c1", b"c2", b"c3"]
    assert fetched("read_uncommitted") == [b"c0", b"c1", b"c2", b"a0", b"a1", b"a2", b"c3"]  # markers never show


def test_the_python_readers_consumer_reads_committed_on_request(kafka_broker):
    """The reader's own consumer (driver and executors) is built with the level, and the column-wise
    fast path (which does not filter transactions) stays off under read_committed."""
    from streamlab.spark import kafka_chunks

    for level, fast in (("read_committed", False), ("read_uncommitted", True)):
        consumer = make_consumer({"bootstrapservers": kafka_broker.bootstrap, "isolationlevel": level})
        try:
            assert consumer.config["isolation_level"] == level
            assert kafka_chunks.install(consumer) is fast
        finally:
            consumer.close()
    with pytest.raises(ValueError, match="isolationLevel must be"):
        isolation_level({"isolationlevel": "dirty"})


def test_the_level_reaches_both_readers_options():
    from streamlab.kafka.settings import KafkaSecurity

    sec = KafkaSecurity(bootstrap="127.0.0.1:9092", protocol="PLAINTEXT")
    req = ReadRequest(topic="t", isolation_level="read_committed")
    assert kafka_native_options(sec, req)["kafka.isolation.level"] == "read_committed"
    assert kafka_python_options(sec, req)["isolationLevel"] == "read_committed"
    request = ConsumeRequest(load_settings(), source="kafka", topic="t", isolation_level="read_committed")
    assert request.read_request().isolation_level == "read_committed"


def test_the_cli_offers_the_two_levels(run_cli):
    r = run_cli("consume", "--source", "kafka", "--topic", "t", "--isolation-level", "dirty")
    assert r.code == 2 and "read_committed" in r.err
