"""Firehose sink against the moto server: DirectPut -> S3 really delivers (one object per call)."""

from __future__ import annotations

import json
import re
from itertools import islice

import pytest

from streamlab.aws.session import AWS
from streamlab.records import TextLine, Trade
from streamlab.settings import load_settings
from streamlab.sinks import Batcher, DeadLetter, Stats
from streamlab.sinks.firehose import MAX_RECORD_BYTES, FirehoseSink
from streamlab.sources.reviews import ReviewsSource
from streamlab.testing import assert_one_line
from tests.fixtures.aws import client, unique
from tests.fixtures.faulty_proxy import FailEntries


@pytest.fixture
def delivery_stream(emulator, s3):
    """A fresh bucket and a DirectPut delivery stream writing into it: (stream name, bucket)."""
    bucket = unique("fh-bucket")
    s3.create_bucket(Bucket=bucket)
    name = unique("fh")
    client(emulator, "firehose").create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose-test",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "in/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
        },
    )
    return name, bucket


def s3_objects(s3, bucket: str) -> list[bytes]:
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]
    return [s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in sorted(keys)]


def lines_in(objects: list[bytes]) -> list[bytes]:
    return [l for o in objects for l in o.splitlines()]


def test_records_land_in_s3_as_json_lines(run_cli, aws_env, s3, delivery_stream):
    name, bucket = delivery_stream
    r = run_cli("produce", "synthetic", "--seed", "5", "--sink", "firehose", "--delivery-stream", name, "--count", "1234")
    assert r.code == 0, r.err
    objects = s3_objects(s3, bucket)
    assert all(o.endswith(b"\n") for o in objects)
    assert len(objects) >= 3 and all(o.count(b"\n") <= 500 for o in objects)  # one object per call of <= 500
    trades = [Trade.from_json(l) for l in lines_in(objects)]
    assert len(trades) == 1234
    assert {t.symbol for t in trades} == {f"Index_{i}" for i in range(1, 6)}


def test_missing_delivery_stream_is_one_line_with_the_fix(run_cli, aws_env):
    r = run_cli("produce", "synthetic", "--sink", "firehose", "--delivery-stream", "nope", "--count", "3")
    assert r.code == 4
    assert_one_line(r.err, "Firehose delivery stream nope not found", "streamlab provision firehose")


def test_partial_failures_resend_only_the_failed_entries(run_cli, aws_env, monkeypatch, s3, delivery_stream, faulty_proxy):
    name, bucket = delivery_stream
    monkeypatch.setenv("STREAMLAB_ENDPOINT_URL", faulty_proxy.url)
    faulty_proxy.script.append(FailEntries({0, 7, 99}, code="ServiceUnavailableException"))
    r = run_cli("produce", "reviews", "--sink", "firehose", "--delivery-stream", name, "--count", "500")
    assert r.code == 0, r.err
    assert faulty_proxy.sizes == [500, 3]
    assert faulty_proxy.calls[0].failed == 3
    assert re.search(r"500 sent .* 3 retried, 0 failed", " ".join(r.err.split()))
    got = lines_in(s3_objects(s3, bucket))
    # each review (unique review_id) exactly once: nothing lost, nothing doubled
    assert sorted(got) == sorted(r.text.encode() for r in islice(ReviewsSource(load_settings()).records(), 500))


def test_entries_failing_every_time_go_to_the_dead_letter_file(aws_env, delivery_stream, faulty_proxy, tmp_path, monkeypatch):
    name, _ = delivery_stream
    monkeypatch.setenv("STREAMLAB_ENDPOINT_URL", faulty_proxy.url)
    faulty_proxy.always = FailEntries(match=b"poison", code="InternalFailure")
    sink = FirehoseSink(load_settings(), aws=AWS(load_settings()), delivery_stream=name)
    sink.open()
    b = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats(), sleep=lambda s: None)
    for i in range(10):
        b.add(TextLine(f"poison {i}" if i in (2, 5) else f"ok {i}"))
    b.close()
    assert (b.stats.sent, b.stats.failed) == (8, 2)
    dead = [json.loads(l) for l in (tmp_path / "dl.jsonl").read_text().splitlines()]
    assert [(d["data"], d["reason"]) for d in dead] == [("poison 2", "InternalFailure"), ("poison 5", "InternalFailure")]


def test_record_limit_is_1000_kib_including_the_newline(aws_env, s3, delivery_stream, faulty_proxy, tmp_path, monkeypatch):
    name, bucket = delivery_stream
    monkeypatch.setenv("STREAMLAB_ENDPOINT_URL", faulty_proxy.url)
    sink = FirehoseSink(load_settings(), aws=AWS(load_settings()), delivery_stream=name)
    sink.open()
    b = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats())
    fits = "a" * (MAX_RECORD_BYTES - 1)  # + newline = exactly 1,000 KiB
    for _ in range(5):
        b.add(TextLine(fits))
    b.add(TextLine("b" * MAX_RECORD_BYTES))  # + newline = one byte too many
    b.close()
    assert (b.stats.sent, b.stats.failed) == (5, 1)
    dead = json.loads((tmp_path / "dl.jsonl").read_text())
    assert dead["reason"] == "RecordTooLarge" and str(MAX_RECORD_BYTES) in dead["message"]
    # 4 MiB per call: four 1,000 KiB records fit in one call, the fifth goes in the next
    assert faulty_proxy.sizes == [4, 1]
    assert all(c.bytes <= 4 * 1024 * 1024 for c in faulty_proxy.calls)
    assert [len(l) for l in lines_in(s3_objects(s3, bucket))] == [MAX_RECORD_BYTES - 1] * 5
