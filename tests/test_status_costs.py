"""`status` across services: costs of the ticker pipeline, EMR warnings; `teardown --emr`."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from streamlab.aws.plan import Target
from streamlab.aws.resources.events import COST_PER_RUN
from streamlab.aws.status import collect_status
from streamlab.settings import load_settings
from tests.fixtures.aws import unique


@pytest.fixture
def emr(emulator):
    client = boto3.client("emr", endpoint_url=emulator.url, region_name="us-east-1")
    made: list[str] = []

    def start(name: str, tags: dict[str, str] | None = None, instances: int = 3) -> str:
        cid = client.run_job_flow(
            Name=name, ReleaseLabel="emr-7.1.0", JobFlowRole="EMR_EC2_DefaultRole", ServiceRole="EMR_DefaultRole",
            Instances={"MasterInstanceType": "m5.xlarge", "SlaveInstanceType": "m5.xlarge", "InstanceCount": instances,
                       "KeepJobFlowAliveWhenNoSteps": True},
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        )["JobFlowId"]
        made.append(cid)
        return cid

    start.client = client
    yield start
    client.terminate_job_flows(JobFlowIds=made)


def state(client, cid):
    return client.describe_cluster(ClusterId=cid)["Cluster"]["Status"]["State"]


def test_emr_clusters_warned_and_only_tagged_ones_terminated_with_emr_flag(aws_env, run_cli, emr):
    theirs = emr(unique("users-cluster"))
    ours = emr(unique("lab-cluster"), {"streamlab:created-by": "streamlab", "streamlab:lab": "emr"}, instances=2)

    r = run_cli("status")
    assert r.code == 0, r.err
    for cid, n in ((theirs, 3), (ours, 2)):
        line = next(l for l in r.out.splitlines() if cid in l and l.startswith("warning: EMR cluster"))
        assert "WAITING" in line and f"{n} instances" in line and "up 0.0 h" in line
    data = json.loads(run_cli("status", "-o", "json").out)
    by_id = {c["id"]: c for c in data["emr_clusters"]}
    assert by_id[theirs]["streamlab"] is False and by_id[ours]["streamlab"] is True and by_id[ours]["instances"] == 2

    r = run_cli("teardown", "--yes")  # without --emr: kept, not an error
    assert r.code == 0, r.err
    assert "--emr" in r.err and state(emr.client, ours) == "WAITING"

    r = run_cli("teardown", "--emr", "--yes")
    assert r.code == 0, r.err
    assert state(emr.client, ours).startswith("TERMINAT")
    assert state(emr.client, theirs) == "WAITING"  # never touched: not tagged by streamlab


def test_cluster_age_uses_the_injected_clock(aws_env, emr):
    cid = emr(unique("aged"))
    created = emr.client.describe_cluster(ClusterId=cid)["Cluster"]["Status"]["Timeline"]["CreationDateTime"]
    st = collect_status(Target.open(load_settings()), now=lambda: created + timedelta(hours=5, minutes=30))
    [c] = [c for c in st.emr_clusters if c["id"] == cid]
    assert c["age_hours"] == pytest.approx(5.5)


def test_pipeline_status_shows_every_service_with_estimates(aws_env, run_cli):
    prefix = unique("cost")
    assert run_cli("provision", "ticker-pipeline", "--name-template", prefix + "-{service}", "--email", "x@example.com",
                   "--lab", "cost", "--yes").code == 0
    assert run_cli("provision", "kinesis", "--stream", prefix, "--shards", "2", "--lab", "cost", "--yes").code == 0
    data = json.loads(run_cli("status", "--lab", "cost", "-o", "json").out)
    rows = {(r["kind"], r["name"]): r for r in data["resources"]}
    assert {k for k, _ in rows} == {"kinesis", "s3-bucket", "dynamodb", "sns-topic", "iam-policy", "iam-role", "iam-attachment",
                                    "sns-subscription", "firehose", "lambda", "lambda-destination", "events-rule", "events-target"}
    rule = rows[("events-rule", f"{prefix}-streaming-schedule")]
    assert rule["hourly_usd"] == pytest.approx(60 * COST_PER_RUN) and "60 runs/hour" in rule["details"]
    assert 0.0002 < rule["hourly_usd"] < 0.001  # a few tenths of a cent per hour
    assert rows[("kinesis", prefix)]["hourly_usd"] == pytest.approx(0.03)
    assert rows[("firehose", f"{prefix}-streaming-delivery")]["hourly_usd"] == 0.0
    assert "$0.029/GB" in rows[("firehose", f"{prefix}-streaming-delivery")]["details"]
    assert rows[("dynamodb", f"{prefix}-streaming-table")]["hourly_usd"] == 0.0
    assert all(r["hourly_usd"] is not None for r in rows.values())
    assert data["hourly_total_usd"] == pytest.approx(0.03 + 60 * COST_PER_RUN, abs=1e-6)
    table = run_cli("status", "--lab", "cost")
    assert "<$0.001" in table.out and "$0.030" in table.out
    assert run_cli("teardown", "--lab", "cost", "--yes").code == 0
    assert json.loads(run_cli("status", "--lab", "cost", "-o", "json").out)["resources"] == []
