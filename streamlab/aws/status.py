"""`streamlab status`: what streamlab created (ledger + tags) that still exists, and what it costs.

Costs are estimates from list prices (see each resource kind), per hour while the resource exists;
data and request charges are not included, except on an EventBridge schedule row, which estimates
what the runs it triggers cost (Lambda, DynamoDB and Firehose per run, see `resources/events.py`).
Every running EMR cluster in the region, whoever created it, gets a warning line (id, name, age,
instance count): clusters are the labs' biggest bill.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable, Optional

from streamlab.aws import inventory
from streamlab.aws.plan import Target, fmt_cost


@dataclass
class Row:
    kind: str
    name: str
    lab: Optional[str]
    state: str
    details: str
    hourly_usd: Optional[float]
    recorded_by: str  # "ledger", "tag" or "ledger+tag"
    arn: Optional[str]


@dataclass
class Status:
    endpoint: Optional[str]
    region: str
    account: Optional[str]
    resources: list[Row] = field(default_factory=list)
    gone_from_ledger: list[dict] = field(default_factory=list)  # recorded, no longer exists
    elsewhere: dict[str, int] = field(default_factory=dict)
    emr_clusters: list[dict] = field(default_factory=list)  # every running cluster in the region

    @property
    def hourly_total_usd(self) -> float:
        return round(sum(r.hourly_usd or 0.0 for r in self.resources), 6)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hourly_total_usd"] = self.hourly_total_usd
        return d


def collect_status(target: Target, lab: Optional[str] = None,
                   now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Status:
    st = Status(endpoint=target.scope.endpoint, region=target.scope.region, account=target.scope.account)
    for item in inventory.collect(target, lab):
        kind = target.kind(item.kind)
        if item.found is None:
            st.gone_from_ledger.append({"kind": item.kind, "name": item.name})
            continue
        if not item.owned:
            continue
        st.resources.append(
            Row(
                kind=item.kind,
                name=item.name,
                lab=item.lab,
                state=item.found.state,
                details=kind.details(item.found.params),
                hourly_usd=kind.hourly_cost(item.found.params),
                recorded_by=item.source,
                arn=item.found.arn,
            )
        )
    st.elsewhere = inventory.other_scopes(target)
    from streamlab.aws.resources.emr import running_clusters

    at = now()
    for c in running_clusters(target.aws):
        age = c.age_hours(at)
        st.emr_clusters.append({"id": c.id, "name": c.name, "state": c.state, "instances": c.instances,
                                "age_hours": None if age is None else round(age, 2), "streamlab": c.ours})
    return st


def render(st: Status, kinds) -> None:
    from rich.table import Table

    from streamlab.aws.plan import wide_console

    out = wide_console()
    where = f"region {st.region} at endpoint {st.endpoint or 'AWS'}"
    if not st.resources:
        out.print(f"nothing streamlab created exists in {where}")
    else:
        table = Table(title=f"streamlab resources ({where})", title_justify="left")
        for col in ("kind", "name", "lab", "state", "details"):
            table.add_column(col, overflow="fold")
        table.add_column("recorded by", no_wrap=True)
        table.add_column("est. $/hour", justify="right", no_wrap=True)
        for r in st.resources:
            label = kinds[r.kind].label if r.kind in kinds else r.kind
            table.add_row(label, r.name, r.lab or "-", r.state, r.details, r.recorded_by, fmt_cost(r.hourly_usd))
        out.print(table)
        out.print(
            f"estimated total: {fmt_cost(st.hourly_total_usd)}/hour (about {fmt_cost(st.hourly_total_usd * 24)}/day; "
            "list prices, data charges excluded). Delete everything with `streamlab teardown`."
        )
    if st.gone_from_ledger:
        names = ", ".join(f"{g['kind']} {g['name']}" for g in st.gone_from_ledger)
        out.print(f"recorded but already gone: {names} (`streamlab teardown` clears these entries)")
    if st.elsewhere:
        listed = "; ".join(f"{n} in {w}" for w, n in sorted(st.elsewhere.items()))
        out.print(f"the ledger also lists resources elsewhere, not looked at here: {listed}")
    for c in st.emr_clusters:
        age = "unknown age" if c["age_hours"] is None else f"up {c['age_hours']:.1f} h"
        how = "`streamlab teardown --emr` terminates it" if c["streamlab"] else "not streamlab's: terminate it in the EMR console"
        from rich.markup import escape

        out.print(
            f"[yellow]warning: EMR cluster {c['id']} ({escape(c['name'])}) is {c['state']}, {age}, {c['instances']} instances, "
            f"billing per instance-hour; {how} when you are done[/]",
            markup=True,
            soft_wrap=True,  # one line per cluster, whatever the width: scripts grep for it
        )


def status(aws, *, lab: Optional[str] = None, output: str = "table") -> Status:
    """What `streamlab status` runs on the command's AWS handle: table (stdout) or JSON (stdout)."""
    import json

    target = Target.open(aws)
    st = collect_status(target, lab)
    if output == "json":
        print(json.dumps(st.to_dict(), indent=2, default=str))
    else:
        render(st, target.kinds)
    return st
