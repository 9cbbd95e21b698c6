"""`streamlab status`: what exists, where it was found, and the estimated hourly cost."""

from __future__ import annotations

import json

import pytest

from streamlab.aws.ledger import Entry, Ledger
from streamlab.aws.plan import Target
from streamlab.settings import load_settings
from tests.fixtures.aws import unique


@pytest.fixture
def clean(aws_env, run_cli):
    """Status lists every streamlab-tagged stream in the emulator: start and end with none."""
    assert run_cli("teardown", "--yes").code == 0
    yield
    assert run_cli("teardown", "--yes").code == 0


def test_json_lists_what_exists_with_costs(clean, run_cli, kinesis):
    prov, od = unique("st-prov"), unique("st-od")
    assert run_cli("provision", "kinesis", "--stream", prov, "--shards", "3", "--yes", "--lab", "l1").code == 0
    assert run_cli("provision", "kinesis", "--stream", od, "--on-demand", "--yes").code == 0
    r = run_cli("status", "--output", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    rows = {row["name"]: row for row in data["resources"]}
    assert set(rows) == {prov, od}
    assert rows[prov]["hourly_usd"] == pytest.approx(0.045)  # 3 shards x $0.015
    assert rows[prov]["lab"] == "l1" and rows[prov]["state"] == "ACTIVE"
    assert rows[prov]["recorded_by"] == "ledger+tag" and rows[prov]["arn"].endswith(f"stream/{prov}")
    assert rows[od]["hourly_usd"] == pytest.approx(0.04) and rows[od]["details"] == "on-demand"
    assert data["hourly_total_usd"] == pytest.approx(0.085)
    assert data["endpoint"] and data["region"] == "us-east-1"


def test_table_and_lab_filter(clean, run_cli):
    a, b = unique("st-a"), unique("st-b")
    assert run_cli("provision", "kinesis", "--stream", a, "--yes", "--lab", "a").code == 0
    assert run_cli("provision", "kinesis", "--stream", b, "--yes", "--lab", "b").code == 0
    r = run_cli("status", "--lab", "a")
    assert r.code == 0, r.err
    assert a in r.out and b not in r.out
    assert "$0.015" in r.out and "streamlab teardown" in r.out


def test_tagged_but_unrecorded_and_recorded_but_gone(clean, run_cli, kinesis):
    tagged = unique("st-tagonly")
    kinesis.create_stream(StreamName=tagged, ShardCount=1)
    kinesis.add_tags_to_stream(StreamName=tagged, Tags={"streamlab:created-by": "streamlab", "streamlab:lab": "x"})
    gone = unique("st-gone")
    settings = load_settings()
    target = Target.open(settings)
    Ledger.for_settings(settings).record(
        Entry(kind="kinesis", name=gone, region="us-east-1", endpoint=target.scope.endpoint, account=target.scope.account)
    )
    data = json.loads(run_cli("status", "-o", "json").out)
    assert [(r["name"], r["recorded_by"]) for r in data["resources"]] == [(tagged, "tag")]
    assert data["gone_from_ledger"] == [{"kind": "kinesis", "name": gone}]
    r = run_cli("status")
    assert "recorded but already gone" in r.out and gone in r.out


def test_untagged_streams_are_not_listed(clean, run_cli, kinesis):
    name = unique("st-foreign")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    r = run_cli("status")
    assert r.code == 0
    assert name not in r.out and "nothing streamlab created exists" in r.out
    kinesis.delete_stream(StreamName=name)
