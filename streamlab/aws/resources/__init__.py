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
from streamlab.aws.resources.dynamodb import DynamoTable
from streamlab.aws.resources.emr import EmrCluster
from streamlab.aws.resources.events import EventRule, EventTarget
from streamlab.aws.resources.firehose import FirehoseStream
from streamlab.aws.resources.function import LambdaDestination, LambdaFunction
from streamlab.aws.resources.iam import IamAttachment, IamPolicy, IamRole
from streamlab.aws.resources.kinesis import KinesisStream
from streamlab.aws.resources.s3 import S3Bucket
from streamlab.aws.resources.sns import SnsSubscription, SnsTopic

KINDS: dict[str, type[ResourceKind]] = {
    cls.kind: cls
    for cls in (
        KinesisStream,
        S3Bucket,
        DynamoTable,
        SnsTopic,
        IamPolicy,
        IamRole,
        IamAttachment,
        SnsSubscription,
        FirehoseStream,
        LambdaFunction,
        LambdaDestination,
        EventRule,
        EventTarget,
        EmrCluster,
    )
}

__all__ = ["KINDS", "CREATED_BY", "TAG_CREATED_BY", "TAG_LAB", "Found", "ResourceKind", "Spec", "streamlab_tags"]
