"""KPL aggregation both ways: the codec against the independent `aws-kinesis-agg`, the aggregating
sink and the de-aggregating reader on the moto server.

The reader is driven without a JVM as in tests/test_spark_kinesis_source.py (initialOffset,
latestOffset, partitions, read after a pickle round trip, commit); one Spark test consumes an
aggregated stream with a corrupt aggregate in it.
"""

from __future__ import annotations

import base64
import re
import pickle
from collections import Counter
from datetime import datetime, timezone

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from streamlab import kpl
from streamlab.spark.kinesis_source import KinesisStreamReader, ReadAllAvailable, ReadMaxRows
from streamlab.testing import parse_summary
from tests.fixtures.aws import new_stream
from tests.fixtures.faulty_proxy import FailEntries

USER = [(f"key-{i % 13}", None if i % 4 else str(10**30 + i), f"payload {i} ".encode() * (1 + i % 9)) for i in range(400)]


# -- the codec ----------------------------------------------------------------------------------
def test_what_streamlab_aggregates_aws_kinesis_agg_deaggregates():
    blob = kpl.aggregate(USER)
    assert blob[:4] == kpl.MAGIC
    record = {"SequenceNumber": "7", "PartitionKey": "outer", "ApproximateArrivalTimestamp": datetime.now(timezone.utc), "Data": blob}
    out = [r["kinesis"] for r in iter_deaggregate_records([record], data_format="Boto3")]
    assert [(r["partitionKey"], base64.b64decode(r["data"])) for r in out] == [(pk, data) for pk, _, data in USER]  # it hands data back base64
    assert [r["subSequenceNumber"] for r in out] == list(range(len(USER)))
    # aws-kinesis-agg reports index 0 of the table for a record without a hash key: compare where one was set
    assert [r["explicitHashKey"] for r, (_, ehk, _) in zip(out, USER) if ehk] == [ehk for _, ehk, _ in USER if ehk]


def test_what_aws_kinesis_agg_aggregates_streamlab_reads():
    agg = RecordAggregator()
    for pk, ehk, data in USER:
        assert agg.add_user_record(pk, data, ehk) is None  # None: the aggregate is not full yet
    _, _, blob = agg.clear_and_get().get_contents()
    assert kpl.deaggregate(blob) == [kpl.UserRecord(*u) for u in USER]


def test_packer_knows_the_exact_size_before_adding():
    packer = kpl.Packer()
    for pk, ehk, data in USER:
        expected = packer.size_with(pk, data, ehk)
        packer.add(pk, data, ehk)
        assert packer.size == expected
    assert len(packer.build()) == packer.size and packer.count == len(USER)


def test_plain_data_passes_through_and_a_changed_byte_is_refused():
    assert kpl.deaggregate(b'{"a": 1}', "pk") == [kpl.UserRecord("pk", None, b'{"a": 1}')]
    blob = bytearray(kpl.aggregate([("a", b"one"), ("b", b"two")]))
    blob[12] ^= 0x01
    with pytest.raises(kpl.BadAggregate, match=r"^bad KPL aggregate \(md5\)$"):
        kpl.deaggregate(bytes(blob))


# -- reader helpers (Spark's part, played by the test) ------------------------------------------
def reader(emulator, stream):
    return KinesisStreamReader({"streamName": stream, "endpointUrl": emulator.url, "region": "us-east-1"})


def run_batch(r, start, limit=None):
    end = r.latestOffset(start, limit or ReadAllAvailable())
    on_executor = pickle.loads(pickle.dumps(r))
    rows = [row for p in pickle.loads(pickle.dumps(r.partitions(start, end))) for b in on_executor.read(p) for row in b.to_pylist()]
    r.commit(end)
    return end, rows


def read_everything(emulator, stream):
    r = reader(emulator, stream)
    _, rows = run_batch(r, r.initialOffset())
    return rows


@pytest.fixture
def two_shards(kinesis):
    with new_stream(kinesis, "kpl", shards=2) as name:
        yield name


def shard_ranges(kinesis, stream):
    return {s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
            for s in kinesis.list_shards(StreamName=stream)["Shards"]}


# -- the sink's failures: per user record ------------------------------------------------------
def keys_on_each_half():
    """Two partition keys, one in each half of the hash space (a 2-shard stream's two shards)."""
    half = 2**127
    low = next(f"a{i}" for i in range(100) if kpl.shard_hash(f"a{i}") < half)
    high = next(f"b{i}" for i in range(100) if kpl.shard_hash(f"b{i}") >= half)
    return low, high


def test_a_failed_aggregate_is_retried_then_dead_lettered_record_by_record(faulty_proxy, emulator, kinesis, two_shards, tmp_path):
    from streamlab.aws.session import AWS
    from streamlab.records import TextLine
    from streamlab.settings import load_settings
    from streamlab.sinks.base import Batcher, DeadLetter, RetryPolicy, Stats
    from streamlab.sinks.kinesis import KinesisSink
    from streamlab.testing import read_dead_letters

    low, high = keys_on_each_half()
    faulty_proxy.always = FailEntries(match=b"poison")  # fails any aggregate holding a poisoned record
    settings = load_settings(endpoint_url=faulty_proxy.url)
    sink = KinesisSink(settings, aws=AWS(settings), stream=two_shards, aggregate=True)
    sink.open()
    b = Batcher(sink, DeadLetter(tmp_path / "dead.jsonl"), Stats(), RetryPolicy(attempts=2), sleep=lambda s: None)
    records = [TextLine(f"ok-{i}", partition_key=low) for i in range(30)]
    records += [TextLine(f"poison-{i}" if i == 0 else f"neighbour-{i}", partition_key=high) for i in range(20)]
    b.add_all(records)
    b.close()
    assert faulty_proxy.sizes == [2, 1]  # one aggregate per shard, then the failed one again
    assert (b.stats.sent, b.stats.retried, b.stats.failed) == (30, 20, 20)
    assert b.stats.sent + b.stats.failed == len(records)
    dead = read_dead_letters(tmp_path / "dead.jsonl")
    assert sorted(d["data"] for d in dead) == sorted(["poison-0"] + [f"neighbour-{i}" for i in range(1, 20)])
    assert {d["key"] for d in dead} == {high}
    assert sorted(row["data"] for row in read_everything(emulator, two_shards)) == sorted(f"ok-{i}".encode() for i in range(30))


def test_aggregates_stay_within_one_mib(emulator, kinesis, fresh_stream, tmp_path):
    from streamlab.aws.session import AWS
    from streamlab.records import TextLine
    from streamlab.settings import load_settings
    from streamlab.sinks.base import Batcher, DeadLetter, Stats
    from streamlab.sinks.kinesis import KinesisSink

    settings = load_settings(endpoint_url=emulator.url)
    sink = KinesisSink(settings, aws=AWS(settings), stream=fresh_stream, aggregate=True)
    sink.open()
    b = Batcher(sink, DeadLetter(tmp_path / "dead.jsonl"), Stats())
    b.add_all(TextLine(f"{i:06d}" + "x" * 10_000, partition_key=f"k{i % 5}") for i in range(300))  # ~3 MB
    b.close()
    assert (b.stats.sent, b.stats.failed) == (300, 0)
    it = kinesis.get_shard_iterator(StreamName=fresh_stream, ShardId=kinesis.list_shards(StreamName=fresh_stream)["Shards"][0]["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    puts = kinesis.get_records(ShardIterator=it)["Records"]
    assert len(puts) == 3 and all(len(r["Data"]) + len(r["PartitionKey"]) <= 1024 * 1024 for r in puts)
    assert [row["data"][:6] for row in read_everything(emulator, fresh_stream)] == [f"{i:06d}".encode() for i in range(300)]


# -- sink -> reader -----------------------------------------------------------------------------
def test_produce_aggregated_then_read_back_every_user_record_on_its_shard(emulator, aws_env, kinesis, two_shards, run_cli):
    r = run_cli("produce", "synthetic", "--count", "5000", "--sink", "kinesis", "--stream", two_shards, "--aggregate", "--seed", "3")
    assert r.code == 0, r.err
    summary = parse_summary(r.err)
    assert (summary["produced"], summary["sent"], summary["failed"]) == (5000, 5000, 0)

    kinesis_records = sum(len(kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
        StreamName=two_shards, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"], Limit=10000)["Records"])
        for sid in shard_ranges(kinesis, two_shards))
    assert 2 <= kinesis_records <= 20  # 5,000 records in a handful of aggregates, not 5,000 puts

    rows = read_everything(emulator, two_shards)
    assert len(rows) == 5000
    # each user record once (synthetic payloads may repeat: count positions)
    assert len({(row["shardId"], int(row["sequenceNumber"]), row["subSequenceNumber"]) for row in rows}) == 5000
    ranges = shard_ranges(kinesis, two_shards)
    for row in rows:
        low, high = ranges[row["shardId"]]
        assert low <= kpl.shard_hash(row["partitionKey"]) <= high, row["partitionKey"]
    assert {row["shardId"] for row in rows} == set(ranges)  # the symbols spread over both shards
    assert all(row["subSequenceNumber"] is not None and row["kplError"] is None for row in rows)
    # within an aggregate, user records keep the order they were produced in
    first_seq = rows[0]["sequenceNumber"]
    subs = [row["subSequenceNumber"] for row in rows if row["sequenceNumber"] == first_seq and row["shardId"] == rows[0]["shardId"]]
    assert subs == list(range(len(subs)))


def test_a_restart_between_aggregates_neither_loses_nor_repeats(emulator, kinesis, fresh_stream):
    blobs = [kpl.aggregate([(f"k{j}", f"{a}-{j}".encode()) for j in range(50)]) for a in range(4)]
    kinesis.put_records(StreamName=fresh_stream, Records=[{"Data": b, "PartitionKey": "k0"} for b in blobs])
    first = reader(emulator, fresh_stream)
    start = first.initialOffset()
    end, rows = run_batch(first, start, ReadMaxRows(1))  # the row limit counts Kinesis records
    assert len(rows) == 50 and list(end["shards"].values()) == ["after:1"]

    restarted = reader(emulator, fresh_stream)  # a new query from the checkpointed offset
    seen, pos = list(rows), end
    while True:
        nxt, more = run_batch(restarted, pos, ReadMaxRows(1))
        if nxt == pos:
            break
        seen, pos = seen + more, nxt
    assert sorted(row["data"] for row in seen) == sorted(f"{a}-{j}".encode() for a in range(4) for j in range(50))


def test_an_aws_kinesis_agg_aggregate_put_with_boto3_is_read_as_its_user_records(emulator, kinesis, fresh_stream):
    agg = RecordAggregator()
    for pk, ehk, data in USER[:120]:
        assert agg.add_user_record(pk, data, ehk) is None  # None: the aggregate is not full yet
    pk, ehk, blob = agg.clear_and_get().get_contents()
    kinesis.put_record(StreamName=fresh_stream, Data=blob, PartitionKey=pk)
    kinesis.put_record(StreamName=fresh_stream, Data=b"plain", PartitionKey="p")
    rows = read_everything(emulator, fresh_stream)
    assert [(row["partitionKey"], row["explicitHashKey"], row["data"]) for row in rows] == [*USER[:120], ("p", None, b"plain")]
    assert [row["subSequenceNumber"] for row in rows] == [*range(120), None]
    assert len({row["sequenceNumber"] for row in rows[:120]}) == 1


def test_a_corrupt_aggregate_is_one_row_with_the_md5_reason(emulator, kinesis, fresh_stream):
    blob = bytearray(kpl.aggregate([(f"k{j}", b"x" * j) for j in range(30)]))
    blob[40] ^= 0xFF
    kinesis.put_record(StreamName=fresh_stream, Data=bytes(blob), PartitionKey="k0")
    rows = read_everything(emulator, fresh_stream)
    assert len(rows) == 1
    assert rows[0]["data"] == bytes(blob) and rows[0]["kplError"] == "bad KPL aggregate (md5)"
    assert rows[0]["subSequenceNumber"] is None


# -- one consume (Spark) --------------------------------------------------------------------------
@pytest.mark.spark
def test_consume_counts_user_records_and_quarantines_the_corrupt_aggregate(spark, aws_env, kinesis, two_shards, run_cli, tmp_path):
    from streamlab.settings import load_settings
    from streamlab.spark.job import run_consume
    from streamlab.spark.request import ConsumeRequest

    r = run_cli("produce", "synthetic", "--count", "1200", "--sink", "kinesis", "--stream", two_shards, "--aggregate", "--seed", "5")
    assert r.code == 0, r.err
    corrupt = bytearray(kpl.aggregate([("Index_1", b'{"not": "seen"}')] * 3))
    corrupt[8] ^= 0x01
    kinesis.put_record(StreamName=two_shards, Data=bytes(corrupt), PartitionKey="Index_1")

    out = tmp_path / "out"
    request = ConsumeRequest(load_settings(), stream=two_shards, sink="parquet", path=str(out), trigger="available-now", quiet=True)
    summary = run_consume(request, spark=spark)
    assert (summary.input_rows, summary.trades, summary.quarantined) == (1201, 1200, 1)
    positions = Counter(t["position"] for t in spark.read.parquet(str(out / "trades")).select("position").collect())
    assert sum(positions.values()) == 1200 and all(re.fullmatch(r"\d+:\d+", p) for p in positions)  # SEQ:SUB
    assert max(positions.values()) <= 2  # moto numbers each of the two shards from 1; AWS's are unique
    [bad] = spark.read.parquet(str(out / "_quarantine")).collect()
    assert bad["reason"] == "bad KPL aggregate (md5)" and ":" not in bad["position"]
