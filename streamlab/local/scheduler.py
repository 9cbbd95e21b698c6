"""The local stand-in for EventBridge schedules and asynchronous Lambda invocations.

The emulator keeps EventBridge rules and Lambda functions but cannot run anything (no Docker), so
scheduled functions never fire. This scheduler runs inside streamlab's emulator process (`streamlab
local up`, `streamlab demo --lab ticker-pipeline`) and does what AWS would:

- every few seconds it reads the enabled rules with a `ScheduleExpression` and their Lambda targets;
  only functions carrying streamlab's `streamlab:created-by` tag are ever invoked;
- each rule fires on its schedule (`rate(...)`, `cron(...)`, see `schedules`), on a clock that runs
  `time_scale` times faster than the wall clock (a 1-minute rule every 60/N seconds), with the event
  EventBridge sends (`"detail-type": "Scheduled Event"`, or the target's `Input`);
- an invocation is asynchronous, as EventBridge's are: it runs the function's deployed code (the zip
  stored on the emulator, checked against its CodeSha256) with `lambda_runtime`; an exception or a
  timeout is retried `MaximumRetryAttempts` times (default 2; AWS waits about 1 then 2 minutes,
  scaled here), then the event goes to the `OnFailure` destination (a Lambda function, an SNS topic
  or an SQS queue) as Lambda's destination record; `OnSuccess` likewise;
- every invocation is logged to `/aws/lambda/NAME` on the emulator, and one line per invocation
  goes to this process's output (the emulator's log).

Nothing is sent anywhere but the emulator: the functions' processes get its URL and dummy keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY
from streamlab.local import lambda_runtime, schedules

#: AWS's delays before the 1st and 2nd retry of a failed asynchronous invocation (about 1 and 2 minutes)
RETRY_DELAYS = (60.0, 120.0)
REFRESH_SECONDS = 2.0


@dataclass
class Rule:
    name: str
    arn: str
    schedule: schedules.Schedule
    targets: list[dict]  # EventBridge targets that are streamlab's Lambda functions
    start: datetime  # simulated time the rule was first seen
    next_fire: datetime


def function_name(arn: str) -> str:
    """arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] -> NAME (a plain name passes)."""
    parts = arn.split(":")
    return parts[6] if len(parts) >= 7 else arn


def _moto_code(config: dict) -> Optional[bytes]:
    """The deployed zip, from the emulator's own memory (we run in its process), if there."""
    try:
        from moto.awslambda.models import lambda_backends
    except ImportError:
        return None
    arn = config.get("FunctionArn", "")
    parts = arn.split(":")
    if len(parts) < 7:
        return None
    try:
        return lambda_backends[parts[4]][parts[3]].get_function(config["FunctionName"]).code_bytes or None
    except Exception:
        return None


def _streamlab_code(config: dict) -> Optional[bytes]:
    """streamlab's own Lambda zip (byte-identical across installs of one version), for a scheduler
    running outside the emulator's process."""
    from streamlab.lambdas.package import build_zip

    return build_zip()


def deployed_code(config: dict) -> bytes:
    """The function's zip, verified against the CodeSha256 the emulator reports."""
    want = config.get("CodeSha256")
    for source in (_moto_code, _streamlab_code):
        code = source(config)
        if code and base64.b64encode(hashlib.sha256(code).digest()).decode() == want:
            return code
    raise LookupError(f"the deployed code of {config['FunctionName']} is not available to run locally "
                      "(deployed by another streamlab version?)")


def scheduled_event(rule: Rule, fired: datetime, account: str, region: str) -> dict:
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": account, "time": fired.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [rule.arn], "detail": {},
    }


def destination_record(config: dict, event: Any, inv: lambda_runtime.Invocation, attempts: int) -> dict:
    """What Lambda sends to an asynchronous invocation's destination."""
    failed = not inv.ok
    return {
        "version": "1.0",
        "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {"requestId": inv.request_id, "functionArn": f"{config.get('FunctionArn', '')}:$LATEST",
                           "condition": "RetriesExhausted" if failed else "Success", "approximateInvokeCount": attempts},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", **({"functionError": "Unhandled"} if failed else {})},
        "responsePayload": inv.payload,
    }


class Scheduler:
    """`Scheduler(endpoint_url, time_scale=60).start()`; `.stop()`. `invocations` lists what ran."""

    def __init__(self, endpoint_url: str, *, region: Optional[str] = None, time_scale: float = 1.0,
                 say: Callable[[str], None] = print, clock: Callable[[], float] = time.time):
        if not time_scale > 0:
            raise ValueError("time_scale must be positive")
        self.endpoint_url, self.time_scale, self.say, self.clock = endpoint_url, float(time_scale), say, clock
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.rules: dict[str, Rule] = {}
        self.invocations: list[lambda_runtime.Invocation] = []
        self._real_start = clock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lambda")
        self._cache = Path(tempfile.mkdtemp(prefix="streamlab-lambda-code-"))
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- clients and clock -----------------------------------------------------------------------
    def client(self, service: str):
        with self._lock:
            if service not in self._clients:
                import boto3

                self._clients[service] = boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region,
                                                      aws_access_key_id="testing", aws_secret_access_key="testing")
            return self._clients[service]

    def now(self) -> datetime:
        """Simulated time: the wall clock since start, sped up `time_scale` times."""
        real = self.clock()
        return datetime.fromtimestamp(self._real_start + (real - self._real_start) * self.time_scale, timezone.utc)

    def sleep_scaled(self, seconds: float) -> bool:
        """Wait `seconds` of simulated time; False if stopped meanwhile."""
        return not self._stop.wait(seconds / self.time_scale)

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> "Scheduler":
        self._thread = threading.Thread(target=self._loop, name="streamlab-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        last_refresh = 0.0
        while not self._stop.is_set():
            if self.clock() - last_refresh >= REFRESH_SECONDS:
                last_refresh = self.clock()
                try:
                    self.refresh()
                except Exception as exc:  # the emulator shutting down, a transient error: try again
                    self.say(f"scheduler: could not read the rules ({type(exc).__name__}: {exc})")
            if not self._stop.is_set():
                self.fire_due(self.now())
            self._stop.wait(min(0.25, REFRESH_SECONDS / 4))

    # -- rules -----------------------------------------------------------------------------------
    def _ours(self, function_arn: str) -> bool:
        try:
            tags = self.client("lambda").list_tags(Resource=function_arn).get("Tags") or {}
        except Exception:
            return False
        return tags.get(TAG_CREATED_BY) == CREATED_BY

    def refresh(self) -> None:
        """Re-read the enabled scheduled rules and their streamlab Lambda targets."""
        events = self.client("events")
        seen: dict[str, Rule] = {}
        for page in events.get_paginator("list_rules").paginate():
            for r in page.get("Rules", []):
                if r.get("State") != "ENABLED" or not r.get("ScheduleExpression"):
                    continue
                targets = [t for t in events.list_targets_by_rule(Rule=r["Name"]).get("Targets", [])
                           if ":lambda:" in t.get("Arn", "") and self._ours(t["Arn"])]
                if not targets:
                    continue
                old = self.rules.get(r["Name"])
                if old is not None and old.schedule.expression == r["ScheduleExpression"]:
                    old.targets = targets
                    seen[r["Name"]] = old
                    continue
                try:
                    sched = schedules.parse(r["ScheduleExpression"])
                except Exception as exc:
                    self.say(f"scheduler: rule {r['Name']}: {exc}")
                    continue
                start = self.now()
                seen[r["Name"]] = Rule(r["Name"], r["Arn"], sched, targets, start, sched.next_after(start, start))
                self.say(f"scheduler: rule {r['Name']} ({r['ScheduleExpression']}) -> "
                         + ", ".join(function_name(t["Arn"]) for t in targets)
                         + (f", time x{self.time_scale:g}" if self.time_scale != 1 else ""))
        self.rules = seen

    def fire_due(self, now: datetime) -> int:
        """Fire every rule whose time has come (once per due time, however late); returns how many."""
        fired = 0
        for rule in list(self.rules.values()):
            if rule.next_fire <= now and not self._still_enabled(rule):
                self.rules.pop(rule.name, None)  # disabled or deleted since the last refresh: as on AWS, it stops at once
                continue
            while rule.next_fire <= now:
                for target in rule.targets:
                    event = json.loads(target["Input"]) if target.get("Input") else \
                        scheduled_event(rule, rule.next_fire, target["Arn"].split(":")[4], self.region)
                    try:
                        self._pool.submit(self.invoke_async, function_name(target["Arn"]), event, rule.name)
                    except RuntimeError:  # stopping: the pool takes no more work
                        return fired
                    fired += 1
                rule.next_fire = rule.schedule.next_after(rule.next_fire, rule.start)
        return fired

    def _still_enabled(self, rule: Rule) -> bool:
        try:
            return self.client("events").describe_rule(Name=rule.name).get("State") == "ENABLED"
        except Exception:
            return False

    # -- invocations -----------------------------------------------------------------------------
    def invoke(self, function: str, event: Any, why: str = "") -> lambda_runtime.Invocation:
        """One synchronous run of `function`'s deployed code, logged to its log group."""
        lam = self.client("lambda")
        config = lam.get_function_configuration(FunctionName=function)
        code_dir = lambda_runtime.unpack(deployed_code(config), self._cache)
        inv = lambda_runtime.run(config, code_dir, event, endpoint_url=self.endpoint_url, region=self.region)
        try:
            lambda_runtime.write_logs(self.client("logs"), inv, int(config.get("MemorySize") or 128))
        except Exception as exc:
            self.say(f"scheduler: could not write the logs of {function} ({exc})")
        self.invocations.append(inv)
        state = "ok" if inv.ok else f"failed: {inv.error_line}"
        self.say(f"scheduler: {function}{f' ({why})' if why else ''}: {state} in {inv.duration_ms:.0f} ms")
        return inv

    def invoke_async(self, function: str, event: Any, why: str = "") -> Optional[lambda_runtime.Invocation]:
        """An asynchronous invocation: retries, then the configured destination."""
        try:
            retries, destinations = self._async_config(function)
            attempts = 0
            while True:
                attempts += 1
                inv = self.invoke(function, event, why if attempts == 1 else f"retry {attempts - 1}")
                if inv.ok or attempts > retries:
                    break
                if not self.sleep_scaled(RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]):
                    return inv
            where = destinations.get("OnSuccess" if inv.ok else "OnFailure")
            if where:
                config = self.client("lambda").get_function_configuration(FunctionName=function)
                self._deliver(where, destination_record(config, event, inv, attempts))
            return inv
        except Exception as exc:
            self.say(f"scheduler: could not invoke {function} ({type(exc).__name__}: {exc})")
            return None

    def _async_config(self, function: str) -> tuple[int, dict[str, str]]:
        lam = self.client("lambda")
        try:
            conf = lam.get_function_event_invoke_config(FunctionName=function)
        except lam.exceptions.ResourceNotFoundException:
            return 2, {}
        dest = conf.get("DestinationConfig") or {}
        return int(conf.get("MaximumRetryAttempts", 2)), {k: (dest.get(k) or {}).get("Destination") for k in ("OnSuccess", "OnFailure")
                                                          if (dest.get(k) or {}).get("Destination")}

    def _deliver(self, arn: str, record: dict) -> None:
        service = arn.split(":")[2]
        if service == "lambda":
            self.invoke(function_name(arn), record, "destination")
        elif service == "sns":
            self.client("sns").publish(TopicArn=arn, Message=json.dumps(record))
        elif service == "sqs":
            sqs = self.client("sqs")
            url = sqs.get_queue_url(QueueName=arn.split(":")[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        else:
            self.say(f"scheduler: destination {arn} is not supported locally")
