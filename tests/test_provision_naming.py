"""Naming templates, the Mermaid diagram and the --public-read bucket policy."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from streamlab.aws.naming import Namer
from streamlab.errors import ConfigError
from streamlab.testing import assert_one_line
from tests.fixtures.aws import unique

COURSE = ["--name-template", "DE{FIRST3}{LAST3}-{service}", "--first-name", "Dorothy", "--last-name", "Expert"]


def test_course_convention():
    n = Namer("DE{FIRST3}{LAST3}-{service}", "Dorothy", "Expert")
    assert n.name("streaming-lambda") == "DEDOREXP-streaming-lambda"
    assert n.bucket("streaming-bucket") == "dedorexp-streaming-bucket"  # S3 wants lower case
    assert Namer("{first3}{last3}_{service}", "Dorothy", "Expert").name("x") == "DorExp_x"
    assert Namer().name("alerts") == "streamlab-alerts"
    assert Namer(lab="l1", account="111122223333").name("x") == "streamlab-x"
    assert Namer("{lab}-{account}-{service}", lab="l1", account="111122223333").name("x") == "l1-111122223333-x"


def test_default_bucket_is_unique_per_account_and_region():
    from streamlab.aws.blueprints import default_bucket

    # S3 names are global: a fixed default would be taken by the first user on real AWS
    assert default_bucket(Namer(account="111122223333", region="eu-west-1")) == "streamlab-streaming-bucket-111122223333-eu-west-1"
    # a template the user chose is theirs to make unique (the course's DE{FIRST3}{LAST3}- is)
    assert default_bucket(Namer("DE{FIRST3}{LAST3}-{service}", "Dorothy", "Expert")) == "dedorexp-streaming-bucket"


@pytest.mark.parametrize(
    "template, first, message",
    [
        ("DE{NICK}-{service}", "Dorothy", "unknown field {NICK}"),
        ("DE{FIRST3}", "Dorothy", "has no {service}"),
        ("DE{FIRST3}-{service}", None, "--first-name is not set"),
        ("DE{FIRST3-{service}", "Dorothy", "bad --name-template"),
    ],
)
def test_bad_templates_are_one_line(template, first, message):
    with pytest.raises(ConfigError) as exc:
        Namer(template, first, None)
    assert_one_line(exc.value.one_line(), message)


def test_bad_template_on_the_command_line(run_cli):
    r = run_cli("provision", "ticker-pipeline", "--name-template", "X-{nope}-{service}", "--diagram")
    assert r.code == 2 and "unknown field {nope}" in r.err and "Traceback" not in r.err


def parse_mermaid(text: str):
    """-> ({id: (label, name)}, {(src name, label, dst name, arrow)})"""
    nodes, edges = {}, set()
    for line in text.splitlines():
        m = re.match(r'^\s+(n\d+)[\[\(]+"(.+)<br/>(.+)"[\]\)]+$', line)
        if m:
            nodes[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = re.match(r'^\s+(n\d+) (-->|==>|-\.->)\|"(.+)"\| (n\d+)$', line)
        if m:
            edges.add((nodes[m.group(1)][1], m.group(3), nodes[m.group(4)][1], m.group(2)))
    return nodes, edges


def test_pipeline_diagram_has_every_resource_and_flow(run_cli, monkeypatch):
    # No emulator and no endpoint: --diagram must not call AWS at all.
    monkeypatch.delenv("STREAMLAB_ENDPOINT_URL", raising=False)
    r = run_cli("provision", "ticker-pipeline", *COURSE, "--email", "a@example.com", "--email", "b@example.com", "--diagram")
    assert r.code == 0, r.err
    assert r.out.startswith("flowchart LR\n")
    nodes, edges = parse_mermaid(r.out)
    P = "DEDOREXP-"
    names = {name for _, name in nodes.values()}
    assert names == {
        P + "streaming-table", P + "notification-topic", "dedorexp-streaming-bucket",
        P + "streaming-delivery-policy", P + "streaming-delivery-role", P + "streaming-delivery",
        P + "streaming-lambda-policy", P + "streaming-lambda-role", P + "streaming-lambda",
        P + "notification-lambda-policy", P + "notification-lambda-role", P + "notification-lambda",
        P + "streaming-schedule",
        P + "notification-topic/email:a@example.com", P + "notification-topic/email:b@example.com",
    }
    data, alert, access = "-->", "==>", "-.->"
    expected = {
        (P + "streaming-schedule", "invokes: rate(1 minute)", P + "streaming-lambda", data),  # the EventBridge target
        (P + "streaming-lambda", "reads, moves, writes prices", P + "streaming-table", data),
        (P + "streaming-lambda", "PutRecordBatch ticks", P + "streaming-delivery", data),
        (P + "streaming-delivery", "delivers objects to ticker/", "dedorexp-streaming-bucket", data),
        (P + "streaming-lambda", "on failure", P + "notification-lambda", alert),  # the Lambda destination
        (P + "notification-lambda", "publish alert", P + "notification-topic", alert),
        (P + "notification-topic", "email", P + "notification-topic/email:a@example.com", alert),
        (P + "notification-topic", "email", P + "notification-topic/email:b@example.com", alert),
    }
    for fn in ("streaming-delivery", "streaming-lambda", "notification-lambda"):  # the three attachments + roles
        expected.add((P + fn + "-policy", "attached to", P + fn + "-role", access))
        expected.add((P + fn + "-role", "assumed by", P + fn, access))
    assert edges == expected


def test_diagram_of_iam_and_firehose(run_cli):
    r = run_cli("provision", "iam", "--diagram")
    assert "https://mermaid.live" in r.err and "mermaid.live" not in r.out  # where to see it; stdout is the diagram alone
    nodes, edges = parse_mermaid(r.out)
    assert edges == {("AmazonKinesisFullAccess", "attached to", "EMR_EC2_DefaultRole", "-.->")}
    r = run_cli("provision", "firehose", "--name", "ticks", "--bucket", "my-bucket", "--diagram")
    nodes, edges = parse_mermaid(r.out)
    assert ("ticks", "delivers objects to /", "my-bucket", "-->") in edges


def test_public_read_is_read_only_for_authenticated_principals(aws_env, emulator, run_cli):
    name = unique("pub")
    r = run_cli("provision", "bucket", "--name", name, "--public-read", "--yes")
    assert r.code == 0, r.err
    assert "warning: --public-read: ANY authenticated AWS account" in r.err
    s3 = boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")
    policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    actions = set()
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow"
        assert st["Principal"] == {"AWS": "*"}  # never the bare "*" of anonymous access
        assert st["Condition"] == {"Null": {"aws:PrincipalAccount": "false"}}  # signed requests only
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        actions |= set(acts)
    assert actions == {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}
    assert not [a for a in actions if re.search(r"Put|Delete|\*|Write|Acl|Policy", a)]
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    assert run_cli("teardown", "--yes").code == 0


def test_buckets_are_private_without_the_flag(aws_env, emulator, run_cli):
    name = unique("priv")
    r = run_cli("provision", "bucket", "--name", name, "--yes")
    assert r.code == 0 and "--public-read" not in r.err
    s3 = boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=name)
    assert run_cli("teardown", "--yes").code == 0


def test_reprovisioning_a_public_bucket_without_the_flag_makes_it_private(aws_env, emulator, run_cli):
    name = unique("repub")
    assert run_cli("provision", "bucket", "--name", name, "--public-read", "--yes").code == 0
    s3 = boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1")
    s3.put_object(Bucket=name, Key="data/a.txt", Body=b"kept")
    plan = run_cli("provision", "bucket", "--name", name, "--dry-run")
    said = " ".join(plan.err.split())
    assert plan.code == 0 and "update" in said and "make it private" in said and "left as is" not in said, said
    r = run_cli("provision", "bucket", "--name", name, "--yes")
    assert r.code == 0, r.err
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=name)
    assert s3.get_object(Bucket=name, Key="data/a.txt")["Body"].read() == b"kept"
    # and back: --public-read again is an update row too
    again = run_cli("provision", "bucket", "--name", name, "--public-read", "--yes")
    assert again.code == 0 and "update" in again.err
    assert json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
    assert run_cli("teardown", "--yes").code == 0


@pytest.mark.parametrize("name", ["Upper_Case", "ab", "-starts-with-dash"])
def test_bad_bucket_names_are_one_line(aws_env, run_cli, name):
    r = run_cli("provision", "bucket", "--name", name, "--yes")
    assert r.code == 2
    assert_one_line(r.err, "invalid S3 bucket name")
