"""The contract every AWS resource kind fulfils, so provision, teardown and status stay generic.

A kind (one module each: `kinesis.py`, later `s3.py`, `iam.py`, ...) knows how to:
- validate a requested spec and describe it as a plan row (details, estimated $/hour),
- look one resource up by name (`get` -> `Found` or None) with its tags and state,
- start creating it with streamlab's tags (`create`, returns the ARN at once so the caller can write
  the ledger before anything else is created), then `wait_ready` (bounded),
- `ensure_tags` (some services, and the emulator, drop tags given at create time),
- list every resource of the kind tagged `streamlab:created-by=streamlab` (`list_ours`),
- `delete` (already gone is fine) and `wait_gone` (bounded; AWS deletes asynchronously).

`rank` orders kinds by dependency: lower ranks are created first and deleted last (a stream
before the Firehose that reads it; an IAM role before the Lambda that assumes it).
Time is injected (`sleep`, `clock`) so waits can be tested without waiting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, ClassVar, Optional

from streamlab.errors import StreamlabError

TAG_LAB = "streamlab:lab"
TAG_CREATED_BY = "streamlab:created-by"
CREATED_BY = "streamlab"

DEFAULT_WAIT_SECONDS = 300.0


def streamlab_tags(lab: str) -> dict[str, str]:
    return {TAG_LAB: lab, TAG_CREATED_BY: CREATED_BY}


@dataclass
class Spec:
    """A resource the user asked for: kind name, resource name, kind-specific parameters."""

    kind: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    # "refuse": a same-named resource streamlab did not create is an error (the default).
    # "use": it is used as it is, never recorded, never modified or deleted (e.g. the bucket a
    # Firehose writes to, a policy attachment that was already there).
    existing: str = "refuse"


@dataclass
class Found:
    """A resource that exists, as the service reports it."""

    kind: str
    name: str
    arn: Optional[str]
    state: str
    tags: dict[str, str] = field(default_factory=dict)
    created_at: Optional[datetime] = None
    # Same shape as the kind's normalised spec params, so `details`/`hourly_cost` work on both.
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ours(self) -> bool:
        return self.tags.get(TAG_CREATED_BY) == CREATED_BY

    @property
    def lab(self) -> Optional[str]:
        return self.tags.get(TAG_LAB)


class WaitTimeout(StreamlabError):
    """A resource did not reach the wanted state within the bounded wait."""


class ResourceKind:
    kind: ClassVar[str]  # registry key and ledger `kind`, e.g. "kinesis"
    label: ClassVar[str]  # for people, e.g. "Kinesis stream"
    rank: ClassVar[int] = 50
    # False for things AWS cannot tag (a policy attachment, an SNS subscription, an EventBridge
    # target, a Lambda destination): the ledger entry is then the only record that it is ours.
    taggable: ClassVar[bool] = True
    # Set (to the flag's name) for kinds teardown only deletes when asked, e.g. EMR clusters: "--emr".
    opt_in: ClassVar[Optional[str]] = None

    def __init__(
        self,
        aws,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ):
        self.aws = aws
        self.sleep = sleep
        self.clock = clock
        self.wait_seconds = wait_seconds

    # --- describing ------------------------------------------------------------------------
    def normalise(self, spec: Spec) -> Spec:
        """Validate the spec (ConfigError on bad input) and fill defaults."""
        return spec

    def details(self, params: dict[str, Any]) -> str:
        return ""

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        """Estimated $/hour while it exists (list price, us-east-1, data charges excluded)."""
        return None

    def check(self, spec: Spec, planned: set[tuple[str, str]]) -> None:
        """Live checks before anything is created (ConfigError), e.g. that a role to attach a
        policy to exists. `planned` holds the (kind, name) pairs created by the same plan."""

    def is_ready(self, found: Found) -> bool:
        return found.state == "ACTIVE"

    # --- talking to AWS --------------------------------------------------------------------
    def get(self, name: str) -> Optional[Found]:
        raise NotImplementedError

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        raise NotImplementedError

    def wait_ready(self, name: str) -> Found:
        raise NotImplementedError

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        raise NotImplementedError

    def updatable(self, found: Found, spec: Spec) -> Optional[str]:
        """What an in-place update would change to make `found` what `spec` asks for (for the plan,
        e.g. "code 1a2b3c -> 4d5e6f"), or None: the kind does not update in place, or nothing
        differs. Only a resource streamlab made is ever updated."""
        return None

    def update(self, spec: Spec, found: Found) -> None:
        """Bring `found` to `spec` in place (only called when `updatable` said what would change)."""
        raise NotImplementedError

    def configure(self, spec: Spec, found: Found) -> None:
        """Settle what belongs to the resource once it is ready (seed a table, a bucket's access
        block). Runs on every provision, so it must be idempotent and never undo user data."""

    def list_ours(self) -> list[Found]:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError

    def wait_gone(self, name: str) -> None:
        self.wait_for(lambda: self.get(name) is None, f"{self.label} {name} to be deleted")

    # --- helpers ---------------------------------------------------------------------------
    def wait_for(self, done: Callable[[], Any], what: str, interval: float = 1.0) -> Any:
        """Poll `done` until it returns something truthy, for at most `wait_seconds`."""
        deadline = self.clock() + self.wait_seconds
        while True:
            result = done()
            if result:
                return result
            if self.clock() >= deadline:
                raise WaitTimeout(
                    f"gave up waiting for {what} after {self.wait_seconds:.0f}s",
                    "check it in the AWS console, then rerun the command (it picks up where it stopped)",
                )
            self.sleep(interval)
