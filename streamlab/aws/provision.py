"""Provisioning: specs -> plan -> apply. Every resource is tagged and written to the ledger.

Planning looks each requested resource up first:
- absent -> `create`;
- present and streamlab's (tag or ledger) -> `exists` (recorded), `adopt` (tagged, not recorded
  here yet: it gets recorded) or `resume` (recorded by a run that stopped before it was ACTIVE and
  tagged: that is finished now); nothing is created. Where it differs from the spec, kinds that can
  change in place say how (`updatable`: a Lambda function's code after a streamlab upgrade) and the
  row is `update`; otherwise the difference is shown and left as is;
- present and not streamlab's -> a clear error; streamlab never modifies what it did not create,
  except where the spec says `existing="use"` (the bucket a Firehose writes to, a policy attachment
  that was already there): then it is used as is (`use`), never recorded, never deleted.

Applying creates resources in dependency order (`rank`). Each one is written to the ledger as soon as
its create call returns (with its ARN), before it is waited on and before the next one is created, so
an interrupted run leaves everything it made findable by `teardown`. Rerunning resumes: a resource
recorded but still CREATING is waited on, missing tags are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from streamlab import console
from streamlab.aws.inventory import owned
from streamlab.aws.ledger import Entry
from streamlab.aws.plan import Ask, Plan, PlanRow, Target
from streamlab.aws.resources import Found, Spec, streamlab_tags
from streamlab.errors import ConfigError


def plan_provision(target: Target, specs: list[Spec], lab: str) -> Plan:
    plan = Plan(title="provision plan", scope=target.scope)
    ordered = [target.kind(s.kind).normalise(s) for s in specs]
    ordered.sort(key=lambda s: target.kind(s.kind).rank)  # stable: same rank keeps the given order
    planned = {(s.kind, s.name) for s in ordered}
    seen: set[tuple[str, str]] = set()
    for spec in ordered:
        if (spec.kind, spec.name) in seen:
            continue  # the same resource asked for twice (two --email flags alike): once is enough
        seen.add((spec.kind, spec.name))
        plan.rows.append(_plan_row(target, spec, planned, lab))
    return plan


def _plan_row(target: Target, spec: Spec, planned: set[tuple[str, str]], lab: str) -> PlanRow:
    """What to do about one asked-for resource: create, use, update, adopt, resume or nothing (exists)."""
    kind = target.kind(spec.kind)
    kind.check(spec, planned)
    found = kind.get(spec.name)
    entry = target.ledger.find(target.scope, spec.kind, spec.name)
    if found is None:
        return PlanRow("create", spec.kind, spec.name, kind.details(spec.params), kind.hourly_cost(spec.params), spec=spec, entry=entry, lab=lab)
    if found.state == "DELETING":
        raise ConfigError(
            f"{kind.label} {spec.name} is being deleted in {target.scope.describe()}",
            "wait a minute for AWS to finish, then rerun",
        )
    if not owned(found, entry, kind.taggable):
        if spec.existing == "use":
            return PlanRow("use", spec.kind, spec.name, kind.details(found.params) + " (already there, not streamlab's: used as is, never deleted)",
                           kind.hourly_cost(found.params), spec=spec, found=found, lab=lab)
        raise ConfigError(
            f"{kind.label} {spec.name} already exists in {target.scope.describe()} but streamlab did not create it "
            "(no streamlab tag, not in the ledger)",
            "pick another name; streamlab never modifies or deletes resources it did not create",
        )
    details, wanted = kind.details(found.params), kind.details(spec.params)
    owner_lab = found.lab or (entry.lab if entry is not None else lab)
    change = kind.updatable(found, spec) if details != wanted else None
    if change:
        return PlanRow("update", spec.kind, spec.name, f"{details}; will update: {change}", kind.hourly_cost(spec.params),
                       spec=spec, found=found, entry=entry, lab=owner_lab)
    if details != wanted:
        details += f" (asked for {wanted}: left as is)"
    if not kind.is_ready(found):
        details += f" [{found.state}]"
    tags_missing = kind.taggable and any(found.tags.get(k) != v for k, v in streamlab_tags(owner_lab).items())
    if entry is None:
        action = "adopt"
    elif not kind.is_ready(found) or tags_missing:
        # Recorded by an earlier run that stopped half-way: finish its job (wait, tag, configure).
        action = "resume"
        details += " (will finish: wait until ready, add streamlab tags)"
    else:
        action = "exists"
    return PlanRow(action, spec.kind, spec.name, details, kind.hourly_cost(found.params), spec=spec, found=found, entry=entry, lab=owner_lab)


@dataclass
class Applied:
    row: PlanRow
    found: Optional[Found]


def apply_provision(target: Target, plan: Plan, lab: str) -> list[Applied]:
    out: list[Applied] = []
    for row in plan.rows:
        kind = target.kind(row.kind)
        tags = streamlab_tags(row.lab or lab)
        if row.action == "create":
            assert row.spec is not None
            console.info(f"creating {kind.label} {row.name} ({row.details}) ...")
            arn = kind.create(row.spec, tags)
            # Recorded before waiting and before the next resource: a crash from here on is findable.
            entry = _record(target, row, arn, row.spec.params, row.lab or lab, created="")
            found = kind.wait_ready(row.name)
            kind.ensure_tags(found, tags)
            found = _configure(kind, row, found)
            _record(target, row, found.arn or arn, found.params, row.lab or lab, created=entry.created, tagged=True)
            console.info(f"created {kind.label} {row.name}: {found.state}, recorded in {target.ledger.path}")
            out.append(Applied(row, found))
        elif row.action == "update":
            assert row.spec is not None and row.found is not None
            console.info(f"updating {kind.label} {row.name} ...")
            kind.update(row.spec, row.found)
            found = kind.wait_ready(row.name)
            kind.ensure_tags(found, tags)
            found = _configure(kind, row, found)
            _record(target, row, found.arn, found.params, row.lab or lab, created=row.entry.created if row.entry else "", tagged=True)
            console.info(f"updated {kind.label} {row.name}: {kind.details(found.params)}")
            out.append(Applied(row, found))
        elif row.action in ("exists", "adopt", "resume"):
            found = row.found
            assert found is not None
            if not kind.is_ready(found):
                console.info(f"waiting for {kind.label} {row.name} ({found.state}) ...")
                found = kind.wait_ready(row.name)
            kind.ensure_tags(found, tags)
            # Settle what belongs to it (seed items, access block) unless the user's resource
            # differs from what was asked: then it is left as is.
            if row.action == "resume" or (row.spec is not None and kind.details(found.params) == kind.details(row.spec.params)):
                found = _configure(kind, row, found)
            if row.action == "adopt" or row.entry is None:
                _record(target, row, found.arn, found.params, row.lab or lab, created="", tagged=True)
                console.info(f"adopted {kind.label} {row.name} (tagged by streamlab): recorded in {target.ledger.path}")
            else:
                if row.entry is not None and not row.entry.extra.get("tagged"):  # resumed after a crash: now tagged
                    _record(target, row, found.arn, found.params, row.lab or lab, created=row.entry.created, tagged=True)
                console.info(f"{kind.label} {row.name} already exists: nothing created")
            out.append(Applied(row, found))
        elif row.action == "use":
            console.info(f"using {kind.label} {row.name}, which streamlab did not create: not recorded, never deleted")
            out.append(Applied(row, row.found))
    return out


def _configure(kind, row: PlanRow, found: Found) -> Found:
    assert row.spec is not None
    kind.configure(row.spec, found)
    return kind.get(row.name) or found


def _record(target: Target, row: PlanRow, arn: Optional[str], params: dict, lab: str, created: str,
            tagged: bool = False) -> Entry:
    """Write the ledger entry; `tagged` once streamlab's tags are on the resource (until then, a crash
    leaves a resource only the ledger knows: teardown then matches it by ARN and creation time)."""
    entry = Entry(
        kind=row.kind,
        name=row.name,
        region=target.scope.region,
        endpoint=target.scope.endpoint,
        arn=arn,
        account=target.scope.account,
        lab=lab,
        created=created,
        extra={**params, **({"tagged": True} if tagged else {})},
    )
    target.ledger.record(entry)
    return entry


def provision(aws, specs: list[Spec], *, yes: bool = False, dry_run: bool = False, ask: Optional[Ask] = None,
              **kind_options) -> list[Applied]:
    """Plan, show, confirm, apply `specs` on the command's AWS handle (what the demo runs)."""
    from streamlab.aws.blueprints import Blueprint

    return provision_blueprint(aws, lambda arns: Blueprint("provision", list(specs)), yes=yes, dry_run=dry_run, ask=ask,
                               **kind_options)


#: where a `--diagram` can be seen as a picture
MERMAID_HINT = "render it: paste it into https://mermaid.live, or put it in a ```mermaid block of a GitHub markdown file"


def provision_blueprint(aws, build, *, yes: bool = False, dry_run: bool = False, diagram: bool = False,
                        ask: Optional[Ask] = None, **kind_options) -> list[Applied]:
    """What `streamlab provision <kind>` runs: plan `build(arns) -> Blueprint` (see
    `streamlab.aws.blueprints`), show it, confirm (`ask`, see `plan.confirm`), apply. With `diagram`,
    print its Mermaid flowchart on stdout and stop, without contacting AWS (a placeholder account
    fills the ARNs). `aws` is the command's handle (a Settings makes one, see `Target.open`); the
    lab comes from its settings."""
    from streamlab.aws.plan import confirm, fmt_cost
    from streamlab.aws.resources.common import Arns

    settings = getattr(aws, "settings", aws)
    if diagram:
        bp = build(Arns(region=settings.effective_region, account="123456789012"))
        print(bp.mermaid(), end="")
        console.info(MERMAID_HINT)  # stderr: stdout stays the diagram alone, ready to redirect
        return []
    target = Target.open(aws, **kind_options)
    bp = build(Arns(region=target.scope.region, account=target.scope.account or "123456789012"))
    plan = plan_provision(target, bp.specs, settings.lab)
    if not confirm(plan, target.kinds, yes=yes, dry_run=dry_run, question="Create these resources?", ask=ask):
        if not dry_run and not plan.changes:
            for row in plan.rows:
                if row.action == "use":
                    console.info(f"using {target.kind(row.kind).label} {row.name}, which streamlab did not create: not recorded, never deleted")
            console.info("nothing to create: everything in the plan already exists")
            for note in bp.notes:
                console.info(note)
        return []
    applied = apply_provision(target, plan, settings.lab)
    total = sum(r.row.hourly or 0.0 for r in applied if r.row.action != "use")
    console.info(f"done. est. {fmt_cost(total)}/hour while it exists; see `streamlab status`, delete with `streamlab teardown`")
    for note in bp.notes:
        console.info(note)
    return applied
