"""streamlab's Kinesis source, driven directly (no JVM) against the moto server.

Spark calls these methods in this order: initialOffset, latestOffset(start, limit), partitions(start,
end), read(partition) on an executor, commit(end). These tests play Spark's part.
"""

from __future__ import annotations

import pickle
import time

import pytest

from streamlab.spark.kinesis_source import (
    SCHEMA,
    KinesisStreamReader,
    ReadAllAvailable,
    ReadMaxRows,
    allocate,
    arrow_schema,
    get_page,
    read_range,
    worker_client,
)
from tests.fixtures.aws import new_stream


@pytest.fixture
def two_shards(kinesis):
    with new_stream(kinesis, "src", shards=2) as name:
        yield name


def put(kinesis, stream, values):
    for i in range(0, len(values), 500):
        chunk = values[i : i + 500]
        resp = kinesis.put_records(
            StreamName=stream, Records=[{"Data": v.encode(), "PartitionKey": v} for v in chunk]
        )
        assert resp["FailedRecordCount"] == 0


def reader(emulator, stream, **opts):
    return KinesisStreamReader({"streamName": stream, "endpointUrl": emulator.url, "region": "us-east-1", **opts})


def run_batch(r, start, limit=None):
    """latestOffset -> partitions -> read (after a pickle round trip, as on an executor) -> commit."""
    end = r.latestOffset(start, limit or ReadAllAvailable())
    parts = r.partitions(start, end)
    on_executor = pickle.loads(pickle.dumps(r))
    rows = [row for p in pickle.loads(pickle.dumps(parts)) for row in as_rows(on_executor.read(p))]
    r.commit(end)
    return end, rows


def as_rows(batches):
    """read() yields Arrow record batches; back to (data, stream, shard, key, seq, arrival) tuples."""
    for b in batches:
        yield from zip(*(col.to_pylist() for col in b.columns))


def test_reads_every_shard_exactly_once_across_batches(emulator, kinesis, two_shards):
    values = [f"r{i}" for i in range(1200)]
    put(kinesis, two_shards, values)
    r = reader(emulator, two_shards)
    start = r.initialOffset()
    assert sorted(start["shards"]) == sorted(s["ShardId"] for s in kinesis.list_shards(StreamName=two_shards)["Shards"])
    assert set(start["shards"].values()) == {"trim"}

    end, rows = run_batch(r, start)
    assert sorted(row[0].decode() for row in rows) == sorted(values)
    assert {row[2] for row in rows} == set(start["shards"])  # both shards contributed

    # nothing new: the end equals the start, so Spark plans no batch
    assert r.latestOffset(end, ReadAllAvailable()) == end
    assert r.partitions(end, end) == []

    more = [f"s{i}" for i in range(300)]
    put(kinesis, two_shards, more)
    _, rows2 = run_batch(r, end)
    assert sorted(row[0].decode() for row in rows2) == sorted(more)


def test_read_limit_splits_the_backlog_into_batches(emulator, kinesis, two_shards):
    values = [f"r{i}" for i in range(1000)]
    put(kinesis, two_shards, values)
    r = reader(emulator, two_shards)
    start, seen, batches = r.initialOffset(), [], 0
    while True:
        end, rows = run_batch(r, start, ReadMaxRows(300))
        if end == start:
            break
        assert len(rows) <= 300
        seen += rows
        start, batches = end, batches + 1
    assert batches == 4
    assert sorted(row[0].decode() for row in seen) == sorted(values)


def test_offsets_compare_sequence_numbers_as_integers(emulator, kinesis, fresh_stream):
    # moto numbers records 1, 2, ... 10, 11: as text "10" < "9", which would stall or repeat reads
    put(kinesis, fresh_stream, [f"r{i}" for i in range(12)])
    r = reader(emulator, fresh_stream)
    start = r.initialOffset()
    end, rows = run_batch(r, start, ReadMaxRows(9))
    assert [row[0].decode() for row in rows] == [f"r{i}" for i in range(9)]
    end2, rows2 = run_batch(r, end, ReadMaxRows(9))
    assert [row[0].decode() for row in rows2] == ["r9", "r10", "r11"]
    assert list(end2["shards"].values()) == ["after:12"]


def test_executor_reads_kinesis_itself_when_the_driver_has_no_buffer(emulator, kinesis, two_shards):
    """A batch replayed from the checkpoint after a restart: a fresh reader gets partitions(start, end)."""
    values = [f"r{i}" for i in range(400)]
    put(kinesis, two_shards, values)
    first = reader(emulator, two_shards)
    start = first.initialOffset()
    end = first.latestOffset(start, ReadAllAvailable())

    fresh = reader(emulator, two_shards)
    parts = fresh.partitions(start, end)
    assert parts and all(p.batch is None for p in parts)
    rows = [row for p in parts for row in as_rows(fresh.read(p))]
    assert sorted(row[0].decode() for row in rows) == sorted(values)


def test_read_range_stops_at_the_end_sequence(emulator, kinesis, fresh_stream):
    put(kinesis, fresh_stream, [f"r{i}" for i in range(20)])
    shard = kinesis.list_shards(StreamName=fresh_stream)["Shards"][0]["ShardId"]
    client = worker_client({"endpointurl": emulator.url, "region": "us-east-1"})
    rows = list(as_rows(read_range(client, fresh_stream, shard, "after:5", 8)))
    assert [row[0].decode() for row in rows] == ["r5", "r6", "r7"]


def test_latest_starts_after_what_was_there(emulator, kinesis, fresh_stream):
    put(kinesis, fresh_stream, ["old1", "old2"])
    time.sleep(0.05)
    r = reader(emulator, fresh_stream, startingPosition="LATEST")
    start = r.initialOffset()
    time.sleep(0.05)
    put(kinesis, fresh_stream, ["new1"])
    _, rows = run_batch(r, start)
    assert [row[0].decode() for row in rows] == ["new1"]


def test_available_now_ignores_records_put_after_it_started(emulator, kinesis, fresh_stream):
    put(kinesis, fresh_stream, ["a", "b"])
    time.sleep(0.05)
    r = reader(emulator, fresh_stream)
    start = r.initialOffset()
    r.prepareForTriggerAvailableNow()
    time.sleep(0.05)
    put(kinesis, fresh_stream, ["late"])
    end, rows = run_batch(r, start)
    assert [row[0].decode() for row in rows] == ["a", "b"]
    assert r.latestOffset(end, ReadAllAvailable()) == end  # done: the query can end


def test_reader_pickles_after_its_client_was_used(emulator, fresh_stream):
    r = reader(emulator, fresh_stream)
    r.initialOffset()  # builds the boto3 client (holds thread locks)
    copy = pickle.loads(pickle.dumps(r))
    assert copy._client is None and copy._buffers == {}


def test_unknown_starting_position_is_refused(emulator):
    with pytest.raises(ValueError, match="TRIM_HORIZON or LATEST"):
        KinesisStreamReader({"streamName": "x", "startingPosition": "middle"})


def test_allocate_shares_a_limit_fairly():
    assert allocate({"a": 10, "b": 10}, None) == {"a": 10, "b": 10}
    assert allocate({"a": 2, "b": 100}, 50) == {"a": 2, "b": 48}
    assert allocate({"a": 100, "b": 100}, 50) == {"a": 25, "b": 25}
    assert sum(allocate({"a": 7, "b": 9, "c": 0}, 10).values()) == 10


def test_arrow_schema_is_what_spark_checks_returned_batches_against():
    from pyspark.sql.pandas.types import to_arrow_schema

    assert arrow_schema() == to_arrow_schema(SCHEMA, timezone="UTC")


def test_pages_decode_the_same_with_or_without_the_raw_records_hook(emulator, kinesis, fresh_stream):
    """The reader's clients lift records out of the JSON body; a plain client lets botocore parse them."""
    put(kinesis, fresh_stream, ["a", "b\n\u00e9", "{}"])
    shard = kinesis.list_shards(StreamName=fresh_stream)["Shards"][0]["ShardId"]

    def page(client):
        it = client.get_shard_iterator(StreamName=fresh_stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        return get_page(client, fresh_stream, shard, it["ShardIterator"])

    fast = page(worker_client({"endpointurl": emulator.url, "region": "us-east-1"}))
    plain = page(kinesis)
    assert fast.batch.equals(plain.batch)
    assert fast.seqs == plain.seqs and len(fast.seqs) == 3
    assert [row[0] for row in as_rows([fast.batch])] == [b"a", "b\n\u00e9".encode(), b"{}"]
    assert fast.caught_up and fast.next_iterator
