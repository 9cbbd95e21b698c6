"""`streamlab teardown` against the moto server. Every check of "what is left" enumerates the
service itself (list_streams + tags), never the ledger."""

from __future__ import annotations

import json

from streamlab.aws.ledger import Entry, Ledger
from streamlab.aws.plan import Target
from streamlab.aws.resources.kinesis import KinesisStream
from streamlab.aws.teardown import apply_teardown, leftover_error, plan_teardown
from streamlab.settings import load_settings
from streamlab.errors import StreamlabError
from streamlab.testing import assert_one_line, flat
from tests.fixtures.aws import unique
from tests.fixtures.faulty_proxy import FailCall


def ours_left(kinesis) -> list[str]:
    """Every stream in the emulator that carries streamlab's created-by tag."""
    left = []
    for name in kinesis.list_streams()["StreamNames"]:
        tags = {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]}
        if tags.get("streamlab:created-by") == "streamlab":
            left.append(name)
    return left


def stream_names(kinesis) -> list[str]:
    return kinesis.list_streams()["StreamNames"]


def ledger_entries(tmp_path) -> list[dict]:
    path = tmp_path / "home" / "ledger.json"
    return json.loads(path.read_text())["entries"] if path.exists() else []


def test_lookalike_without_tag_survives(aws_env, run_cli, kinesis):
    ours = unique("td-look")
    lookalike = ours + "-copy"
    kinesis.create_stream(StreamName=lookalike, ShardCount=1)
    assert run_cli("provision", "kinesis", "--stream", ours, "--yes").code == 0
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert lookalike not in r.err
    names = stream_names(kinesis)
    assert ours not in names and lookalike in names
    kinesis.delete_stream(StreamName=lookalike)


def test_dry_run_deletes_nothing(aws_env, run_cli, kinesis, tmp_path):
    name = unique("td-dry")
    assert run_cli("provision", "kinesis", "--stream", name, "--yes").code == 0
    r = run_cli("teardown", "--dry-run")
    assert r.code == 0
    assert "delete" in r.err and name in r.err and "dry run" in r.err
    assert name in stream_names(kinesis) and len(ledger_entries(tmp_path)) == 1
    assert run_cli("teardown", "--yes").code == 0


def test_without_yes_and_without_a_terminal_deletes_nothing(aws_env, run_cli, kinesis):
    name = unique("td-notty")
    assert run_cli("provision", "kinesis", "--stream", name, "--yes").code == 0
    r = run_cli("teardown")
    assert r.code == 2 and "--yes" in r.err
    assert name in stream_names(kinesis)
    assert run_cli("teardown", "--yes").code == 0


def test_tag_alone_is_enough_when_the_ledger_is_lost(aws_env, run_cli, kinesis, tmp_path):
    name = unique("td-noledger")
    assert run_cli("provision", "kinesis", "--stream", name, "--yes").code == 0
    (tmp_path / "home" / "ledger.json").unlink()
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert name not in stream_names(kinesis)


def _record(settings, name: str, created: str = "") -> Entry:
    target = Target.open(settings)
    entry = Entry(kind="kinesis", name=name, region="us-east-1", endpoint=target.scope.endpoint,
                  account=target.scope.account, created=created)
    Ledger.for_settings(settings).record(entry)
    return entry


def test_an_untagged_stream_named_in_the_ledger_is_not_deleted(aws_env, run_cli, kinesis, tmp_path):
    """A name in the ledger is not enough (an edited ledger, or a stream deleted and re-created by
    another tool minutes after streamlab's record): streamlab tags every stream at creation, so an
    untagged one is someone else's, however recent (issue 18 item 3)."""
    name = unique("td-untagged")
    kinesis.create_stream(StreamName=name, ShardCount=1)  # no tag, made just now
    _record(load_settings(), name)  # recorded just now, as if streamlab had made it
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert name in stream_names(kinesis)
    assert "without streamlab's tag" in flat(r.err) and name in r.err
    assert ledger_entries(tmp_path) == []
    kinesis.delete_stream(StreamName=name)


def test_a_tagged_stream_re_created_untagged_minutes_later_is_left_alone(aws_env, run_cli, kinesis, tmp_path):
    """streamlab made and tagged it; someone deleted it and made one of the same name (same ARN)
    within minutes: the ledger says streamlab had tagged its own, so the untagged one is not it."""
    name = unique("td-recreated-soon")
    assert run_cli("provision", "kinesis", "--stream", name, "--yes").code == 0
    [entry] = ledger_entries(tmp_path)
    assert entry["extra"]["tagged"] is True
    kinesis.delete_stream(StreamName=name)
    kinesis.create_stream(StreamName=name, ShardCount=1)  # another tool, seconds later, no tag
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert name in stream_names(kinesis) and "without streamlab's tag" in flat(r.err)
    kinesis.delete_stream(StreamName=name)


def test_untagged_stream_recreated_after_our_record_is_left_alone(aws_env, run_cli, kinesis, tmp_path):
    name = unique("td-recreated")
    _record(load_settings(), name, created="2020-01-01T00:00:00+00:00")
    kinesis.create_stream(StreamName=name, ShardCount=1)  # someone else's, made years later
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert "skip" in r.err
    assert name in stream_names(kinesis)
    assert ledger_entries(tmp_path) == []
    kinesis.delete_stream(StreamName=name)


def test_stale_ledger_entry_is_cleared(aws_env, run_cli, tmp_path):
    _record(load_settings(), unique("td-gone"))
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert "forget" in r.err
    assert ledger_entries(tmp_path) == []


def test_lab_filter(aws_env, run_cli, kinesis):
    a, b = unique("td-laba"), unique("td-labb")
    assert run_cli("provision", "kinesis", "--stream", a, "--lab", "a", "--yes").code == 0
    assert run_cli("provision", "kinesis", "--stream", b, "--lab", "b", "--yes").code == 0
    assert run_cli("teardown", "--lab", "a", "--yes").code == 0
    names = stream_names(kinesis)
    assert a not in names and b in names
    assert run_cli("teardown", "--yes").code == 0
    assert ours_left(kinesis) == []


def test_other_region_is_not_touched(aws_env, run_cli, kinesis, emulator):
    import boto3

    west = boto3.client("kinesis", endpoint_url=emulator.url, region_name="eu-west-1")
    east_name, west_name = unique("td-east"), unique("td-west")
    assert run_cli("provision", "kinesis", "--stream", east_name, "--yes").code == 0
    assert run_cli("provision", "kinesis", "--stream", west_name, "--yes", "--region", "eu-west-1").code == 0
    r = run_cli("teardown", "--yes")
    assert r.code == 0, r.err
    assert "eu-west-1" in r.err  # the note about entries elsewhere
    assert east_name not in stream_names(kinesis)
    assert west_name in west.list_streams()["StreamNames"]
    assert run_cli("teardown", "--yes", "--region", "eu-west-1").code == 0
    assert west_name not in west.list_streams()["StreamNames"]


class RefusesToDelete(KinesisStream):
    """AWS accepting a delete and not doing it (or a delete denied): teardown must notice."""

    def delete(self, name):
        pass

    def wait_gone(self, name):
        pass


def test_leftover_is_reported_and_fails(aws_env, run_cli, kinesis, faulty_proxy, tmp_path):
    """A delete the service refuses (IAM denies it): teardown says what is left and exits non-zero."""
    name = unique("td-denied")
    assert run_cli("provision", "kinesis", "--stream", name, "--yes", "--endpoint-url", faulty_proxy.url).code == 0
    faulty_proxy.refuse["DeleteStream"] = FailCall("AccessDeniedException")
    r = run_cli("teardown", "--yes", "--endpoint-url", faulty_proxy.url)
    assert r.code == StreamlabError.exit_code
    said = flat(r.err)
    assert f"could not delete kinesis {name}" in said and "left: 1" in said
    assert_one_line(r.err, f"1 resource(s) streamlab created still exist: kinesis {name}", "rerun `streamlab teardown`",
                    after_progress=True)
    assert name in stream_names(kinesis)
    assert [e["name"] for e in ledger_entries(tmp_path)] == [name]  # kept, so the next teardown still knows it
    del faulty_proxy.refuse["DeleteStream"]
    again = run_cli("teardown", "--yes", "--endpoint-url", faulty_proxy.url)
    assert again.code == 0, again.err
    assert name not in stream_names(kinesis) and ledger_entries(tmp_path) == []


def test_a_delete_accepted_but_not_done_is_left_over(aws_env, run_cli, kinesis):
    name = unique("td-stuck")
    assert run_cli("provision", "kinesis", "--stream", name, "--yes").code == 0
    target = Target.open(load_settings())
    target.kinds["kinesis"] = RefusesToDelete(target.aws)
    report = apply_teardown(target, plan_teardown(target))
    assert not report.ok
    assert [i.name for i in report.left] == [name]
    assert name in leftover_error(report).one_line()
    # The ledger keeps what could not be deleted, so the next teardown still knows it.
    assert [e.name for e in target.ledger.entries()] == [name]
    assert run_cli("teardown", "--yes").code == 0
    assert name not in stream_names(kinesis)
