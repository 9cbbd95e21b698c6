"""Kinesis data streams as a resource kind: provisioned (N shards) or on-demand.

Prices are us-east-1 list prices used only for the estimate shown in plans and `status`:
provisioned $0.015 per shard-hour, on-demand $0.04 per stream-hour; retention beyond 24 h (up to 7
days) adds $0.02 per shard-hour on provisioned streams (on-demand bills it per GB, not estimated);
PUT payload units and data charges are not included. Other regions cost a little more.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from streamlab import console
from streamlab.aws.resources.base import TAG_CREATED_BY, CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import ours
from streamlab.errors import ConfigError, StreamlabError

SHARD_HOUR = 0.015
EXTENDED_RETENTION_SHARD_HOUR = 0.02
DEFAULT_RETENTION = 24
MAX_RETENTION = 8760
ON_DEMAND_STREAM_HOUR = 0.04

PROVISIONED = "PROVISIONED"
ON_DEMAND = "ON_DEMAND"

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

#: AWS's default shard quota per account and region (Service Quotas, "Shards per Region"): 500 in
#: these three regions, 200 in every other; a quota increase request raises it
SHARD_QUOTA_500_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
SHARD_QUOTA_ELSEWHERE = 200


def default_shard_quota(region: str) -> int:
    return 500 if region in SHARD_QUOTA_500_REGIONS else SHARD_QUOTA_ELSEWHERE


class KinesisStream(ResourceKind):
    kind = "kinesis"
    label = "Kinesis stream"
    rank = 10  # read by Firehose, Lambda and Spark: created first, deleted last

    @property
    def client(self):
        return self.aws.client("kinesis")

    # --- describing ------------------------------------------------------------------------
    def normalise(self, spec: Spec) -> Spec:
        if not _NAME.match(spec.name):
            raise ConfigError(
                f"invalid Kinesis stream name {spec.name!r}",
                "use 1-128 letters, digits, '_', '.' or '-'",
            )
        on_demand = bool(spec.params.get("on_demand"))
        shards = spec.params.get("shards")
        if on_demand and shards is not None:
            raise ConfigError("--shards and --on-demand cannot be used together", "pick one (on-demand has no shard count)")
        if not on_demand and shards is not None and int(shards) < 1:
            raise ConfigError(f"--shards must be at least 1, got {shards}", "pass --shards 1 or more")
        retention = int(spec.params.get("retention_hours") or DEFAULT_RETENTION)
        if not DEFAULT_RETENTION <= retention <= MAX_RETENTION:
            raise ConfigError(f"--retention-hours must be 24-8760, got {retention}", "Kinesis keeps records 24 hours to 365 days")
        params: dict[str, Any] = {"mode": ON_DEMAND} if on_demand else {"mode": PROVISIONED, "shards": int(shards or 1)}
        params["retention_hours"] = retention
        return Spec(self.kind, spec.name, params, existing=spec.existing)

    def check(self, spec: Spec, planned: set[tuple[str, str]]) -> None:
        """Warn (before the plan) when --shards is above the account's default shard quota: AWS
        refuses the create unless the quota was raised, and every shard is billed."""
        shards = spec.params.get("shards")
        region = self.aws.region
        quota = default_shard_quota(region)
        if shards is not None and shards > quota:
            console.warn(f"--shards {shards} is above the default Kinesis quota of {quota} shards per account in {region} "
                         "(all streams together): AWS refuses the stream unless the quota was raised "
                         "(Service Quotas -> Kinesis Data Streams -> Shards per Region)")

    def details(self, params: dict[str, Any]) -> str:
        retention = int(params.get("retention_hours") or DEFAULT_RETENTION)
        keep = f", {retention} h retention" if retention != DEFAULT_RETENTION else ""
        if params.get("mode") == ON_DEMAND:
            return "on-demand" + keep
        n = params.get("shards", 1)
        return f"{n} shard{'s' if n != 1 else ''}, provisioned{keep}"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        if params.get("mode") == ON_DEMAND:
            return ON_DEMAND_STREAM_HOUR
        shards = int(params.get("shards", 1))
        extended = EXTENDED_RETENTION_SHARD_HOUR * shards if int(params.get("retention_hours") or DEFAULT_RETENTION) > DEFAULT_RETENTION else 0.0
        return SHARD_HOUR * shards + extended

    def configure(self, spec: Spec, found: Found) -> None:
        want = int(spec.params.get("retention_hours") or DEFAULT_RETENTION)
        have = int(found.params.get("retention_hours") or DEFAULT_RETENTION)
        if want > have:
            self.client.increase_stream_retention_period(StreamName=spec.name, RetentionPeriodHours=want)
        elif want < have:
            self.client.decrease_stream_retention_period(StreamName=spec.name, RetentionPeriodHours=want)
        if want != have:
            self.wait_ready(spec.name)  # UPDATING until the change is applied

    # --- talking to AWS --------------------------------------------------------------------
    def _found(self, summary: dict, tags: Optional[dict] = None) -> Found:
        mode = (summary.get("StreamModeDetails") or {}).get("StreamMode", PROVISIONED)
        params: dict[str, Any] = {"mode": mode}
        if mode == PROVISIONED:
            params["shards"] = int(summary.get("OpenShardCount", 0))
        params["retention_hours"] = int(summary.get("RetentionPeriodHours") or DEFAULT_RETENTION)
        name = summary["StreamName"]
        return Found(
            kind=self.kind,
            name=name,
            arn=summary.get("StreamARN"),
            state=summary.get("StreamStatus", "UNKNOWN"),
            tags=self._tags(name) if tags is None else tags,
            created_at=summary.get("StreamCreationTimestamp"),
            params=params,
        )

    def _summary(self, name: str) -> Optional[dict]:
        try:
            return self.client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        except self.client.exceptions.ResourceNotFoundException:
            return None

    def _tags(self, name: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        kwargs: dict[str, Any] = {"StreamName": name}
        while True:
            try:
                resp = self.client.list_tags_for_stream(**kwargs)
            except self.client.exceptions.ResourceNotFoundException:
                return tags
            for t in resp.get("Tags", []):
                tags[t["Key"]] = t.get("Value", "")
            if not resp.get("HasMoreTags") or not resp.get("Tags"):
                return tags
            kwargs["ExclusiveStartTagKey"] = resp["Tags"][-1]["Key"]

    def get(self, name: str) -> Optional[Found]:
        summary = self._summary(name)
        return self._found(summary) if summary else None

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        kwargs: dict[str, Any] = {"StreamName": spec.name, "Tags": tags}
        if spec.params["mode"] == ON_DEMAND:
            kwargs["StreamModeDetails"] = {"StreamMode": ON_DEMAND}
        else:
            kwargs["ShardCount"] = spec.params["shards"]
        c = self.client
        try:
            c.create_stream(**kwargs)
        except c.exceptions.ResourceInUseException:
            raise StreamlabError(
                f"Kinesis stream {spec.name} appeared while provisioning (someone else created it)",
                "rerun the command to see whether it is streamlab's",
            ) from None
        except c.exceptions.LimitExceededException as exc:
            raise StreamlabError(
                f"Kinesis refused to create {spec.name}: {exc.response['Error'].get('Message', 'limit exceeded')}",
                "delete unused streams (`streamlab teardown`) or use fewer shards",
            ) from None
        # The stream is CREATING; its summary (and ARN) is readable at once.
        summary = self._summary(spec.name)
        return summary.get("StreamARN") if summary else None

    def wait_ready(self, name: str) -> Found:
        def active() -> Optional[Found]:
            found = self.get(name)
            return found if found and found.state == "ACTIVE" else None

        return self.wait_for(active, f"{self.label} {name} to become ACTIVE")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = {k: v for k, v in tags.items() if found.tags.get(k) != v}
        if missing:
            # Kept separate from create: the emulator ignores Tags= on CreateStream.
            self.client.add_tags_to_stream(StreamName=found.name, Tags=missing)
            found.tags.update(missing)

    def list_ours(self) -> list[Found]:
        def check(summary: dict) -> Optional[Found]:
            name = summary["StreamName"]
            tags = self._tags(name)
            if tags.get(TAG_CREATED_BY) != CREATED_BY:
                return None
            full = self._summary(name)
            return self._found(full, tags) if full else None

        return ours(check, self._list_summaries())

    def _list_summaries(self) -> list[dict]:
        out: list[dict] = []
        kwargs: dict[str, Any] = {}
        while True:
            resp = self.client.list_streams(**kwargs)
            summaries = resp.get("StreamSummaries") or [{"StreamName": n} for n in resp.get("StreamNames", [])]
            out.extend(summaries)
            if not resp.get("HasMoreStreams") or not summaries:
                return out
            if resp.get("NextToken"):
                kwargs = {"NextToken": resp["NextToken"]}
            else:
                kwargs = {"ExclusiveStartStreamName": summaries[-1]["StreamName"]}

    def delete(self, name: str) -> None:
        c = self.client
        try:
            # Consumers (enhanced fan-out) would block the delete; they belong to the stream.
            c.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        except c.exceptions.ResourceNotFoundException:
            pass
        except c.exceptions.ResourceInUseException:
            # Already DELETING: fine. CREATING/UPDATING streams cannot be deleted yet: wait, retry once.
            found = self.get(name)
            if found is not None and found.state in ("CREATING", "UPDATING"):
                self.wait_ready(name)
                try:
                    c.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
                except c.exceptions.ResourceNotFoundException:
                    pass
