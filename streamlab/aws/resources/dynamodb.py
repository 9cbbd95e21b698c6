"""DynamoDB tables as a resource kind: on-demand (pay per request), one string partition key.

A table may be seeded: `seed` maps key -> {attribute: number}; items are written only when absent,
so rerunning provision never resets data a Lambda has since changed.
Cost: on-demand tables have no hourly charge: $0.625 per million writes, $0.125 per million reads,
$0.25 per GB-month (us-east-1); a 5-item table at rest is $0. Provisioned tables (not created by
streamlab, but shown if adopted) cost $0.00065 per WCU-hour and $0.00013 per RCU-hour.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import ignoring, is_code, missing_tags, ours, tag_dict, tag_list, unless_missing
from streamlab.errors import ConfigError

_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
WCU_HOUR = 0.00065
RCU_HOUR = 0.00013
ON_DEMAND = "PAY_PER_REQUEST"


class DynamoTable(ResourceKind):
    kind = "dynamodb"
    label = "DynamoDB table"
    rank = 10

    @property
    def client(self):
        return self.aws.client("dynamodb")

    def normalise(self, spec: Spec) -> Spec:
        if not _NAME.match(spec.name):
            raise ConfigError(f"invalid DynamoDB table name {spec.name!r}", "use 3-255 letters, digits, '_', '.' or '-'")
        params = {"key": spec.params.get("key", "symbol"), "billing": ON_DEMAND, "seed": spec.params.get("seed") or {}}
        return Spec(self.kind, spec.name, params, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        if params.get("billing") == ON_DEMAND:
            mode = "on-demand ($0.625/M writes, $0.125/M reads)"
        else:
            mode = f"provisioned {params.get('rcu', 0)} RCU / {params.get('wcu', 0)} WCU"
        return f"key {params.get('key', '?')}, {mode}"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        if params.get("billing") == ON_DEMAND:
            return 0.0
        return WCU_HOUR * params.get("wcu", 0) + RCU_HOUR * params.get("rcu", 0)

    def _found(self, table: dict, tags: Optional[dict] = None) -> Found:
        billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        throughput = table.get("ProvisionedThroughput") or {}
        if billing != ON_DEMAND and not throughput.get("ReadCapacityUnits") and not throughput.get("WriteCapacityUnits"):
            billing = ON_DEMAND
        key = next((k["AttributeName"] for k in table.get("KeySchema", []) if k["KeyType"] == "HASH"), "?")
        params: dict[str, Any] = {"key": key, "billing": billing}
        if billing != ON_DEMAND:
            params.update(rcu=throughput.get("ReadCapacityUnits", 0), wcu=throughput.get("WriteCapacityUnits", 0))
        if tags is None:
            tags = self._tags(table["TableArn"])
        return Found(self.kind, table["TableName"], table["TableArn"], table.get("TableStatus", "UNKNOWN"),
                     tags=tags, created_at=table.get("CreationDateTime"), params=params)

    def _tags(self, arn: str) -> dict[str, str]:
        return unless_missing(
            lambda: tag_dict(self.client.list_tags_of_resource(ResourceArn=arn).get("Tags")),
            "ResourceNotFoundException", default={},
        )

    def get(self, name: str) -> Optional[Found]:
        table = unless_missing(lambda: self.client.describe_table(TableName=name)["Table"], "ResourceNotFoundException")
        if table is None:
            return None
        return self._found(table)

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        key = spec.params["key"]
        resp = self.client.create_table(
            TableName=spec.name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode=ON_DEMAND,
            Tags=tag_list(tags),
        )
        return resp["TableDescription"]["TableArn"]

    def wait_ready(self, name: str) -> Found:
        def active():
            f = self.get(name)
            return f if f and f.state == "ACTIVE" else None

        return self.wait_for(active, f"{self.label} {name} to become ACTIVE")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            self.client.tag_resource(ResourceArn=found.arn, Tags=tag_list(missing))
            found.tags.update(missing)

    def configure(self, spec: Spec, found: Found) -> None:
        key = spec.params["key"]
        for value, attrs in (spec.params.get("seed") or {}).items():
            item = {key: {"S": value}}
            item.update({k: {"N": str(Decimal(str(v)))} for k, v in attrs.items()})
            with ignoring("ConditionalCheckFailedException"):
                self.client.put_item(TableName=spec.name, Item=item, ConditionExpression="attribute_not_exists(#k)",
                                     ExpressionAttributeNames={"#k": key})

    def list_ours(self) -> list[Found]:
        names = [n for page in self.client.get_paginator("list_tables").paginate() for n in page.get("TableNames", [])]

        def check(name: str) -> Optional[Found]:
            found = self.get(name)
            return found if found and found.tags.get(TAG_CREATED_BY) == CREATED_BY else None

        return ours(check, names)

    def delete(self, name: str) -> None:
        try:
            self.client.delete_table(TableName=name)
        except Exception as exc:
            if is_code(exc, "ResourceNotFoundException"):
                return
            if is_code(exc, "ResourceInUseException"):  # CREATING/UPDATING, or already DELETING
                found = self.get(name)
                if found is not None and found.state in ("CREATING", "UPDATING"):
                    self.wait_ready(name)
                    self.client.delete_table(TableName=name)
                return
            raise
