"""What streamlab created in one scope: ledger entries joined with resources carrying our tag.

Shared by `status` and `teardown`, so both see the same set. A resource counts as streamlab's when
it carries `streamlab:created-by=streamlab`, or when the ledger recorded it, unless it was clearly
re-created by someone else after our record (created later, without our tag): then it is left alone.
Kinds AWS cannot tag (policy attachments, SNS subscriptions, EventBridge targets, Lambda
destinations) are found through the ledger only; with the ledger lost they still go, with the
streamlab role, topic, rule or function that holds them, but an attachment to a role streamlab did
not create is then left in place (nothing says it is ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from streamlab.aws.ledger import Entry
from streamlab.aws.resources import Found
from streamlab.aws.resources.common import in_parallel

# Clock skew allowance between this machine (ledger time) and AWS (creation time).
RECREATED_SLACK = timedelta(minutes=10)


@dataclass
class Item:
    kind: str
    name: str
    entry: Optional[Entry] = None
    found: Optional[Found] = None
    taggable: bool = True  # the kind carries tags (streamlab tags every one it creates)

    @property
    def exists(self) -> bool:
        return self.found is not None

    @property
    def owned(self) -> bool:
        return self.found is not None and owned(self.found, self.entry, self.taggable)

    @property
    def lab(self) -> Optional[str]:
        if self.found is not None and self.found.lab:
            return self.found.lab
        return self.entry.lab if self.entry else None

    @property
    def source(self) -> str:
        parts = []
        if self.entry is not None:
            parts.append("ledger")
        if self.found is not None and self.found.ours:
            parts.append("tag")
        return "+".join(parts) or "-"


def owned(found: Found, entry: Optional[Entry], taggable: bool = True) -> bool:
    """Whether `found` is what streamlab made: its tag says so. A name in the ledger is not enough: a
    taggable resource without streamlab's tag whose entry says streamlab had tagged it was made by
    someone else (deleted and re-created by another tool). The ledger alone vouches only for what
    streamlab could not tag yet (a crash between create and tag; the emulator ignores create-time
    tags) and for kinds that carry no tags, and then only for the recorded ARN and creation time."""
    if found.ours:
        return True
    if entry is None or (taggable and (entry.extra.get("tagged") or not entry.arn)):
        return False
    if entry.arn and found.arn and entry.arn != found.arn:
        return False
    return not recreated_since(found, entry)


def recreated_since(found: Found, entry: Entry) -> bool:
    """True when the untagged resource was created well after streamlab recorded its own."""
    if found.created_at is None or not entry.created:
        return False
    try:
        recorded = datetime.fromisoformat(entry.created)
    except ValueError:
        return False
    created = found.created_at
    if created.tzinfo is None or recorded.tzinfo is None:
        created, recorded = created.replace(tzinfo=None), recorded.replace(tzinfo=None)
    return created > recorded + RECREATED_SLACK


def collect(target, lab: Optional[str] = None) -> list[Item]:
    """Every ledger entry in scope plus every tagged resource, each looked up once. Sorted by
    dependency rank (lowest first), then name."""
    items: dict[tuple[str, str], Item] = {}
    for entry in target.ledger.entries(target.scope):
        if entry.kind not in target.kinds:
            continue  # written by a newer streamlab: leave it for that version
        items[(entry.kind, entry.name)] = Item(entry.kind, entry.name, entry=entry, taggable=target.kind(entry.kind).taggable)
    names = list(target.kinds)
    for kind_name, founds in zip(names, in_parallel(lambda n: target.kinds[n].list_ours(), names)):
        for found in founds:
            item = items.setdefault((kind_name, found.name), Item(kind_name, found.name, taggable=target.kinds[kind_name].taggable))
            item.found = found
    unresolved = [key for key, item in items.items() if item.found is None]
    for key, found in zip(unresolved, in_parallel(lambda k: target.kind(k[0]).get(k[1]), unresolved)):
        items[key].found = found
    out = [i for i in items.values() if lab is None or i.lab == lab]
    return sorted(out, key=lambda i: (target.kind(i.kind).rank, i.kind, i.name))


def other_scopes(target) -> dict[str, int]:
    """Ledger entries recorded for other endpoints/regions/accounts: '<where>' -> count."""
    from streamlab.aws.ledger import Scope

    out: dict[str, int] = {}
    for entry in target.ledger.entries():
        if target.scope.matches(entry):
            continue
        where = Scope(entry.endpoint, entry.region).describe()
        if entry.account and entry.account != target.scope.account:
            where += f" (account {entry.account})"
        out[where] = out.get(where, 0) + 1
    return out


def other_scopes_note(target) -> Optional[str]:
    others = other_scopes(target)
    if not others:
        return None
    listed = "; ".join(f"{n} in {where}" for where, n in sorted(others.items()))
    return f"note: the ledger also lists resources elsewhere, not looked at here: {listed}"
