"""Every provisionable kind against the moto server: provision -> status -> teardown -> nothing left.

"Nothing left" is checked with a census of the services themselves (tests/fixtures/census.py), not
the ledger: after teardown the emulator must hold exactly what it held before provisioning.
"""

from __future__ import annotations

import json

import boto3
import pytest

from streamlab.aws.plan import Target
from streamlab.aws.provision import apply_provision, plan_provision
from streamlab.aws import blueprints
from streamlab.aws.naming import Namer
from streamlab.aws.resources.common import Arns
from streamlab.aws.resources.iam import IamPolicy
from streamlab.settings import load_settings
from streamlab.testing import FixedClock, assert_one_line
from tests.fixtures.aws import unique


def client(emulator, service):
    return boto3.client(service, endpoint_url=emulator.url, region_name="us-east-1")


def ensure_emr_role(emulator, name="EMR_EC2_DefaultRole"):
    iam = client(emulator, "iam")
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    return iam


def pipeline_args(prefix: str, *extra: str) -> list[str]:
    return ["provision", "ticker-pipeline", "--name-template", prefix + "-{service}", "--email", "ops@example.com", *extra]


def cases(prefix: str) -> dict[str, list[str]]:
    return {
        "kinesis": ["provision", "kinesis", "--stream", prefix, "--shards", "2", "--retention-hours", "48"],
        "iam": ["provision", "iam"],
        "iam-least-privilege": ["provision", "iam", "--least-privilege", "--stream", prefix, "--name-template", prefix + "-{service}"],
        "bucket": ["provision", "bucket", "--name", prefix],
        "bucket-public-read": ["provision", "bucket", "--name", prefix, "--public-read"],
        "firehose": ["provision", "firehose", "--name", prefix, "--bucket", prefix + "-dest", "--prefix", "ticks/"],
        "ticker-pipeline": pipeline_args(prefix),
        "alerts": ["provision", "alerts", "--topic", prefix, "--email", "ops@example.com"],
    }


@pytest.mark.parametrize("case", list(cases("x")))
def test_provision_status_teardown_leaves_exactly_what_was_there(case, aws_env, emulator, run_cli, census, tmp_path):
    ensure_emr_role(emulator)
    prefix = unique("pk")
    before = census()
    args = cases(prefix)[case]

    r = run_cli(*args, "--yes")
    assert r.code == 0, r.err
    created = census() - before
    assert created, "provision created nothing"
    assert not (before - census()), "provision removed something"

    st = run_cli("status", "--output", "json")
    assert st.code == 0, st.err
    listed = {(row["kind"], row["name"]) for row in json.loads(st.out)["resources"]}
    ledger = json.loads((tmp_path / "home" / "ledger.json").read_text())["entries"]
    assert {(e["kind"], e["name"]) for e in ledger} <= listed  # everything recorded is shown

    again = run_cli(*args, "--yes")  # provision twice = one set
    assert again.code == 0, again.err
    assert "nothing to create" in again.err
    assert census() - before == created
    assert len(json.loads((tmp_path / "home" / "ledger.json").read_text())["entries"]) == len(ledger)

    td = run_cli("teardown", "--yes")
    assert td.code == 0, td.err
    assert "left: 0" in td.err
    assert census() == before
    assert json.loads((tmp_path / "home" / "ledger.json").read_text())["entries"] == []
    td2 = run_cli("teardown", "--yes")  # teardown twice = no error
    assert td2.code == 0, td2.err
    assert "nothing to do" in td2.err
    assert json.loads(run_cli("status", "--output", "json").out)["resources"] == []


def test_every_resource_of_the_pipeline_is_tagged_or_recorded(aws_env, emulator, run_cli, census, tmp_path):
    prefix = unique("pt")
    before = census()
    assert run_cli(*pipeline_args(prefix, "--lab", "serverless"), "--yes").code == 0
    created = census() - before
    kinds = sorted({c.split(":")[0] + ":" + c.split(":")[1] for c in created})
    assert kinds == ["dynamodb:table", "events:rule", "events:target", "firehose:stream", "iam:attachment", "iam:policy",
                     "iam:role", "lambda:function", "lambda:invoke-config", "s3:bucket", "sns:subscription", "sns:topic"]
    tagging = {
        "dynamodb:table": lambda n: client(emulator, "dynamodb").list_tags_of_resource(
            ResourceArn=client(emulator, "dynamodb").describe_table(TableName=n)["Table"]["TableArn"])["Tags"],
        "iam:role": lambda n: client(emulator, "iam").list_role_tags(RoleName=n)["Tags"],
        "iam:policy": lambda n: client(emulator, "iam").list_policy_tags(PolicyArn=n)["Tags"],
        "s3:bucket": lambda n: client(emulator, "s3").get_bucket_tagging(Bucket=n)["TagSet"],
        "sns:topic": lambda n: client(emulator, "sns").list_tags_for_resource(ResourceArn=n)["Tags"],
        "firehose:stream": lambda n: client(emulator, "firehose").list_tags_for_delivery_stream(DeliveryStreamName=n)["Tags"],
        "events:rule": lambda n: client(emulator, "events").list_tags_for_resource(
            ResourceARN=client(emulator, "events").describe_rule(Name=n)["Arn"])["Tags"],
        "lambda:function": lambda n: [{"Key": k, "Value": v} for k, v in client(emulator, "lambda").list_tags(
            Resource=client(emulator, "lambda").get_function(FunctionName=n)["Configuration"]["FunctionArn"])["Tags"].items()],
    }
    for c in created:
        service, kind, name = c.split(":", 2)
        if f"{service}:{kind}" in tagging:
            tags = {t["Key"]: t["Value"] for t in tagging[f"{service}:{kind}"](name)}
            assert tags.get("streamlab:created-by") == "streamlab" and tags.get("streamlab:lab") == "serverless", c
    entries = json.loads((tmp_path / "home" / "ledger.json").read_text())["entries"]
    assert len(entries) == len(created) and all(e["arn"] for e in entries)
    assert {e["lab"] for e in entries} == {"serverless"}
    assert run_cli("teardown", "--lab", "serverless", "--yes").code == 0
    assert census() == before


def test_lookalikes_and_preexisting_attachments_survive(aws_env, emulator, run_cli, census):
    prefix = unique("look")
    iam = ensure_emr_role(emulator)
    kinesis_full = "arn:aws:iam::aws:policy/AmazonKinesisFullAccess"
    s3_read = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    # A role of the user's with the user's own attachment, and one that already has Kinesis access.
    iam.attach_role_policy(RoleName="EMR_EC2_DefaultRole", PolicyArn=s3_read)
    other_role = prefix + "-users-role"
    iam.create_role(RoleName=other_role, AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName=other_role, PolicyArn=kinesis_full)
    # Same-prefix resources without the streamlab tag.
    s3, ddb, sns = client(emulator, "s3"), client(emulator, "dynamodb"), client(emulator, "sns")
    s3.create_bucket(Bucket=f"{prefix}-streaming-bucket-copy")
    ddb.create_table(TableName=f"{prefix}-streaming-table-copy", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    sns.create_topic(Name=f"{prefix}-notification-topic-copy")
    iam.create_role(RoleName=f"{prefix}-streaming-lambda-role-copy", AssumeRolePolicyDocument="{}")
    lookalikes = census()

    assert run_cli(*pipeline_args(prefix), "--yes").code == 0
    assert run_cli("provision", "iam", "--yes").code == 0  # streamlab attaches Kinesis access to EMR's role
    r = run_cli("provision", "iam", "--role", other_role, "--yes")  # already attached by the user
    assert r.code == 0, r.err
    assert f"using IAM policy attachment {other_role}/AmazonKinesisFullAccess, which streamlab did not create" in r.err

    td = run_cli("teardown", "--yes")
    assert td.code == 0, td.err
    after = census()
    assert after == lookalikes
    emr_policies = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="EMR_EC2_DefaultRole")["AttachedPolicies"]}
    assert s3_read in emr_policies and kinesis_full not in emr_policies
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=other_role)["AttachedPolicies"]] == [kinesis_full]
    iam.detach_role_policy(RoleName="EMR_EC2_DefaultRole", PolicyArn=s3_read)


def test_existing_resource_not_ours_is_refused(aws_env, emulator, run_cli, census):
    name = unique("foreign")
    client(emulator, "s3").create_bucket(Bucket=name)
    r = run_cli("provision", "bucket", "--name", name, "--yes")
    assert r.code == 2 and "streamlab did not create it" in r.err and "Traceback" not in r.err
    # ...but a Firehose may write into it: used as is, never recorded, never deleted.
    before = census()
    r = run_cli("provision", "firehose", "--name", name, "--bucket", name, "--yes")
    assert r.code == 0, r.err
    assert run_cli("teardown", "--yes").code == 0
    assert census() == before


def test_reprovision_updates_lambda_code_from_an_older_streamlab(aws_env, emulator, run_cli, census):
    import io
    import zipfile

    from streamlab.lambdas.package import code_sha256

    before = census()
    prefix = unique("upd")
    assert run_cli(*pipeline_args(prefix), "--yes").code == 0
    lam, fn, other = client(emulator, "lambda"), f"{prefix}-streaming-lambda", f"{prefix}-notification-lambda"
    arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    other_conf = lam.get_function(FunctionName=other)["Configuration"]
    # as deployed by an older streamlab: other code, another memory size
    old = io.BytesIO()
    with zipfile.ZipFile(old, "w") as zf:
        zf.writestr("streamlab_lambdas/generator.py", "def handler(event, context):\n    return 'old'\n")
    lam.update_function_code(FunctionName=fn, ZipFile=old.getvalue())
    lam.update_function_configuration(FunctionName=fn, MemorySize=256)
    assert lam.get_function(FunctionName=fn)["Configuration"]["CodeSha256"] != code_sha256()

    plan = run_cli(*pipeline_args(prefix), "--dry-run")
    assert plan.code == 0, plan.err
    updates = [line for line in plan.err.splitlines() if line.startswith("│ update")]
    assert len(updates) == 1 and f"{fn} " in updates[0], plan.err
    assert "will update: code" in plan.err and "memory" in plan.err

    r = run_cli(*pipeline_args(prefix), "--yes")
    assert r.code == 0, r.err
    assert f"updated Lambda function {fn}" in r.err
    conf = lam.get_function(FunctionName=fn)["Configuration"]
    assert conf["CodeSha256"] == code_sha256() and conf["MemorySize"] == 128
    assert conf["FunctionArn"] == arn  # the same function, updated in place
    assert lam.get_function(FunctionName=other)["Configuration"]["CodeSha256"] == other_conf["CodeSha256"]
    again = run_cli(*pipeline_args(prefix), "--yes")  # converged: nothing left to change
    assert again.code == 0 and "updating" not in again.err
    assert run_cli("teardown", "--yes").code == 0
    assert census() == before


def test_without_the_ledger_status_finds_the_pipeline_by_tag_and_no_lookalike(aws_env, emulator, run_cli, census, tmp_path):
    """Each kind lists the account's resources and keeps those with streamlab's tag (looked up side
    by side); others' resources of every kind, next to ours, must not be taken for ours."""
    from streamlab.aws.resources import KINDS

    prefix = unique("tagonly")
    s3, kinesis, ddb, sns, events = (client(emulator, s) for s in ("s3", "kinesis", "dynamodb", "sns", "events"))
    others = [f"{prefix}-other-{i}" for i in range(3)]
    for name in others:  # no streamlab tag: someone else's
        s3.create_bucket(Bucket=name)
        kinesis.create_stream(StreamName=name, ShardCount=1)
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        sns.create_topic(Name=name)
        events.put_rule(Name=name, ScheduleExpression="rate(1 hour)")
    before = census()
    assert run_cli(*pipeline_args(prefix), "--yes").code == 0
    ledger = tmp_path / "home" / "ledger.json"
    recorded = {(e["kind"], e["name"]) for e in json.loads(ledger.read_text())["entries"]}
    taggable = {(k, n) for k, n in recorded if KINDS[k].taggable}
    assert len(taggable) >= 8  # roles, policies, table, bucket, delivery, functions, rule, topic

    kept = ledger.read_text()
    ledger.unlink()  # lost: only the tags say what is streamlab's
    st = run_cli("status", "--output", "json")
    assert st.code == 0, st.err
    listed = {(row["kind"], row["name"]) for row in json.loads(st.out)["resources"] if prefix in row["name"].lower()}
    assert listed == taggable

    ledger.write_text(kept)
    assert run_cli("teardown", "--yes").code == 0
    assert census() == before
    for name in others:
        s3.delete_bucket(Bucket=name)
        kinesis.delete_stream(StreamName=name)
        ddb.delete_table(TableName=name)
        sns.delete_topic(TopicArn=sns.create_topic(Name=name)["TopicArn"])
        events.delete_rule(Name=name)


class FailingPolicy(IamPolicy):
    """IAM refusing the 4th resource (the first policy): the run stops half-way."""

    def create(self, spec, tags):
        raise RuntimeError("injected failure")


def test_crash_after_the_third_resource_is_still_torn_down(aws_env, run_cli, census):
    before = census()
    settings = load_settings()
    target = Target.open(settings)
    target.kinds["iam-policy"] = FailingPolicy(target.aws)
    arns = Arns(target.scope.region, target.scope.account)
    bp = blueprints.ticker_pipeline(Namer(unique("crash") + "-{service}"), arns, ["a@example.com"])
    plan = plan_provision(target, bp.specs, "default")
    assert [r.action for r in plan.rows[:4]] == ["create"] * 4 and plan.rows[3].kind == "iam-policy"
    with pytest.raises(RuntimeError, match="injected failure"):
        apply_provision(target, plan, "default")
    created = census() - before
    assert len(created) == 3
    assert {e.name for e in target.ledger.entries()} == {r.name for r in plan.rows[:3]}
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert census() == before


def test_keep_bucket_keeps_it_with_its_objects(aws_env, emulator, run_cli, census):
    name = unique("keep")
    before = census()
    assert run_cli("provision", "bucket", "--name", name, "--yes").code == 0
    client(emulator, "s3").put_object(Bucket=name, Key="data/one.json", Body=b"{}")
    r = run_cli("teardown", "--keep-bucket", "--yes")
    assert r.code == 0, r.err
    assert f"kept 1 (s3-bucket {name})" in r.err and "left: 0" in r.err
    assert {f"s3:bucket:{name}", f"s3:object:{name}/data/one.json"} <= census()
    r = run_cli("teardown", "--yes")  # now emptied and deleted
    assert r.code == 0, r.err
    assert census() == before


def test_lab_and_all_together_is_one_line(aws_env, run_cli):
    r = run_cli("teardown", "--lab", "x", "--all", "--yes")
    assert r.code == 2
    assert_one_line(r.err, "--lab and --all cannot be used together")


def test_iam_needs_an_existing_role(aws_env, run_cli):
    r = run_cli("provision", "iam", "--role", unique("no-such-role"), "--yes")
    assert r.code == 4 and "not found" in r.err and "Traceback" not in r.err


def test_least_privilege_policy_allows_only_the_stream(aws_env, emulator, run_cli):
    ensure_emr_role(emulator)
    stream = unique("lp")
    r = run_cli("provision", "iam", "--least-privilege", "--stream", stream, "--yes")
    assert r.code == 0, r.err
    iam = client(emulator, "iam")
    [pol] = [p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == f"streamlab-{stream}-kinesis-access"]
    doc = iam.get_policy_version(PolicyArn=pol["Arn"], VersionId=pol["DefaultVersionId"])["PolicyVersion"]["Document"]
    [st] = doc["Statement"]
    assert sorted(st["Action"]) == sorted(["kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetShardIterator",
                                           "kinesis:GetRecords", "kinesis:PutRecord", "kinesis:PutRecords"])
    assert st["Resource"] == f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}" and st["Effect"] == "Allow"
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="EMR_EC2_DefaultRole")["AttachedPolicies"]]
    assert pol["Arn"] in attached
    assert run_cli("teardown", "--yes").code == 0
    assert pol["Arn"] not in [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="EMR_EC2_DefaultRole")["AttachedPolicies"]]
    iam.get_role(RoleName="EMR_EC2_DefaultRole")  # never deleted


def test_kinesis_plan_shows_mode_retention_and_cost(aws_env, run_cli, kinesis):
    name = unique("kret")
    r = run_cli("provision", "kinesis", "--stream", name, "--shards", "2", "--retention-hours", "48", "--dry-run")
    assert r.code == 0, r.err
    assert "2 shards, provisioned, 48 h retention" in r.err and "$0.070" in r.err  # 2 x (0.015 + 0.02)
    r = run_cli("provision", "kinesis", "--stream", name, "--on-demand", "--dry-run")
    assert "on-demand" in r.err and "$0.040" in r.err
    assert run_cli("provision", "kinesis", "--stream", name, "--retention-hours", "48", "--yes").code == 0
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
    assert run_cli("teardown", "--yes").code == 0


def test_new_role_not_yet_assumable_is_retried_with_bounded_wait():
    """AWS (unlike the emulator) may refuse a role created seconds ago; Lambda/Firehose creates retry."""
    from botocore.exceptions import ClientError

    from streamlab.aws.resources.base import ResourceKind, WaitTimeout
    from streamlab.aws.resources.common import retry_role_propagation

    clock = FixedClock(0.0)
    kind = ResourceKind(aws=None, sleep=clock.sleep, clock=clock, wait_seconds=10)
    not_yet = ClientError({"Error": {"Code": "InvalidParameterValueException",
                                     "Message": "The role defined for the function cannot be assumed by Lambda."}}, "CreateFunction")
    calls = []

    def flaky():
        calls.append(clock())
        if len(calls) < 3:
            raise not_yet
        return {"FunctionArn": "arn:x"}

    assert retry_role_propagation(kind, flaky, "Lambda", ("InvalidParameterValueException",)) == {"FunctionArn": "arn:x"}
    assert calls == [0.0, 2.0, 4.0]

    def other():
        raise ClientError({"Error": {"Code": "InvalidParameterValueException", "Message": "Runtime is not supported"}}, "CreateFunction")

    with pytest.raises(ClientError, match="Runtime"):  # anything else fails at once
        retry_role_propagation(kind, other, "Lambda", ("InvalidParameterValueException",))

    def never():
        raise not_yet

    with pytest.raises(WaitTimeout):
        retry_role_propagation(kind, never, "Lambda", ("InvalidParameterValueException",))


@pytest.mark.parametrize("region,shards,quota", [("us-east-1", 501, 500), ("eu-central-1", 201, 200)])
def test_shards_beyond_the_default_quota_warn_before_the_plan(aws_env, run_cli, region, shards, quota):
    name = unique("kquota")
    r = run_cli("provision", "kinesis", "--stream", name, "--shards", str(shards), "--region", region, "--dry-run")
    assert r.code == 0, r.err
    said = " ".join(r.err.split())
    warned = f"warning: --shards {shards} is above the default Kinesis quota of {quota} shards per account in {region}"
    assert warned in said and said.index(warned) < said.index("provision plan")
    within = run_cli("provision", "kinesis", "--stream", name, "--shards", str(quota), "--region", region, "--dry-run")
    assert within.code == 0 and "warning" not in within.err
