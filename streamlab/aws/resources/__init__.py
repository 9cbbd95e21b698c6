"""Resource kinds by name: one module per AWS service streamlab provisions.

Adding a kind = one module with a `ResourceKind` subclass and one line in `KINDS`. Nothing here
imports boto3; kinds get their clients from `streamlab.aws.session.AWS` when they run.
"""

from __future__ import annotations

from streamlab.aws.resources.base import (
    CREATED_BY,
    TAG_CREATED_BY,
    TAG_LAB,
    Found,
    ResourceKind,
    Spec,
    streamlab_tags,
)
from streamlab.aws.resources.kinesis import KinesisStream

KINDS: dict[str, type[ResourceKind]] = {cls.kind: cls for cls in (KinesisStream,)}

__all__ = ["KINDS", "CREATED_BY", "TAG_CREATED_BY", "TAG_LAB", "Found", "ResourceKind", "Spec", "streamlab_tags"]
