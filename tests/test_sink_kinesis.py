"""The Kinesis sink against the moto server, with the faulty proxy in front where faults are needed."""

from __future__ import annotations

import json
import random

import pytest

from streamlab.aws.session import AWS
from streamlab.errors import ConfigError, PartialDelivery, ResourceNotFound
from streamlab.records import TextLine
from streamlab.settings import load_settings
from streamlab.sinks import SINKS
from streamlab.sinks.base import MiB, Batcher, DeadLetter, Entry, RetryPolicy, Stats
from streamlab.sinks.kinesis import RANDOM_KEY_CHARS, KinesisSink
from streamlab.testing import EdgeRandom, assert_one_line, flat, parse_summary, read_dead_letters
from tests.fixtures.aws import read_all, unique
from tests.fixtures.faulty_proxy import FailCall, FailEntries


def make_batcher(url, stream, tmp_path, *, attempts=6, delays=None, seed=1):
    settings = load_settings(endpoint_url=url)
    sink = KinesisSink(settings, aws=AWS(settings), stream=stream)
    sink.open()
    sleeps = delays if delays is not None else []
    batcher = Batcher(
        sink,
        DeadLetter(tmp_path / "dead.jsonl"),
        Stats(),
        RetryPolicy(attempts=attempts),
        sleep=sleeps.append,
        rng=random.Random(seed),
    )
    return batcher


def lines(n, prefix="r", key="k"):
    return [TextLine(f"{prefix}{i}", partition_key=key) for i in range(n)]


# -- registry and options ---------------------------------------------------------------------


def test_registered_with_help_and_limits():
    cls = SINKS["kinesis"]
    assert cls is KinesisSink
    assert [p.name for p in cls.options] == ["stream", "aggregate"] and all(p.help for p in cls.options)
    assert (cls.max_batch_records, cls.max_batch_bytes, cls.max_record_bytes) == (500, 5 * MiB, 1 * MiB)


def test_missing_stream_option_is_one_line(run_cli, aws_env):
    r = run_cli("produce", "synthetic", "--sink", "kinesis", "--count", "1")
    assert r.code == ConfigError.exit_code
    assert assert_one_line(r.err) == "error: --sink kinesis needs --stream; add --stream NAME (create it with `streamlab provision kinesis --stream NAME`)"


def test_unknown_stream_says_how_to_create_it(run_cli, aws_env):
    r = run_cli("produce", "synthetic", "--sink", "kinesis", "--stream", "nope-stream", "--count", "1")
    assert r.code == ResourceNotFound.exit_code
    assert "stream nope-stream not found" in r.err
    assert "streamlab provision kinesis --stream nope-stream" in r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err


# -- sizes and keys ---------------------------------------------------------------------------


def test_entry_size_counts_the_partition_key_in_utf8():
    sink = KinesisSink(load_settings(), stream="s")
    assert sink.entry_size(Entry(b"abc", "é")) == 3 + 2
    assert sink.entry_size(Entry(b"abc", None)) == 3 + RANDOM_KEY_CHARS
    long_key = "x" * 300
    assert sink.partition_key(long_key) == sink.partition_key(long_key) and len(sink.partition_key(long_key)) == 64
    assert sink.partition_key("") is None


# -- batching limits --------------------------------------------------------------------------


def test_501_records_make_two_calls_of_500_and_1(faulty_proxy, fresh_stream, kinesis, tmp_path):
    b = make_batcher(faulty_proxy.url, fresh_stream, tmp_path)
    b.add_all(lines(501))
    b.close()
    assert faulty_proxy.sizes == [500, 1]
    assert b.stats.sent == 501 and b.stats.failed == 0
    assert sorted(read_all(kinesis, fresh_stream)) == sorted(f"r{i}".encode() for i in range(501))


def test_five_mib_boundary_and_oversized_record(faulty_proxy, fresh_stream, kinesis, tmp_path):
    # Each record is exactly 1 MiB counting its one-byte key: five fill a call to exactly 5 MiB.
    big = [TextLine(chr(ord("a") + i) * (MiB - 1), partition_key="k") for i in range(6)]
    too_big = TextLine("z" * MiB, partition_key="k")  # 1 MiB + 1 with the key
    b = make_batcher(faulty_proxy.url, fresh_stream, tmp_path)
    b.add_all(big[:3] + [too_big] + big[3:])
    b.close()
    assert faulty_proxy.sizes == [5, 1]
    assert [c.bytes for c in faulty_proxy.calls] == [5 * MiB, 1 * MiB]
    assert b.stats.sent == 6 and b.stats.failed == 1
    [dead] = read_dead_letters(tmp_path / "dead.jsonl")
    assert dead["reason"] == "RecordTooLarge" and dead["data"] == too_big.text
    assert len(read_all(kinesis, fresh_stream)) == 6


def test_partition_key_is_the_symbol_and_keyless_records_spread(kinesis, emulator, tmp_path):
    stream = unique("spread")
    kinesis.create_stream(StreamName=stream, ShardCount=4)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    try:
        b = make_batcher(emulator.url, stream, tmp_path)
        b.add_all([TextLine(f"n{i}") for i in range(200)])
        b.close()
        counts = []
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            counts.append(len(kinesis.get_records(ShardIterator=it, Limit=1000)["Records"]))
        assert sum(counts) == 200
        assert all(c > 0 for c in counts), counts  # random keys reach every shard
    finally:
        kinesis.delete_stream(StreamName=stream)


# -- failures and retries ---------------------------------------------------------------------


def test_partial_failure_resends_only_the_failed_entries(faulty_proxy, fresh_stream, kinesis, tmp_path):
    faulty_proxy.script.extend([FailEntries({1, 3, 7}), FailEntries({0}, code="InternalFailure")])
    delays: list[float] = []
    b = make_batcher(faulty_proxy.url, fresh_stream, tmp_path, delays=delays)
    b.add_all(lines(10))
    b.close()
    assert faulty_proxy.sizes == [10, 3, 1]  # only the failed ones go again
    assert (b.stats.sent, b.stats.retried, b.stats.failed) == (10, 4, 0)
    # full jitter: attempt n waits uniform(0, min(cap, base * 2**n))
    policy = RetryPolicy()
    assert len(delays) == 2
    for attempt, d in enumerate(delays, start=1):
        assert 0 <= d <= min(policy.cap, policy.base * 2**attempt)
    assert sorted(read_all(kinesis, fresh_stream)) == sorted(f"r{i}".encode() for i in range(10))


def test_retry_delays_follow_the_injected_rng():
    policy = RetryPolicy(attempts=6, base=0.1, cap=1.0)
    a = [policy.delay(n, random.Random(5)) for n in range(1, 8)]
    b = [policy.delay(n, random.Random(5)) for n in range(1, 8)]
    assert a == b
    assert all(0 <= d <= min(1.0, 0.1 * 2**n) for n, d in zip(range(1, 8), a))

    assert [policy.delay(n, EdgeRandom(1)) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]  # the ceilings


def test_exhausted_retries_go_to_the_dead_letter_file(faulty_proxy, fresh_stream, kinesis, tmp_path):
    faulty_proxy.always = FailEntries(match=b"poison")
    b = make_batcher(faulty_proxy.url, fresh_stream, tmp_path, attempts=3)
    b.add_all(lines(4) + [TextLine("poison-1", partition_key="k")] + lines(3, prefix="s"))
    b.close()
    assert faulty_proxy.sizes == [8, 1, 1]  # first send + 2 retries of the one poisoned entry
    assert (b.stats.sent, b.stats.retried, b.stats.failed) == (7, 2, 1)
    [dead] = read_dead_letters(tmp_path / "dead.jsonl")
    assert dead["reason"] == "ProvisionedThroughputExceededException" and dead["data"] == "poison-1"
    assert dead["key"] == "k"
    assert len(read_all(kinesis, fresh_stream)) == 7


def test_whole_call_throttling_is_retried(faulty_proxy, fresh_stream, kinesis, tmp_path):
    faulty_proxy.script.extend([FailCall("KMSThrottlingException"), FailCall("KMSThrottlingException")])
    delays: list[float] = []
    b = make_batcher(faulty_proxy.url, fresh_stream, tmp_path, delays=delays)
    b.add_all(lines(5))
    b.close()
    assert faulty_proxy.sizes == [5, 5, 5]
    assert [c.error for c in faulty_proxy.calls] == ["KMSThrottlingException"] * 2 + [None]
    assert (b.stats.sent, b.stats.retried, b.stats.failed) == (5, 10, 0)
    assert len(delays) == 2
    assert len(read_all(kinesis, fresh_stream)) == 5


def test_cli_names_the_dead_letter_file_when_retries_run_out(run_cli, faulty_proxy, fresh_stream, kinesis, tmp_path):
    faulty_proxy.always = FailEntries(match=b"Index_2")
    dl = tmp_path / "dl.jsonl"
    r = run_cli("produce", "synthetic", "--count", "10", "--sink", "kinesis", "--stream", fresh_stream,
                "--endpoint-url", faulty_proxy.url, "--dead-letter", str(dl))
    assert r.code == PartialDelivery.exit_code, r.err  # records set aside: a script must notice
    n = parse_summary(r.err)
    assert (n["produced"], n["sent"], n["failed"]) == (10, 8, 2)
    assert str(dl) in "".join(r.err.split())  # the warning names the file (rich may wrap it)
    dead = read_dead_letters(dl)
    assert [json.loads(d["data"])["symbol"] for d in dead] == ["Index_2", "Index_2"]
    assert len(read_all(kinesis, fresh_stream)) == 8


def test_stream_deleted_mid_run_is_one_line_and_keeps_the_rest(run_cli, faulty_proxy, fresh_stream, kinesis, tmp_path):
    def delete_before_second_call(call_no):
        if call_no == 2:
            kinesis.delete_stream(StreamName=fresh_stream)

    faulty_proxy.before_put = delete_before_second_call
    dl = tmp_path / "dl.jsonl"
    r = run_cli("produce", "synthetic", "--count", "1500", "--sink", "kinesis", "--stream", fresh_stream,
                "--endpoint-url", faulty_proxy.url, "--dead-letter", str(dl))
    assert r.code == ResourceNotFound.exit_code
    assert_one_line(r.err, f"stream {fresh_stream} disappeared", after_progress=True)
    n = parse_summary(r.err)
    dead = dl.read_text().splitlines()
    # nothing vanished: what was not sent before the stream went is in the dead-letter file
    assert n["produced"] == 1500 and n["sent"] + len(dead) == 1500 and n["failed"] == len(dead) > 0
    assert len(faulty_proxy.calls) == 2  # no sends after the fatal error


# -- round trip -------------------------------------------------------------------------------


def test_produce_to_kinesis_exact_count_and_keys(run_cli, aws_env, fresh_stream, kinesis):
    r = run_cli("produce", "synthetic", "--count", "1234", "--seed", "3", "--sink", "kinesis", "--stream", fresh_stream, "--quiet")
    assert r.code == 0 and r.err == ""
    data = read_all(kinesis, fresh_stream)
    assert len(data) == 1234
    trades = [json.loads(d) for d in data]
    assert {t["symbol"] for t in trades} == {f"Index_{i}" for i in range(1, 6)}
    shard = kinesis.list_shards(StreamName=fresh_stream)["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=fresh_stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = kinesis.get_records(ShardIterator=it, Limit=50)["Records"]
    assert all(rec["PartitionKey"] == json.loads(rec["Data"])["symbol"] for rec in recs)


def test_summary_reports_what_was_sent(run_cli, aws_env, fresh_stream):
    r = run_cli("produce", "synthetic", "--count", "700", "--sink", "kinesis", "--stream", fresh_stream)
    assert r.code == 0, r.err
    assert parse_summary(r.err) == {"reason": "count", "produced": 700, "sent": 700, "retried": 0, "failed": 0}
    assert f"kinesis stream {fresh_stream}" in flat(r.err)
