"""Firehose delivery streams (DirectPut -> S3) as a resource kind.

The stream writes to a bucket through an IAM role (created by the same plan: see
`streamlab.aws.blueprints.firehose`). Buffering: 1 MB or 60 s, whichever first, so a lab sees its
objects within a minute. Cost: Firehose has no hourly charge; ingestion is $0.029 per GB in
us-east-1, each record rounded up to 5 KB, so the hourly estimate at rest is $0.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import (
    arns_for,
    is_code,
    missing_tags,
    ours,
    retry_role_propagation,
    tag_dict,
    tag_list,
    unless_missing,
)
from streamlab.errors import ConfigError

_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
GB_INGESTED = 0.029


class FirehoseStream(ResourceKind):
    kind = "firehose"
    label = "Firehose delivery stream"
    rank = 30  # after its role and bucket; deleted before them

    @property
    def client(self):
        return self.aws.client("firehose")

    def normalise(self, spec: Spec) -> Spec:
        if not _NAME.match(spec.name):
            raise ConfigError(f"invalid Firehose delivery stream name {spec.name!r}", "use 1-64 letters, digits, '_', '.' or '-'")
        prefix = spec.params.get("prefix") or ""
        if prefix.startswith("/"):
            raise ConfigError(f"--prefix {prefix!r} starts with '/'", "S3 prefixes have no leading slash, e.g. --prefix ticker/")
        params = {"bucket": spec.params["bucket"], "prefix": prefix, "role": spec.params["role"]}
        return Spec(self.kind, spec.name, params, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        where = f"s3://{params.get('bucket', '?')}/{params.get('prefix', '')}"
        return f"DirectPut -> {where}; ${GB_INGESTED}/GB ingested, no hourly charge"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0

    def _found(self, desc: dict, tags: Optional[dict] = None) -> Found:
        name = desc["DeliveryStreamName"]
        dest = (desc.get("Destinations") or [{}])[0]
        s3 = dest.get("ExtendedS3DestinationDescription") or dest.get("S3DestinationDescription") or {}
        params = {
            "bucket": (s3.get("BucketARN") or "").rsplit(":", 1)[-1],
            "prefix": s3.get("Prefix") or "",
            "role": (s3.get("RoleARN") or "").rsplit("/", 1)[-1],
        }
        if tags is None:
            tags = self._tags(name)
        return Found(self.kind, name, desc.get("DeliveryStreamARN"), desc.get("DeliveryStreamStatus", "UNKNOWN"),
                     tags=tags, created_at=desc.get("CreateTimestamp"), params=params)

    def _tags(self, name: str) -> dict[str, str]:
        return unless_missing(
            lambda: tag_dict(self.client.list_tags_for_delivery_stream(DeliveryStreamName=name).get("Tags")),
            "ResourceNotFoundException", default={},
        )

    def get(self, name: str) -> Optional[Found]:
        desc = unless_missing(
            lambda: self.client.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"],
            "ResourceNotFoundException",
        )
        if desc is None:
            return None
        return self._found(desc)

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        p = spec.params
        role_arn = self.aws.client("iam").get_role(RoleName=p["role"])["Role"]["Arn"]
        s3: dict[str, Any] = {
            "RoleARN": role_arn,
            "BucketARN": arns_for(self).bucket(p["bucket"]),
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
            "CompressionFormat": "UNCOMPRESSED",
        }
        if p["prefix"]:
            s3["Prefix"] = p["prefix"]
            s3["ErrorOutputPrefix"] = p["prefix"].rstrip("/") + "-errors/!{firehose:error-output-type}/"

        def call():
            return self.client.create_delivery_stream(
                DeliveryStreamName=spec.name,
                DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration=s3,
                Tags=tag_list(tags),
            )

        resp = retry_role_propagation(self, call, "Firehose", ("InvalidArgumentException",))
        return resp.get("DeliveryStreamARN") or arns_for(self).firehose(spec.name)

    def wait_ready(self, name: str) -> Found:
        def active():
            f = self.get(name)
            return f if f and f.state == "ACTIVE" else None

        return self.wait_for(active, f"{self.label} {name} to become ACTIVE", interval=2.0)

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            self.client.tag_delivery_stream(DeliveryStreamName=found.name, Tags=tag_list(missing))
            found.tags.update(missing)

    def list_ours(self) -> list[Found]:
        names: list[str] = []
        kwargs: dict[str, Any] = {}
        while True:
            resp = self.client.list_delivery_streams(**kwargs)
            names.extend(resp.get("DeliveryStreamNames", []))
            if not resp.get("HasMoreDeliveryStreams") or not resp.get("DeliveryStreamNames"):
                break
            kwargs = {"ExclusiveStartDeliveryStreamName": names[-1]}

        def check(name: str) -> Optional[Found]:
            return self.get(name) if self._tags(name).get(TAG_CREATED_BY) == CREATED_BY else None

        return ours(check, names)

    def delete(self, name: str) -> None:
        try:
            self.client.delete_delivery_stream(DeliveryStreamName=name)
        except Exception as exc:
            if is_code(exc, "ResourceNotFoundException"):
                return
            if is_code(exc, "ResourceInUseException"):  # still CREATING: wait, then once more
                self.wait_ready(name)
                self.client.delete_delivery_stream(DeliveryStreamName=name)
                return
            raise
