"""Plans shared by provision and teardown: what will happen, shown as a table, confirmed, then applied.

`Target` bundles what every step needs: the AWS session, the ledger, the scope (endpoint, region,
account) and one instance of each resource kind. `Plan` is a list of rows
(action, kind, name, details, est. $/hour). `confirm` prints the plan and decides whether to go on:
`--dry-run` stops after printing, `--yes` skips the question, and without a terminal to ask on we
refuse rather than guess. The question itself is the caller's `ask(question) -> bool` (the command
passes a terminal prompt); a "no" raises `Declined`, which the CLI turns into "cancelled: nothing
was changed" and exit code 1. Nothing here prompts or exits by itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from streamlab import console
from streamlab.console import wide_console  # noqa: F401 - status.py imports it from here
from streamlab.aws.ledger import Entry, Ledger, Scope
from streamlab.aws.resources import KINDS, Found, ResourceKind, Spec
from streamlab.errors import ConfigError, Declined

# Actions that change something; the others are informational.
CHANGING = {"create", "update", "adopt", "resume", "delete", "forget", "skip"}


@dataclass
class Target:
    aws: Any
    ledger: Ledger
    scope: Scope
    kinds: dict[str, ResourceKind]

    @classmethod
    def open(cls, aws, **kind_options: Any) -> "Target":
        """Everything a plan needs, on the command's AWS handle (a Settings builds a handle of its
        own: for tests and scripts that have no command around them)."""
        from streamlab.aws.session import AWS

        if not isinstance(aws, AWS):
            aws = AWS(aws)
        settings = aws.settings
        account = aws.client("sts").get_caller_identity().get("Account")
        scope = Scope(endpoint=aws.endpoint_url, region=aws.region, account=account)
        kinds = {name: kind_cls(aws, **kind_options) for name, kind_cls in KINDS.items()}
        return cls(aws=aws, ledger=Ledger.for_settings(settings), scope=scope, kinds=kinds)

    def kind(self, name: str) -> ResourceKind:
        return self.kinds[name]


@dataclass
class PlanRow:
    action: str  # provision: create | update | exists | adopt | resume | use; teardown: delete | forget | skip | keep
    kind: str
    name: str
    details: str = ""
    hourly: Optional[float] = None
    spec: Optional[Spec] = None
    found: Optional[Found] = None
    entry: Optional[Entry] = None
    lab: Optional[str] = None


@dataclass
class Plan:
    title: str
    scope: Scope
    rows: list[PlanRow] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return any(r.action in CHANGING for r in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "endpoint": self.scope.endpoint,
            "region": self.scope.region,
            "rows": [
                {"action": r.action, "kind": r.kind, "name": r.name, "details": r.details, "hourly_usd": r.hourly, "lab": r.lab}
                for r in self.rows
            ],
        }


def fmt_cost(hourly: Optional[float]) -> str:
    if hourly is None:
        return "-"
    if 0 < hourly < 0.0005:
        return "<$0.001"  # a schedule's few cents a month: not zero, say so
    return f"${hourly:,.3f}"


_STYLE = {"create": "green", "update": "cyan", "adopt": "cyan", "resume": "cyan", "delete": "red", "forget": "yellow", "skip": "yellow",
          "exists": "dim", "use": "dim", "keep": "yellow"}


def render(plan: Plan, kinds: dict[str, ResourceKind]) -> None:
    from rich.table import Table

    table = Table(title=f"{plan.title} ({plan.scope.describe()})", title_justify="left")
    table.add_column("action", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("details", overflow="fold")
    table.add_column("est. $/hour", justify="right", no_wrap=True)
    for r in plan.rows:
        style = _STYLE.get(r.action, "")
        label = kinds[r.kind].label if r.kind in kinds else r.kind
        table.add_row(f"[{style}]{r.action}[/]" if style else r.action, label, r.name, r.details, fmt_cost(r.hourly))
    if not plan.rows:
        console.info(f"{plan.title}: nothing to do ({plan.scope.describe()})")
        return
    wide_console(stderr=True).print(table)


Ask = Callable[[str], bool]


def confirm(plan: Plan, kinds: dict[str, ResourceKind], *, yes: bool, dry_run: bool, question: str,
            ask: Optional[Ask] = None) -> bool:
    """Print the plan; True when it should be applied now, False when there is nothing to apply (or
    a dry run). Raises `Declined` when `ask(question)` says no, ConfigError when it would have to ask
    but cannot (no `ask`, or stdin is not a terminal)."""
    render(plan, kinds)
    if dry_run:
        console.info("dry run: nothing was changed")
        return False
    if not plan.changes:
        return False
    if yes:
        return True
    if ask is None or not _stdin_is_tty():
        raise ConfigError(
            "not applying the plan above without confirmation (no terminal to ask on)",
            "pass --yes to apply it, or --dry-run to only print it",
        )
    if not ask(question):
        raise Declined("cancelled: nothing was changed")
    return True


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False
