"""SNS topics and their subscriptions as resource kinds.

A subscription cannot be tagged: its ledger entry is the record (deleting its topic also removes
it, so a lost ledger still leaves nothing behind). Name: `TOPIC/PROTOCOL:ENDPOINT`, e.g.
`streamlab-alerts/email:me@example.com`. An email subscription stays "pending confirmation" until
its owner clicks the link AWS mails; AWS deletes unconfirmed ones after a few days.
Cost: topics are free at rest; email deliveries cost $2 per 100,000 (first 1,000/month free).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import arns_for, ignoring, missing_tags, ours, tag_dict, tag_list, unless_missing
from streamlab.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SnsTopic(ResourceKind):
    kind = "sns-topic"
    label = "SNS topic"
    rank = 10

    @property
    def client(self):
        return self.aws.client("sns")

    def normalise(self, spec: Spec) -> Spec:
        if not _NAME.match(spec.name):
            raise ConfigError(f"invalid SNS topic name {spec.name!r}", "use letters, digits, '_' or '-'")
        return Spec(self.kind, spec.name, {}, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        return "email $2 per 100,000 deliveries"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0

    def arn(self, name: str) -> str:
        return arns_for(self).sns_topic(name)

    def _tags(self, arn: str) -> dict[str, str]:
        return unless_missing(
            lambda: tag_dict(self.client.list_tags_for_resource(ResourceArn=arn).get("Tags")),
            "NotFound", "ResourceNotFound", "ResourceNotFoundException", default={},
        )

    def get(self, name: str) -> Optional[Found]:
        arn = self.arn(name)
        if unless_missing(lambda: self.client.get_topic_attributes(TopicArn=arn), "NotFound", "NotFoundException") is None:
            return None
        return Found(self.kind, name, arn, "ACTIVE", tags=self._tags(arn))

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        return self.client.create_topic(Name=spec.name, Tags=tag_list(tags))["TopicArn"]

    def wait_ready(self, name: str) -> Found:
        return self.wait_for(lambda: self.get(name), f"{self.label} {name} to exist")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            self.client.tag_resource(ResourceArn=found.arn, Tags=tag_list(missing))
            found.tags.update(missing)

    def list_ours(self) -> list[Found]:
        arns = [t["TopicArn"] for page in self.client.get_paginator("list_topics").paginate() for t in page.get("Topics", [])]

        def check(arn: str) -> Optional[Found]:
            tags = self._tags(arn)
            if tags.get(TAG_CREATED_BY) != CREATED_BY:
                return None
            return Found(self.kind, arn.rsplit(":", 1)[-1], arn, "ACTIVE", tags=tags)

        return ours(check, arns)

    def delete(self, name: str) -> None:
        with ignoring("NotFound", "NotFoundException"):
            self.client.delete_topic(TopicArn=self.arn(name))  # idempotent on AWS


class SnsSubscription(ResourceKind):
    kind = "sns-subscription"
    label = "SNS subscription"
    rank = 20  # after its topic; removed before it
    taggable = False

    @staticmethod
    def name_for(topic: str, protocol: str, endpoint: str) -> str:
        return f"{topic}/{protocol}:{endpoint}"

    @property
    def client(self):
        return self.aws.client("sns")

    def normalise(self, spec: Spec) -> Spec:
        p = spec.params
        if p.get("protocol") == "email" and not _EMAIL.match(p.get("endpoint", "")):
            raise ConfigError(f"not an email address: {p.get('endpoint')!r}", "pass --email you@example.com")
        params = {"topic": p["topic"], "protocol": p["protocol"], "endpoint": p["endpoint"]}
        return Spec(self.kind, self.name_for(**params), params, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        extra = " (AWS mails a confirmation link first)" if params.get("protocol") == "email" else ""
        return f"{params.get('protocol')} to {params.get('endpoint')}{extra}"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0

    def is_ready(self, found: Found) -> bool:
        return True  # pending confirmation is as ready as AWS lets it be

    def _split(self, name: str) -> tuple[str, str, str]:
        topic, _, rest = name.partition("/")
        protocol, _, endpoint = rest.partition(":")
        return topic, protocol, endpoint

    def get(self, name: str) -> Optional[Found]:
        topic, protocol, endpoint = self._split(name)
        arn = arns_for(self).sns_topic(topic)
        pages = unless_missing(
            lambda: list(self.client.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)),
            "NotFound", "NotFoundException",
        )
        if pages is None:
            return None
        for page in pages:
            for s in page.get("Subscriptions", []):
                if s.get("Protocol") == protocol and s.get("Endpoint") == endpoint:
                    sub_arn = s.get("SubscriptionArn", "")
                    state = "CONFIRMED" if sub_arn.startswith("arn:") else "PENDING CONFIRMATION"
                    return Found(self.kind, name, sub_arn if sub_arn.startswith("arn:") else None, state,
                                 params={"topic": topic, "protocol": protocol, "endpoint": endpoint})
        return None

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        p = spec.params
        resp = self.client.subscribe(TopicArn=arns_for(self).sns_topic(p["topic"]), Protocol=p["protocol"],
                                     Endpoint=p["endpoint"], ReturnSubscriptionArn=True)
        return resp.get("SubscriptionArn")

    def wait_ready(self, name: str) -> Found:
        return self.wait_for(lambda: self.get(name), f"{self.label} {name} to be listed")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        pass  # subscriptions cannot be tagged: the ledger entry is the record

    def list_ours(self) -> list[Found]:
        return []

    def wait_gone(self, name: str) -> None:
        def gone_or_pending():
            found = self.get(name)
            return found is None or found.arn is None  # pending: leaves with its topic

        self.wait_for(gone_or_pending, f"{self.label} {name} to be removed")

    def delete(self, name: str) -> None:
        found = self.get(name)
        if found is None or not found.arn:
            return  # gone, or pending: AWS removes it with its topic (deleted right after this)
        with ignoring("NotFound", "NotFoundException", "InvalidParameter"):
            self.client.unsubscribe(SubscriptionArn=found.arn)
