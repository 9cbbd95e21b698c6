"""The serverless lab's handlers, run as plain functions against the emulator's DynamoDB, Firehose and
SNS (Lambda invoke needs Docker, which is absent), on resources made by `provision ticker-pipeline`.
And the zip streamlab deploys: small, deterministic, importable without streamlab's dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from decimal import Decimal
import io

import boto3
import pytest

from streamlab.lambdas import notify, ticker_generator
from streamlab.lambdas.package import FILES, build_zip, code_sha256
from streamlab.random_walk import DEFAULT_SYMBOLS
from streamlab.records import Trade
from tests.fixtures.aws import unique


def client(emulator, service):
    return boto3.client(service, endpoint_url=emulator.url, region_name="us-east-1")


@pytest.fixture
def pipeline(aws_env, emulator, run_cli, monkeypatch):
    """A provisioned ticker pipeline; the handlers' environment as Lambda would set it."""
    prefix = unique("lam")
    r = run_cli("provision", "ticker-pipeline", "--name-template", prefix + "-{service}",
                "--first-name", "Dorothy", "--last-name", "Expert", "--yes")
    assert r.code == 0, r.err
    names = {
        "table": f"{prefix}-streaming-table",
        "stream": f"{prefix}-streaming-delivery",
        "bucket": f"{prefix}-streaming-bucket",
        "topic": f"arn:aws:sns:us-east-1:123456789012:{prefix}-notification-topic",
        "generator": f"{prefix}-streaming-lambda",
        "notifier": f"{prefix}-notification-lambda",
    }
    lam = client(emulator, "lambda")
    for fn in ("generator", "notifier"):  # the handlers get exactly the environment provision deployed
        env = lam.get_function(FunctionName=names[fn])["Configuration"]["Environment"]["Variables"]
        names[fn + "_env"] = env
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)  # what boto3 inside the handler picks up
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield names
    assert run_cli("teardown", "--yes").code == 0


def table_prices(emulator, table):
    items = client(emulator, "dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["symbol"]["S"]: Decimal(i["price"]["N"]) for i in items}


def delivered(emulator, bucket, prefix="ticker/"):
    s3 = client(emulator, "s3")
    lines = []
    for obj in sorted(s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []), key=lambda o: o["Key"]):
        lines += s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode().splitlines()
    return [Trade.from_json(line) for line in lines if line]


def test_generator_moves_every_price_writes_it_back_and_delivers_it(pipeline, emulator, monkeypatch):
    for k, v in pipeline["generator_env"].items():
        monkeypatch.setenv(k, v)
    seeded = table_prices(emulator, pipeline["table"])
    assert seeded == {s: Decimal(str(p)) for s, p in DEFAULT_SYMBOLS.items()}  # Index_1..5 at 100..60
    out = ticker_generator.handler({"source": "aws.events"}, None)
    assert out["records"] == 5
    after = table_prices(emulator, pipeline["table"])
    for sym, old in seeded.items():
        assert abs(after[sym] - old) <= old * Decimal("0.005") + Decimal("0.005")  # one step: <= 0.5 %, cents
        assert after[sym] == after[sym].quantize(Decimal("0.01"))
    trades = delivered(emulator, pipeline["bucket"])
    assert sorted(t.symbol for t in trades) == sorted(DEFAULT_SYMBOLS)
    assert {t.symbol: Decimal(str(t.price)) for t in trades} == after  # what was stored is what was sent
    assert all(t.source == "synthetic" and t.volume is None and t.event_time == t.ingest_time for t in trades)

    ticker_generator.handler({}, None)  # the next run starts from the stored prices
    assert len(delivered(emulator, pipeline["bucket"])) == 10


def test_generator_uses_the_synthetic_sources_step(pipeline, emulator):
    import random

    from streamlab.sources.synthetic import step

    assert ticker_generator.step is step
    seeded = table_prices(emulator, pipeline["table"])
    ddb, fh = client(emulator, "dynamodb"), client(emulator, "firehose")
    trades = ticker_generator.run(ddb, fh, pipeline["table"], pipeline["stream"], random.Random(7), clock=lambda: 1764000000.0)
    rng = random.Random(7)
    expected = {sym: step(float(seeded[sym]), rng) for sym in sorted(seeded)}
    assert {t.symbol: t.price for t in trades} == expected
    assert {t.event_time for t in trades} == {1764000000000}


def test_generator_fails_loudly_when_firehose_is_missing(pipeline, emulator, monkeypatch):
    """A failed run must raise: that is what sends the event to the on-failure destination."""
    for k, v in pipeline["generator_env"].items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("DELIVERY_STREAM", "no-such-stream")
    with pytest.raises(Exception, match="no-such-stream|not found|ResourceNotFound"):
        ticker_generator.handler({}, None)


def test_notifier_publishes_the_owners_name_to_the_topic(pipeline, emulator, monkeypatch):
    for k, v in pipeline["notifier_env"].items():
        monkeypatch.setenv(k, v)
    sqs, sns = client(emulator, "sqs"), client(emulator, "sns")
    queue = sqs.create_queue(QueueName=unique("alerts"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=pipeline["topic"], Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    failure = {  # what Lambda sends an on-failure destination
        "version": "1.0",
        "requestContext": {"functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{pipeline['generator']}:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "responsePayload": {"errorType": "RuntimeError", "errorMessage": "Firehose rejected 5 of 5 records"},
    }
    try:
        out = notify.handler(failure, None)
        assert out["message_id"]
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        [body] = [json.loads(m["Body"]) for m in msgs]
        assert body["Subject"] == f"streamlab alert for Dorothy Expert: {pipeline['generator']} failed"
        assert body["Message"].startswith("Hello Dorothy Expert,")
        assert "RetriesExhausted, after 3 attempts" in body["Message"] and "Firehose rejected 5 of 5 records" in body["Message"]
    finally:
        sns.unsubscribe(SubscriptionArn=sub)
        sqs.delete_queue(QueueUrl=queue)


def test_zip_is_small_deterministic_and_needs_nothing_but_boto3(tmp_path):
    data = build_zip()
    assert data == build_zip.__wrapped__()  # same bytes when built again
    assert len(data) < 20_000
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == list(FILES)
    path = tmp_path / "code.zip"
    path.write_bytes(data)
    # Import the handlers from the zip alone, with no site-packages (-S) and no streamlab install
    # (-I): proves the zip carries everything they import at load time (boto3 is the runtime's).
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import streamlab.lambdas.ticker_generator as g, streamlab.lambdas.notify as n;"
        "assert g.__file__.startswith(sys.argv[1]);"
        "bad = [m for m in ('click', 'pydantic', 'rich', 'boto3') if m in sys.modules]; assert not bad, bad;"
        "print(g.step(100.0, __import__('random').Random(1)))"
    )
    r = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert 99.5 <= float(r.stdout) <= 100.5


def test_deployed_handler_strings_resolve_inside_the_deployed_zip(pipeline, emulator, tmp_path):
    """Each function's Handler ("module.attr"), as Lambda has it, names a callable of the zip Lambda
    runs (the same bytes: CodeSha256 matches), imported from that zip alone."""
    lam = client(emulator, "lambda")
    handlers = []
    for fn in ("generator", "notifier"):
        conf = lam.get_function(FunctionName=pipeline[fn])["Configuration"]
        assert conf["CodeSha256"] == code_sha256()
        handlers.append(conf["Handler"])
    assert len(set(handlers)) == 2
    path = tmp_path / "code.zip"
    path.write_bytes(build_zip())
    probe = (
        "import importlib, sys; sys.path.insert(0, sys.argv[1])\n"
        "for h in sys.argv[2:]:\n"
        "    module, _, attr = h.rpartition('.')\n"
        "    m = importlib.import_module(module)\n"
        "    assert m.__file__.startswith(sys.argv[1]), m.__file__\n"
        "    assert callable(getattr(m, attr)), h\n"
    )
    r = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(path), *handlers], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
