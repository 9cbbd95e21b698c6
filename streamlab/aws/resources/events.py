"""EventBridge schedule rules and their targets as resource kinds.

A target cannot be tagged: its ledger entry is the record. Name: `RULE/FUNCTION`. Creating it also
grants EventBridge permission to invoke that function (statement id `streamlab-events-RULE`);
removing it revokes that permission. Deleting a rule streamlab created removes any target left on
it first (EventBridge refuses to delete a rule that still has targets).

Cost estimate on the rule row ("the Lambda schedule"): runs per hour x the cost of one run of the
ticker generator it drives: one 128 MB Lambda invocation of up to 1 s ($0.0000002 + 0.125 GB-s x
$0.0000166667), one DynamoDB scan and 5 writes ($0.125/M reads, $0.625/M writes) and 5 Firehose
records billed at 5 KB each ($0.029/GB). About $0.000006 per run; schedules themselves are free.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import arns_for, ignoring, missing_tags, ours, tag_dict, tag_list, unless_missing
from streamlab.errors import ConfigError, StreamlabError

_NAME = re.compile(r"^[\w.-]{1,64}$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
PER_HOUR = {"minute": 60.0, "hour": 1.0, "day": 1 / 24}

LAMBDA_RUN = 0.0000002 + 0.125 * 1.0 * 0.0000166667
DYNAMODB_RUN = 1 * 0.125e-6 + 5 * 0.625e-6
FIREHOSE_RUN = 5 * 5 / (1024 * 1024) * 0.029
COST_PER_RUN = LAMBDA_RUN + DYNAMODB_RUN + FIREHOSE_RUN


def runs_per_hour(schedule: str) -> Optional[float]:
    m = _RATE.match(schedule or "")
    if not m:
        return None  # cron(...) expressions: not estimated
    return PER_HOUR[m.group(2).rstrip("s")] / int(m.group(1))


class EventRule(ResourceKind):
    kind = "events-rule"
    label = "EventBridge rule"
    rank = 50

    @property
    def client(self):
        return self.aws.client("events")

    def normalise(self, spec: Spec) -> Spec:
        if not _NAME.match(spec.name):
            raise ConfigError(f"invalid EventBridge rule name {spec.name!r}", "use 1-64 letters, digits, '_', '.' or '-'")
        schedule = spec.params.get("schedule", "rate(1 minute)")
        if not (_RATE.match(schedule) or (schedule.startswith("cron(") and schedule.endswith(")"))):
            raise ConfigError(f"bad schedule {schedule!r}", "use rate(1 minute), rate(5 minutes) or cron(...)")
        return Spec(self.kind, spec.name, {"schedule": schedule}, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        runs = runs_per_hour(params.get("schedule", ""))
        per = f" ({runs:g} runs/hour, est. ~${COST_PER_RUN:.6f} per ticker run)" if runs else ""
        return f"{params.get('schedule')}{per}"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        runs = runs_per_hour(params.get("schedule", ""))
        return None if runs is None else runs * COST_PER_RUN

    def is_ready(self, found: Found) -> bool:
        return found.state in ("ENABLED", "DISABLED")

    def _tags(self, arn: str) -> dict[str, str]:
        return unless_missing(
            lambda: tag_dict(self.client.list_tags_for_resource(ResourceARN=arn).get("Tags")),
            "ResourceNotFoundException", default={},
        )

    def _found(self, rule: dict, tags: Optional[dict] = None) -> Found:
        return Found(self.kind, rule["Name"], rule["Arn"], rule.get("State", "UNKNOWN"),
                     tags=self._tags(rule["Arn"]) if tags is None else tags,
                     params={"schedule": rule.get("ScheduleExpression", "")})

    def get(self, name: str) -> Optional[Found]:
        rule = unless_missing(lambda: self.client.describe_rule(Name=name), "ResourceNotFoundException")
        if rule is None:
            return None
        return self._found(rule)

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        return self.client.put_rule(
            Name=spec.name,
            ScheduleExpression=spec.params["schedule"],
            State="ENABLED",
            Description="created by streamlab; `streamlab teardown` deletes it",
            Tags=tag_list(tags),
        )["RuleArn"]

    def wait_ready(self, name: str) -> Found:
        return self.wait_for(lambda: self.get(name), f"{self.label} {name} to exist")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            self.client.tag_resource(ResourceARN=found.arn, Tags=tag_list(missing))
            found.tags.update(missing)

    def list_ours(self) -> list[Found]:
        rules: list[dict] = []
        kwargs: dict[str, Any] = {}
        while True:
            resp = self.client.list_rules(**kwargs)
            rules.extend(resp.get("Rules", []))
            if not resp.get("NextToken"):
                break
            kwargs = {"NextToken": resp["NextToken"]}

        def check(rule: dict) -> Optional[Found]:
            tags = self._tags(rule["Arn"])
            return self._found(rule, tags) if tags.get(TAG_CREATED_BY) == CREATED_BY else None

        return ours(check, rules)

    def delete(self, name: str) -> None:
        c = self.client
        with ignoring("ResourceNotFoundException"):
            ids = [t["Id"] for t in c.list_targets_by_rule(Rule=name).get("Targets", [])]
            if ids:
                c.remove_targets(Rule=name, Ids=ids, Force=True)
            c.delete_rule(Name=name)


class EventTarget(ResourceKind):
    """A Lambda function as the target of a rule. Name: `RULE/FUNCTION` (target id = function)."""

    kind = "events-target"
    label = "EventBridge target"
    rank = 60  # after the rule and the function; removed first
    taggable = False

    @property
    def client(self):
        return self.aws.client("events")

    @staticmethod
    def name_for(rule: str, function: str) -> str:
        return f"{rule}/{function}"

    def normalise(self, spec: Spec) -> Spec:
        params = {"rule": spec.params["rule"], "function": spec.params["function"]}
        return Spec(self.kind, self.name_for(**params), params, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        return f"rule {params.get('rule')} invokes Lambda {params.get('function')}"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0

    def is_ready(self, found: Found) -> bool:
        return True

    def get(self, name: str) -> Optional[Found]:
        rule, _, function = name.partition("/")
        targets = unless_missing(
            lambda: self.client.list_targets_by_rule(Rule=rule).get("Targets", []),
            "ResourceNotFoundException",
        )
        if targets is None:
            return None
        for t in targets:
            if t["Id"] == function:
                return Found(self.kind, name, t.get("Arn"), "ACTIVE", params={"rule": rule, "function": t["Arn"].rsplit(":", 1)[-1]})
        return None

    def _statement_id(self, rule: str) -> str:
        return f"streamlab-events-{rule}"[:100]

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        rule, function = spec.params["rule"], spec.params["function"]
        arns = arns_for(self)
        fn_arn = arns.function(function)
        with ignoring("ResourceConflictException"):  # granted by an earlier run
            self.aws.client("lambda").add_permission(
                FunctionName=function,
                StatementId=self._statement_id(rule),
                Action="lambda:InvokeFunction",
                Principal="events.amazonaws.com",
                SourceArn=arns.rule(rule),
            )
        resp = self.client.put_targets(Rule=rule, Targets=[{"Id": function, "Arn": fn_arn}])
        if resp.get("FailedEntryCount"):
            entry = resp["FailedEntries"][0]
            raise StreamlabError(f"EventBridge refused target {function} on rule {rule}: {entry.get('ErrorMessage')}")
        return fn_arn

    def wait_ready(self, name: str) -> Found:
        return self.wait_for(lambda: self.get(name), f"{self.label} {name} to be listed")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        pass

    def list_ours(self) -> list[Found]:
        return []

    def delete(self, name: str) -> None:
        rule, _, function = name.partition("/")
        with ignoring("ResourceNotFoundException"):
            self.client.remove_targets(Rule=rule, Ids=[function], Force=True)
        with ignoring("ResourceNotFoundException"):
            self.aws.client("lambda").remove_permission(FunctionName=function, StatementId=self._statement_id(rule))
