"""S3 buckets as a resource kind: private by default, optionally readable by authenticated AWS accounts.

- Every bucket gets the S3 Block Public Access settings switched on, so nothing is public.
- `public_read` (from `--public-read`) instead allows only read actions (list the bucket, get
  objects) to principals that signed their request, i.e. any authenticated AWS account, never an
  anonymous caller, and never a write. For that the two policy-related block settings are turned off
  (AWS counts any `"AWS": "*"` grant as public); the two ACL-related ones stay on.
- Re-provisioning a public bucket without `--public-read` makes it private again (an `update` row
  in the plan: streamlab's read statements leave the policy, the four blocks go back on); with
  `--public-read` a private bucket of streamlab's becomes readable the same way.
- Deleting empties the bucket first (every object version and delete marker); `teardown
  --keep-bucket` skips buckets altogether.
- Cost: storage is billed per GB-month ($0.023 in us-east-1) plus requests; at rest an empty lab
  bucket costs nothing, so the hourly estimate is $0.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import (
    arns_for,
    canonical_json,
    is_code,
    missing_tags,
    ours,
    tag_dict,
    tag_list,
    unless_missing,
)
from streamlab.errors import ConfigError, StreamlabError

READ_SID = "StreamlabAuthenticatedRead"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GONE = ("404", "NoSuchBucket", "NotFound")


def public_read_policy(bucket: str, partition: str = "aws") -> dict:
    """Read-only for any principal that signed its request (aws:PrincipalAccount is absent from
    anonymous requests, so `Null: false` shuts anonymous callers out)."""
    arn = f"arn:{partition}:s3:::{bucket}"
    signed = {"Null": {"aws:PrincipalAccount": "false"}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": READ_SID + "List",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": arn,
                "Condition": signed,
            },
            {
                "Sid": READ_SID,
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetObject"],
                "Resource": f"{arn}/*",
                "Condition": signed,
            },
        ],
    }


def validate_bucket_name(name: str) -> None:
    if not _NAME.match(name) or ".." in name:
        raise ConfigError(
            f"invalid S3 bucket name {name!r}",
            "use 3-63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit",
        )


class S3Bucket(ResourceKind):
    kind = "s3-bucket"
    label = "S3 bucket"
    rank = 10  # written to by Firehose: created before it, deleted after it

    @property
    def client(self):
        return self.aws.client("s3")

    def normalise(self, spec: Spec) -> Spec:
        validate_bucket_name(spec.name)
        public = spec.params.get("public_read")  # None: whatever it is (the bucket a Firehose writes to)
        return Spec(self.kind, spec.name, {"public_read": None if public is None else bool(public)}, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        if params.get("public_read"):
            return "READ by any authenticated AWS account (no write, no anonymous access); storage $0.023/GB-month"
        return "private (public access blocked); storage $0.023/GB-month"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0

    # --- talking to AWS --------------------------------------------------------------------
    def _tags(self, name: str) -> dict[str, str]:
        return unless_missing(
            lambda: tag_dict(self.client.get_bucket_tagging(Bucket=name).get("TagSet")),
            "NoSuchTagSet", "AccessDenied", *_GONE, default={},
        )

    def _public_read(self, name: str) -> bool:
        policy = unless_missing(
            lambda: json.loads(self.client.get_bucket_policy(Bucket=name)["Policy"]),
            "NoSuchBucketPolicy", "AccessDenied", *_GONE,
        )
        if policy is None:
            return False
        return any(st.get("Sid") == READ_SID for st in policy.get("Statement", []))

    def get(self, name: str) -> Optional[Found]:
        try:
            self.client.head_bucket(Bucket=name)
        except Exception as exc:
            if is_code(exc, *_GONE):
                return None
            if is_code(exc, "403", "AccessDenied"):
                # It exists, in somebody else's account: never ours.
                return Found(self.kind, name, arns_for(self).bucket(name), "ACTIVE", params={"public_read": False})
            raise
        return Found(
            kind=self.kind,
            name=name,
            arn=arns_for(self).bucket(name),
            state="ACTIVE",
            tags=self._tags(name),
            params={"public_read": self._public_read(name)},
        )

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        kwargs: dict[str, Any] = {"Bucket": spec.name}
        if self.aws.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.aws.region}
        try:
            self.client.create_bucket(**kwargs)
        except Exception as exc:
            if is_code(exc, "BucketAlreadyExists"):
                raise ConfigError(
                    f"the S3 bucket name {spec.name} is taken by another AWS account (bucket names are global)",
                    "pick another name (--name/--bucket, or a --name-template with your initials)",
                ) from None
            if is_code(exc, "BucketAlreadyOwnedByYou"):
                raise StreamlabError(f"S3 bucket {spec.name} appeared while provisioning", "rerun the command") from None
            raise
        # Block public access before anything else can happen to it.
        self._block_public(spec.params.get("public_read", False), spec.name)
        self.client.put_bucket_tagging(Bucket=spec.name, Tagging={"TagSet": tag_list(tags)})
        return arns_for(self).bucket(spec.name)

    def wait_ready(self, name: str) -> Found:
        return self.wait_for(lambda: self.get(name), f"{self.label} {name} to exist")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            merged = {**found.tags, **missing}  # PutBucketTagging replaces the whole set
            self.client.put_bucket_tagging(Bucket=found.name, Tagging={"TagSet": tag_list(merged)})
            found.tags.update(missing)

    def updatable(self, found: Found, spec: Spec) -> Optional[str]:
        was, want = bool(found.params.get("public_read")), spec.params.get("public_read")
        if want is None or was == bool(want):
            return None
        if was:
            return "make it private (asked without --public-read): remove the read policy, block public access"
        return "make it readable by authenticated AWS accounts (--public-read)"

    def update(self, spec: Spec, found: Found) -> None:
        """public -> private: drop streamlab's read statements (other statements stay); `configure`
        then puts the blocks back on. private -> public: `configure` does it all."""
        if spec.params.get("public_read"):
            return
        policy = unless_missing(lambda: json.loads(self.client.get_bucket_policy(Bucket=spec.name)["Policy"]), "NoSuchBucketPolicy")
        rest = [st for st in (policy or {}).get("Statement", []) if not str(st.get("Sid", "")).startswith(READ_SID)]
        if rest:
            self.client.put_bucket_policy(Bucket=spec.name, Policy=canonical_json({**policy, "Statement": rest}))
        elif policy is not None:
            self.client.delete_bucket_policy(Bucket=spec.name)
        found.params["public_read"] = False

    def _block_public(self, public_read: bool, name: str) -> None:
        self.client.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": not public_read,
                "RestrictPublicBuckets": not public_read,
            },
        )

    def configure(self, spec: Spec, found: Found) -> None:
        public = bool(spec.params.get("public_read"))
        self._block_public(public, spec.name)
        if public:
            policy = public_read_policy(spec.name, arns_for(self).partition)
            self.client.put_bucket_policy(Bucket=spec.name, Policy=canonical_json(policy))
            found.params["public_read"] = True

    def list_ours(self) -> list[Found]:
        def check(b: dict) -> Optional[Found]:
            name = b["Name"]
            tags = self._tags(name)
            if tags.get(TAG_CREATED_BY) != CREATED_BY or self._region(name) != self.aws.region:
                return None
            return Found(self.kind, name, arns_for(self).bucket(name), "ACTIVE", tags=tags, created_at=b.get("CreationDate"),
                         params={"public_read": self._public_read(name)})

        return ours(check, self.client.list_buckets().get("Buckets", []))

    def _region(self, name: str) -> str:
        resp = unless_missing(lambda: self.client.get_bucket_location(Bucket=name), *_GONE)
        if resp is None:
            return ""
        loc = resp.get("LocationConstraint")  # None means us-east-1
        return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc)

    def empty(self, name: str) -> int:
        """Delete every object version and delete marker (1,000 per call). Returns how many."""
        n = 0
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=name):
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for i in range(0, len(keys), 1000):
                self.client.delete_objects(Bucket=name, Delete={"Objects": keys[i : i + 1000], "Quiet": True})
                n += len(keys[i : i + 1000])
        return n

    def delete(self, name: str) -> None:
        for attempt in range(3):  # a writer (Firehose's last flush) may add objects meanwhile
            try:
                self.empty(name)
                self.client.delete_bucket(Bucket=name)
                return
            except Exception as exc:
                if is_code(exc, *_GONE):
                    return
                if is_code(exc, "BucketNotEmpty") and attempt < 2:
                    self.sleep(1.0)
                    continue
                raise
