"""The opt-in real-AWS tier: one Kinesis stream provisioned, produced to, consumed, torn down, on AWS.

Skipped (one line in the summary) unless STREAMLAB_TEST_REAL_AWS=1; then it uses the caller's own
AWS configuration (AWS_PROFILE, AWS_ACCESS_KEY_ID/..., AWS_REGION, kept aside by conftest.py before
it scrubs the environment for every other test) and runs the CLI as a user would, in subprocesses:

    STREAMLAB_TEST_REAL_AWS=1 AWS_PROFILE=me .venv/bin/python -m pytest -m aws_real tests/test_aws_real.py

Everything lives in a lab of its own (`--lab` on every command), so teardown never touches the
account's other streamlab labs. One 1-shard stream for a few minutes costs about $0.01. The stream
is torn down at the end even when a test fails, and the last test checks that nothing is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import CALLER_AWS_ENV

if os.environ.get("STREAMLAB_TEST_REAL_AWS") != "1":
    # the whole module at once: one line in the summary (`SKIPPED [1] tests/test_aws_real.py: ...`)
    pytest.skip("real-AWS tier: set STREAMLAB_TEST_REAL_AWS=1 and AWS credentials to run it (one Kinesis stream, ~$0.01)",
                allow_module_level=True)

pytestmark = pytest.mark.aws_real

REGION = CALLER_AWS_ENV.get("AWS_REGION") or CALLER_AWS_ENV.get("AWS_DEFAULT_REGION") or "us-east-1"
RECORDS = 500


@contextmanager
def caller_environment():
    """os.environ with the caller's AWS_* variables instead of the suite's fake ones, for a moment."""
    fake = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith("AWS_")]}
    os.environ.update(CALLER_AWS_ENV, AWS_REGION=REGION)
    try:
        yield
    finally:
        for k in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[k]
        os.environ.update(fake)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Names and an environment of their own: a new lab, stream and STREAMLAB_HOME (the ledger)."""
    tag = uuid.uuid4().hex[:8]
    home = tmp_path_factory.mktemp("real-aws-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(CALLER_AWS_ENV, AWS_REGION=REGION, STREAMLAB_HOME=str(home), STREAMLAB_ENV_FILE="/dev/null")
    return {"lab": f"test-{tag}", "stream": f"streamlab-test-{tag}", "home": home, "env": env}


def streamlab(lab, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streamlab", *args], env=lab["env"], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def kinesis():
    import boto3

    with caller_environment():  # credentials are resolved when the client is made
        return boto3.Session(region_name=REGION).client("kinesis")


def stream_exists(kinesis, name: str) -> bool:
    try:
        kinesis.describe_stream_summary(StreamName=name)
        return True
    except kinesis.exceptions.ResourceNotFoundException:
        return False


def wait_gone(kinesis, name: str) -> None:
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 36})


@pytest.fixture(scope="module")
def stream(lab, kinesis):
    """The lab's stream, provisioned through the CLI; torn down afterwards whatever happened."""
    r = streamlab(lab, "provision", "kinesis", "--stream", lab["stream"], "--shards", "1", "--lab", lab["lab"], "--yes")
    try:
        assert r.returncode == 0, r.stderr
        yield lab["stream"]
    finally:
        if stream_exists(kinesis, lab["stream"]):
            streamlab(lab, "teardown", "--lab", lab["lab"], "--yes")
        if stream_exists(kinesis, lab["stream"]):  # teardown failed: never leave a billed stream behind
            try:
                kinesis.delete_stream(StreamName=lab["stream"], EnforceConsumerDeletion=True)
            except kinesis.exceptions.ResourceInUseException:
                pass  # already being deleted
            wait_gone(kinesis, lab["stream"])


@pytest.fixture(scope="module")
def produced(lab, stream):
    r = streamlab(lab, "produce", "synthetic", "--seed", "1", "--sink", "kinesis", "--stream", stream,
                  "--count", str(RECORDS), "--quiet")
    assert r.returncode == 0, r.stderr
    return RECORDS


def records_on(kinesis, stream: str, expected: int, limit_s: float = 60) -> int:
    """Records on the stream's shards from the start. Real GetRecords may answer empty pages before
    reaching data, so read until caught up (MillisBehindLatest 0) with `expected` seen, or `limit_s`."""
    n, deadline = 0, time.monotonic() + limit_s
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it and time.monotonic() < deadline:
            page = kinesis.get_records(ShardIterator=it, Limit=10_000)
            n += len(page["Records"])
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0 and n >= expected:
                break
            it = page.get("NextShardIterator")
            time.sleep(0.25)  # 5 GetRecords calls per second per shard
    return n


def listed(lab) -> set[str]:
    r = streamlab(lab, "status", "--lab", lab["lab"], "--output", "json")
    assert r.returncode == 0, r.stderr
    return {row["name"] for row in json.loads(r.stdout)["resources"]}


def test_provision_creates_the_stream_tagged_with_its_lab(lab, kinesis, stream):
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE" and summary["OpenShardCount"] == 1
    tags = {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=stream)["Tags"]}
    assert tags.get("streamlab:lab") == lab["lab"]
    assert stream in listed(lab)


def test_produce_puts_every_record_on_the_stream(kinesis, stream, produced):
    assert records_on(kinesis, stream, produced) == produced


@pytest.mark.spark
def test_consume_reads_every_produced_record(lab, stream, produced, tmp_path):
    import pyarrow.dataset as ds

    out = tmp_path / "out"
    r = streamlab(lab, "consume", "--stream", stream, "--sink", "parquet", "--path", str(out),
                  "--trigger", "available-now", "--quiet", timeout=600)
    assert r.returncode == 0, r.stderr
    assert ds.dataset(str(out / "trades"), format="parquet").count_rows() == produced


def test_teardown_leaves_nothing(lab, kinesis, stream):
    r = streamlab(lab, "teardown", "--lab", lab["lab"], "--yes")
    assert r.returncode == 0, r.stderr
    wait_gone(kinesis, stream)  # deletion is asynchronous on AWS: DELETING, then gone
    assert not stream_exists(kinesis, stream)
    assert listed(lab) == set()
    ledger = Path(lab["home"], "ledger.json")
    assert not ledger.exists() or json.loads(ledger.read_text())["entries"] == []
