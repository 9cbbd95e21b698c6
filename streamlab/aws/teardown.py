"""Teardown: delete what streamlab created (ledger entries + streamlab-tagged resources), nothing else.

Order: highest dependency rank first (a Firehose before the stream it reads), and within a rank all
deletes are issued before waiting, since AWS deletes asynchronously. A ledger entry is removed only
once its resource is confirmed gone. Afterwards the scope is enumerated again (from the services,
not the ledger) and whatever streamlab-owned resource is still there is reported as left over.
Deleting something already gone is fine, so teardown can be rerun at any time.

Kept, not deleted (`keep` rows, never counted as left over): buckets with `--keep-bucket`, and EMR
clusters unless `--emr` is given (kinds with `opt_in`). A resource whose delete was accepted but
which is still listed right after (an SNS subscription pending confirmation goes with its topic, a
few rows later) is judged again at the very end, from the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from typing import Optional

from streamlab import console
from streamlab.aws import inventory
from streamlab.aws.plan import Ask, Plan, PlanRow, Target
from streamlab.errors import StreamlabError


def plan_teardown(target: Target, lab: Optional[str] = None, *, keep_bucket: bool = False, emr: bool = False) -> Plan:
    plan = Plan(title="teardown plan", scope=target.scope)
    opted = {"--emr"} if emr else set()
    for item in reversed(inventory.collect(target, lab)):
        kind = target.kind(item.kind)
        keep_why = None
        if kind.opt_in and kind.opt_in not in opted:
            keep_why = f"kept: pass {kind.opt_in} to delete it"
        elif keep_bucket and item.kind == "s3-bucket":
            keep_why = "kept (--keep-bucket), with its objects"
        if keep_why and item.found is not None and item.owned:
            details = f"{kind.details(item.found.params)} [{item.found.state}]: {keep_why}"
            plan.rows.append(PlanRow("keep", item.kind, item.name, details, kind.hourly_cost(item.found.params),
                                     found=item.found, entry=item.entry, lab=item.lab))
        elif item.found is None:
            plan.rows.append(PlanRow("forget", item.kind, item.name, "already gone: ledger entry removed", entry=item.entry, lab=item.lab))
        elif item.owned:
            details = kind.details(item.found.params)
            if not kind.is_ready(item.found):
                details += f" [{item.found.state}]"
            plan.rows.append(
                PlanRow("delete", item.kind, item.name, details, kind.hourly_cost(item.found.params), found=item.found, entry=item.entry, lab=item.lab)
            )
        else:
            plan.rows.append(
                PlanRow(
                    "skip",
                    item.kind,
                    item.name,
                    "exists without streamlab's tag, so it is not what streamlab made (re-created by another tool?): "
                    "not touched, ledger entry removed",
                    found=item.found,
                    entry=item.entry,
                    lab=item.lab,
                )
            )
    return plan


@dataclass
class Report:
    deleted: list[PlanRow] = field(default_factory=list)
    forgotten: list[PlanRow] = field(default_factory=list)
    failed: list[tuple[PlanRow, str]] = field(default_factory=list)
    left: list[inventory.Item] = field(default_factory=list)
    kept: list[PlanRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.left


def apply_teardown(target: Target, plan: Plan, lab: Optional[str] = None) -> Report:
    report = Report()
    for row in plan.rows:
        if row.action in ("forget", "skip") and row.entry is not None:
            target.ledger.remove(row.entry)
            report.forgotten.append(row)
    deletes = [r for r in plan.rows if r.action == "delete"]
    unconfirmed: list[PlanRow] = []
    for _, group_iter in groupby(deletes, key=lambda r: target.kind(r.kind).rank):
        group = list(group_iter)
        started = []
        for row in group:
            kind = target.kind(row.kind)
            console.info(f"deleting {kind.label} {row.name} ...")
            try:
                kind.delete(row.name)
                started.append(row)
            except Exception as exc:  # one failure must not stop the rest of the teardown
                report.failed.append((row, _why(exc)))
        for row in started:
            kind = target.kind(row.kind)
            try:
                kind.wait_gone(row.name)
                still_there = kind.get(row.name) is not None  # confirm before forgetting it
            except Exception as exc:
                report.failed.append((row, _why(exc)))
                continue
            if still_there:
                unconfirmed.append(row)
                continue
            _deleted(target, report, row)
    # Re-check from the services themselves, not from what we believe we did.
    kept = {(r.kind, r.name) for r in plan.rows if r.action == "keep"}
    report.kept = [r for r in plan.rows if r.action == "keep"]
    report.left = [i for i in inventory.collect(target, lab) if i.exists and i.owned and (i.kind, i.name) not in kept]
    for row in unconfirmed:
        if target.kind(row.kind).get(row.name) is None:
            _deleted(target, report, row)  # went with its parent, e.g. a subscription with its topic
        else:
            report.failed.append((row, "still exists after the delete call"))
            if not any((i.kind, i.name) == (row.kind, row.name) for i in report.left):
                report.left.append(inventory.Item(row.kind, row.name, entry=row.entry, found=row.found))
    return report


def _deleted(target: Target, report: Report, row: PlanRow) -> None:
    if row.entry is not None:
        target.ledger.remove(row.entry)
    report.deleted.append(row)
    console.info(f"deleted {target.kind(row.kind).label} {row.name}")


def leftover_error(report: Report) -> StreamlabError:
    names = [f"{i.kind} {i.name}" for i in report.left] or [f"{r.kind} {r.name}" for r, _ in report.failed]
    return StreamlabError(
        f"{len(names)} resource(s) streamlab created still exist: {', '.join(names)}",
        "rerun `streamlab teardown`; if it keeps failing, delete them in the AWS console",
    )


def _why(exc: BaseException) -> str:
    if isinstance(exc, StreamlabError):
        return exc.one_line()
    if (type(exc).__module__ or "").startswith("botocore"):
        from streamlab.aws.session import explain_aws_error

        return explain_aws_error(exc).one_line()
    return f"{type(exc).__name__}: {exc}"


def teardown(aws, *, lab: Optional[str] = None, yes: bool = False, dry_run: bool = False,
             keep_bucket: bool = False, emr: bool = False, ask: Optional[Ask] = None, **kind_options) -> Report:
    """Plan, show, confirm (`ask`, see `plan.confirm`), delete, re-check: what `streamlab teardown`
    runs, on the command's AWS handle. Raises when anything streamlab should have deleted is still there."""
    from streamlab.aws.plan import confirm

    target = Target.open(aws, **kind_options)
    plan = plan_teardown(target, lab, keep_bucket=keep_bucket, emr=emr)
    note = inventory.other_scopes_note(target)
    go = confirm(plan, target.kinds, yes=yes, dry_run=dry_run, question="Delete these resources?", ask=ask)
    if note:
        console.info(note)
    if not go:
        kept = [r for r in plan.rows if r.action == "keep"]
        if kept and not dry_run:
            console.info(f"nothing to delete; kept {len(kept)} ({', '.join(f'{r.kind} {r.name}' for r in kept)}); left: 0")
        return Report(kept=kept)
    report = apply_teardown(target, plan, lab)
    for row, why in report.failed:
        console.warn(f"could not delete {row.kind} {row.name}: {why}")
    kept = f", kept {len(report.kept)} ({', '.join(f'{r.kind} {r.name}' for r in report.kept)})" if report.kept else ""
    console.info(
        f"teardown: deleted {len(report.deleted)}, cleared {len(report.forgotten)} stale ledger entr"
        f"{'y' if len(report.forgotten) == 1 else 'ies'}{kept}; left: {len(report.left)} in {target.scope.describe()}"
    )
    if not report.ok:
        raise leftover_error(report)
    return report
