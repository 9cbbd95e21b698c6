"""The offline serverless lab: the local scheduler runs streamlab's deployed functions on their
EventBridge schedules, retries failures and notifies through SNS, and logs each run.

One emulator of its own (with the scheduler, time x60: the 1-minute rule fires every second), so the
session emulator's other tests never see their functions invoked.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest

from streamlab.aws.emulator import Emulator
from streamlab.random_walk import DEFAULT_SYMBOLS, MAX_MOVE
from tests.fixtures.aws import unique


@pytest.fixture(scope="module")
def sched_emulator():
    with Emulator(scheduler_time_scale=60) as emu:
        yield emu


def wait_for(what, check, timeout=40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def pipeline(sched_emulator, run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("STREAMLAB_ENDPOINT_URL", sched_emulator.url)
    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path / "home"))
    prefix = unique("sch")
    # every 3 s at x60: a failed run and its 2 retries (after 1 and 2 s) end before the next run
    r = run_cli("provision", "ticker-pipeline", "--name-template", prefix + "-{service}", "--lab", prefix,
                "--schedule", "rate(3 minutes)", "--yes")
    assert r.code == 0, r.err
    c = {s: boto3.client(s, endpoint_url=sched_emulator.url, region_name="us-east-1")
         for s in ("s3", "events", "lambda", "logs", "dynamodb")}
    yield prefix, c
    assert run_cli("teardown", "--lab", prefix, "--yes").code == 0


def ticks(s3, bucket):
    """Every delivered object's trades, in delivery order."""
    keys = sorted((o["LastModified"], o["Key"]) for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    return [[json.loads(line) for line in s3.get_object(Bucket=bucket, Key=k)["Body"].read().splitlines()] for _, k in keys]


def generator_runs(logs, name):
    try:
        return len(logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"])
    except logs.exceptions.ResourceNotFoundException:
        return 0


def test_scheduled_runs_deliver_ticks_and_a_failure_reaches_sns(pipeline, run_cli):
    prefix, c = pipeline
    gen, rule, bucket = f"{prefix}-streaming-lambda", f"{prefix}-streaming-schedule", f"{prefix}-streaming-bucket"
    wait_for("3 deliveries", lambda: len(ticks(c["s3"], bucket)) >= 3, timeout=60)
    c["events"].disable_rule(Name=rule)
    time.sleep(3.5)  # the scheduler re-reads rules every 2 s; let a run in flight land
    runs = ticks(c["s3"], bucket)
    assert generator_runs(c["logs"], gen) == len(runs)  # one delivery per invocation, none lost
    assert all(sorted(t["symbol"] for t in run) == sorted(DEFAULT_SYMBOLS) for run in runs)
    last = dict(DEFAULT_SYMBOLS)
    for run in runs:  # each scheduled step moves each price by at most 0.5 %
        for t in run:
            assert abs(t["price"] / last[t["symbol"]] - 1) <= MAX_MOVE + 0.0001
            last[t["symbol"]] = t["price"]
    stored = {i["symbol"]["S"]: float(i["price"]["N"]) for i in c["dynamodb"].scan(TableName=f"{prefix}-streaming-table")["Items"]}
    assert stored == last

    # one failure: the generator's table is gone; after its 2 retries the notification goes out
    env = c["lambda"].get_function_configuration(FunctionName=gen)["Environment"]["Variables"]
    c["lambda"].update_function_configuration(FunctionName=gen, Environment={"Variables": {**env, "TABLE_NAME": "missing"}})
    before = generator_runs(c["logs"], gen)
    c["events"].enable_rule(Name=rule)
    wait_for("the first failed run", lambda: generator_runs(c["logs"], gen) > before)
    c["events"].disable_rule(Name=rule)  # no second failure chain
    topic = f"{prefix}-notification-topic"

    def notified():
        r = run_cli("local", "messages", "--topic", topic, "-o", "json")
        assert r.code == 0, r.err
        return json.loads(r.out)

    messages = wait_for("the SNS notification", notified, timeout=30)
    time.sleep(4)  # nothing else arrives
    assert len(notified()) == len(messages) == 1
    record = json.loads(messages[0]["message"]) if messages[0]["message"].startswith("{") else None
    text = messages[0]["message"]
    assert record is None and f"{gen} failed (RetriesExhausted, after 3 attempts)" in text
    assert "ResourceNotFoundException" in text

    r = run_cli("local", "logs", gen)
    assert r.code == 0, r.err
    assert r.out.count("START RequestId:") == generator_runs(c["logs"], gen)
    assert "[ERROR] ResourceNotFoundException" in r.out and "Memory Size: 128 MB" in r.out
    assert "Memory Size" not in r.err


def test_local_logs_of_an_unknown_function_is_one_line(sched_emulator, run_cli, monkeypatch):
    monkeypatch.setenv("STREAMLAB_ENDPOINT_URL", sched_emulator.url)
    r = run_cli("local", "logs", "no-such-function")
    assert r.code == 4
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert "no log group /aws/lambda/no-such-function" in r.err


def test_functions_streamlab_did_not_deploy_are_never_invoked(sched_emulator):
    """An untagged function on a scheduled rule is left alone."""
    import io
    import zipfile

    c = {s: boto3.client(s, endpoint_url=sched_emulator.url, region_name="us-east-1") for s in ("iam", "lambda", "events", "logs")}
    name = unique("foreign")
    role = c["iam"].create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("h.py", "def handler(e, c):\n    return 1\n")
    arn = c["lambda"].create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="h.handler",
                                      Code={"ZipFile": buf.getvalue()})["FunctionArn"]
    c["events"].put_rule(Name=name, ScheduleExpression="rate(1 minute)")
    c["events"].put_targets(Rule=name, Targets=[{"Id": "1", "Arn": arn}])
    time.sleep(5)  # 5 simulated minutes
    assert generator_runs(c["logs"], name) == 0


def test_demo_ticker_pipeline_ends_by_itself_leaving_nothing(tmp_path):
    """`streamlab demo --lab ticker-pipeline` as a user runs it: runs, ticks, one SNS message, 0 left."""
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "streamlab", "demo", "--lab", "ticker-pipeline", "--runs", "3"],
                       capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    last = p.stderr.strip().splitlines()[-1]
    import re

    runs, ticks = map(int, re.search(r"(\d+) scheduled runs, (\d+) ticks in S3", last).groups())
    assert runs >= 3 and ticks == runs * 5, last  # 5 symbols a run
    assert "1 failure notification(s) on SNS; 0 resources left" in last
    assert "Index_1" in p.stderr and "failed (RetriesExhausted, after 3 attempts)" in p.stderr
