"""`streamlab provision kinesis` against the moto server: plan, tags, ledger, idempotence, refusals."""

from __future__ import annotations

import json

import pytest

from streamlab.aws.ledger import Ledger
from streamlab.aws.plan import Target
from streamlab.aws.provision import apply_provision, plan_provision
from streamlab.aws.resources import Spec
from streamlab.aws.resources.base import ResourceKind, WaitTimeout
from streamlab.aws.resources.kinesis import KinesisStream
from streamlab.settings import load_settings
from streamlab.testing import FixedClock, assert_one_line
from tests.fixtures.aws import unique


def tags_of(kinesis, name):
    return {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]}


def names(kinesis):
    return kinesis.list_streams()["StreamNames"]


def ledger_entries(tmp_path):
    path = tmp_path / "home" / "ledger.json"
    return json.loads(path.read_text())["entries"] if path.exists() else []


def test_dry_run_prints_plan_and_creates_nothing(aws_env, run_cli, kinesis, tmp_path):
    name = unique("prov-dry")
    r = run_cli("provision", "kinesis", "--stream", name, "--shards", "2", "--dry-run")
    assert r.code == 0, r.err
    assert "create" in r.err and name in r.err and "2 shards" in r.err and "$0.030" in r.err
    assert "dry run: nothing was changed" in r.err
    assert name not in names(kinesis)
    assert ledger_entries(tmp_path) == []


def test_provision_waits_tags_and_records(aws_env, run_cli, kinesis, tmp_path):
    name = unique("prov-new")
    r = run_cli("provision", "kinesis", "--stream", name, "--yes", "--lab", "finnhub")
    assert r.code == 0, r.err
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE" and summary["OpenShardCount"] == 1
    assert tags_of(kinesis, name) == {"streamlab:lab": "finnhub", "streamlab:created-by": "streamlab"}
    [entry] = ledger_entries(tmp_path)
    assert entry["kind"] == "kinesis" and entry["name"] == name and entry["lab"] == "finnhub"
    assert entry["arn"] == summary["StreamARN"]
    assert entry["endpoint"] == aws_env.url and entry["region"] == "us-east-1"
    assert entry["extra"] == {"mode": "PROVISIONED", "shards": 1, "retention_hours": 24, "tagged": True} and entry["created"]


def test_on_demand(aws_env, run_cli, kinesis):
    name = unique("prov-od")
    r = run_cli("provision", "kinesis", "--stream", name, "--on-demand", "--yes")
    assert r.code == 0, r.err
    assert "$0.040" in r.err
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"


def test_without_yes_and_without_a_terminal_refuses(aws_env, run_cli, kinesis):
    name = unique("prov-notty")
    r = run_cli("provision", "kinesis", "--stream", name)
    assert r.code == 2
    assert r.err.strip().splitlines()[-1].startswith("error: not applying the plan")
    assert "--yes" in r.err and "Traceback" not in r.err
    assert name not in names(kinesis)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shards", "2", "--on-demand"], "--shards and --on-demand cannot be used together"),
        (["--shards", "0"], "--shards"),
    ],
)
def test_bad_flags_are_one_line(aws_env, run_cli, args, message):
    r = run_cli("provision", "kinesis", "--stream", unique("prov-bad"), *args, "--yes")
    assert r.code == 2
    assert_one_line(r.err, message)


def test_invalid_name_is_one_line(aws_env, run_cli):
    r = run_cli("provision", "kinesis", "--stream", "no spaces allowed", "--yes")
    assert r.code == 2
    assert_one_line(r.err, "invalid Kinesis stream name")


def test_existing_stream_not_ours_is_refused_and_untouched(aws_env, run_cli, kinesis, tmp_path):
    name = unique("prov-foreign")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    r = run_cli("provision", "kinesis", "--stream", name, "--yes")
    assert r.code == 2
    assert "streamlab did not create it" in r.err and "Traceback" not in r.err
    assert tags_of(kinesis, name) == {}
    assert ledger_entries(tmp_path) == []
    kinesis.delete_stream(StreamName=name)


def test_tagged_stream_missing_from_ledger_is_adopted(aws_env, run_cli, kinesis, tmp_path):
    name = unique("prov-adopt")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.add_tags_to_stream(StreamName=name, Tags={"streamlab:created-by": "streamlab", "streamlab:lab": "old"})
    r = run_cli("provision", "kinesis", "--stream", name, "--yes")
    assert r.code == 0, r.err
    assert "adopt" in r.err
    [entry] = ledger_entries(tmp_path)
    assert entry["name"] == name and entry["lab"] == "old"
    assert names(kinesis).count(name) == 1
    assert run_cli("teardown", "--yes").code == 0


class CrashWhileWaiting(KinesisStream):
    """Stands in for Ctrl-C or a lost connection while AWS is still creating the stream."""

    def wait_ready(self, name):
        raise KeyboardInterrupt


def test_crash_after_create_is_still_recorded_and_torn_down(aws_env, run_cli, kinesis, tmp_path):
    name = unique("prov-crash")
    settings = load_settings()
    target = Target.open(settings)
    target.kinds["kinesis"] = CrashWhileWaiting(target.aws)
    plan = plan_provision(target, [Spec("kinesis", name, {})], "default")
    with pytest.raises(KeyboardInterrupt):
        apply_provision(target, plan, "default")
    [entry] = Ledger.for_settings(settings).entries()
    assert entry.name == name and entry.arn and entry.arn.endswith(f"stream/{name}")
    # The emulator ignores tags given at create time, so only the ledger knows: teardown must use it.
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert name not in names(kinesis)


def test_rerun_after_crash_resumes_and_tags(aws_env, run_cli, kinesis):
    name = unique("prov-resume")
    target = Target.open(load_settings())
    target.kinds["kinesis"] = CrashWhileWaiting(target.aws)
    with pytest.raises(KeyboardInterrupt):
        apply_provision(target, plan_provision(target, [Spec("kinesis", name, {})], "default"), "default")
    r = run_cli("provision", "kinesis", "--stream", name, "--yes")
    assert r.code == 0, r.err
    assert "exists" in r.err
    assert tags_of(kinesis, name)["streamlab:created-by"] == "streamlab"
    assert run_cli("teardown", "--yes").code == 0


def test_waits_are_bounded_with_injected_time():
    clock = FixedClock(0.0)
    kind = ResourceKind(aws=None, sleep=clock.sleep, clock=clock, wait_seconds=5)
    kind.label = "thing"
    with pytest.raises(WaitTimeout) as exc:
        kind.wait_for(lambda: None, "thing x to become ACTIVE")
    assert "after 5s" in exc.value.message
    assert sum(clock.slept) == 5 and clock() == 5
    assert kind.wait_for(lambda: "ok", "anything") == "ok"


def test_missing_stream_hint_is_a_command_that_works(aws_env, run_cli, kinesis):
    """The 'stream not found' error of produce/consume names the fix; following it succeeds."""
    from streamlab.aws.kinesis import require_stream
    from streamlab.aws.session import AWS
    from streamlab.errors import ResourceNotFound

    name = unique("prov-hint")
    with pytest.raises(ResourceNotFound) as exc:
        require_stream(AWS(load_settings()), name)
    line = exc.value.one_line()
    assert f"stream {name} not found in region us-east-1 at endpoint {aws_env.url}" in line
    hint = line.split("`")[1]
    assert hint == f"streamlab provision kinesis --stream {name}"
    assert run_cli(*hint.split()[1:], "--yes").code == 0
    assert require_stream(AWS(load_settings()), name)["StreamStatus"] == "ACTIVE"
    assert run_cli("teardown", "--yes").code == 0


@pytest.mark.parametrize("answer, created", [("n", False), ("y", True)])
def test_asks_on_a_terminal(aws_env, kinesis, answer, created):
    """Without --yes on a terminal the plan is confirmed interactively; 'n' changes nothing."""
    import os
    import pty
    import subprocess
    import sys

    name = unique("prov-ask")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "streamlab", "provision", "kinesis", "--stream", name],
                                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.write(master, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert "Create these resources?" in err
    assert proc.returncode == (0 if created else 1), err
    assert (name in names(kinesis)) is created
    if created:
        kinesis.delete_stream(StreamName=name)
    else:
        assert "cancelled: nothing was changed" in err
