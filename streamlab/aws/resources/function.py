"""Lambda functions, and their asynchronous on-failure destination, as resource kinds.

The code is the zip streamlab builds itself (`streamlab.lambdas.package`): the handler modules plus
the few pure-Python pieces of streamlab they import; its SHA-256 is part of the plan, so a changed
package (a newer streamlab) shows up as a difference and provisioning again updates the function in
place (`update`: the code, then the configuration), keeping its name, ARN and event sources.
A function's event-invoke config (retries + on-failure destination) cannot be tagged: its ledger
entry is the record; deleting the function also removes it.
Cost: Lambda bills per request ($0.20 per million) and per GB-second ($0.0000166667); an idle
function costs $0. What a schedule makes it cost is estimated on the EventBridge rule's row.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import arns_for, ignoring, missing_tags, ours, retry_role_propagation, unless_missing
from streamlab.errors import ConfigError

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
RUNTIME = "python3.12"


class LambdaFunction(ResourceKind):
    kind = "lambda"
    label = "Lambda function"
    rank = 40  # after roles, table, topic, delivery stream it uses; before rules/destinations using it

    @property
    def client(self):
        return self.aws.client("lambda")

    def normalise(self, spec: Spec) -> Spec:
        if not _NAME.match(spec.name):
            raise ConfigError(f"invalid Lambda function name {spec.name!r}", "use 1-64 letters, digits, '_' or '-'")
        from streamlab.lambdas.package import code_sha256

        p = spec.params
        params = {
            "handler": p["handler"],
            "runtime": p.get("runtime", RUNTIME),
            "memory": int(p.get("memory", 128)),
            "timeout": int(p.get("timeout", 30)),
            "role": p["role"],
            "env": dict(sorted((p.get("env") or {}).items())),
            "code_sha256": code_sha256(),
        }
        return Spec(self.kind, spec.name, params, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        env = ", ".join(f"{k}={v}" for k, v in (params.get("env") or {}).items())
        return (f"{params.get('runtime')} {params.get('handler')}, {params.get('memory')} MB, role {params.get('role')}"
                f"{'; ' + env if env else ''}; code {str(params.get('code_sha256', ''))[:10]}")

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0

    def _found(self, conf: dict, tags: Optional[dict] = None) -> Found:
        params = {
            "handler": conf.get("Handler"),
            "runtime": conf.get("Runtime"),
            "memory": conf.get("MemorySize"),
            "timeout": conf.get("Timeout"),
            "role": (conf.get("Role") or "").rsplit("/", 1)[-1],
            "env": dict(sorted(((conf.get("Environment") or {}).get("Variables") or {}).items())),
            "code_sha256": conf.get("CodeSha256"),
        }
        if tags is None:
            tags = self.client.list_tags(Resource=conf["FunctionArn"]).get("Tags", {})
        state = (conf.get("State") or "Active").upper()
        return Found(self.kind, conf["FunctionName"], conf["FunctionArn"], state, tags=dict(tags), params=params)

    def get(self, name: str) -> Optional[Found]:
        resp = unless_missing(lambda: self.client.get_function(FunctionName=name), "ResourceNotFoundException")
        if resp is None:
            return None
        return self._found(resp["Configuration"], resp.get("Tags") or {})

    def updatable(self, found: Found, spec: Spec) -> Optional[str]:
        want, have = spec.params, found.params
        changed = [k for k in ("handler", "runtime", "memory", "timeout", "role", "env") if want.get(k) != have.get(k)]
        if want.get("code_sha256") != have.get("code_sha256"):
            changed.insert(0, f"code {str(have.get('code_sha256'))[:10]} -> {str(want.get('code_sha256'))[:10]}")
        return ", ".join(changed) or None

    def update(self, spec: Spec, found: Found) -> None:
        from streamlab.lambdas.package import build_zip

        p, name = spec.params, spec.name
        if p["code_sha256"] != found.params.get("code_sha256"):
            self.client.update_function_code(FunctionName=name, ZipFile=build_zip())
            self._wait_updated(name)
        config = {k: p[k] for k in ("handler", "runtime", "memory", "timeout", "role", "env")}
        if any(config[k] != found.params.get(k) for k in config):
            role_arn = self.aws.client("iam").get_role(RoleName=p["role"])["Role"]["Arn"]
            self.client.update_function_configuration(
                FunctionName=name, Role=role_arn, Handler=p["handler"], Runtime=p["runtime"],
                Timeout=p["timeout"], MemorySize=p["memory"], Environment={"Variables": p["env"]},
            )
            self._wait_updated(name)

    def _wait_updated(self, name: str) -> None:
        """AWS refuses the next change to a function while one is InProgress."""

        def done():
            conf = self.client.get_function_configuration(FunctionName=name)
            status = conf.get("LastUpdateStatus") or "Successful"
            if status == "Failed":
                from streamlab.errors import StreamlabError

                raise StreamlabError(f"updating Lambda function {name} failed: {conf.get('LastUpdateStatusReason', '')}",
                                     "see it in the Lambda console")
            return status == "Successful"

        self.wait_for(done, f"{self.label} {name} to finish updating")

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        from streamlab.lambdas.package import build_zip

        p = spec.params
        role_arn = self.aws.client("iam").get_role(RoleName=p["role"])["Role"]["Arn"]
        code = build_zip()

        def call():
            return self.client.create_function(
                FunctionName=spec.name,
                Runtime=p["runtime"],
                Role=role_arn,
                Handler=p["handler"],
                Code={"ZipFile": code},
                Description="created by streamlab; `streamlab teardown` deletes it",
                Timeout=p["timeout"],
                MemorySize=p["memory"],
                Environment={"Variables": p["env"]},
                Tags=tags,
            )

        return retry_role_propagation(self, call, "Lambda", ("InvalidParameterValueException",))["FunctionArn"]

    def wait_ready(self, name: str) -> Found:
        def active():
            f = self.get(name)
            if f and f.state == "FAILED":
                from streamlab.errors import StreamlabError

                raise StreamlabError(f"Lambda function {name} failed to become active", "see it in the Lambda console")
            return f if f and f.state == "ACTIVE" else None

        return self.wait_for(active, f"{self.label} {name} to become Active")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            self.client.tag_resource(Resource=found.arn, Tags=missing)
            found.tags.update(missing)

    def list_ours(self) -> list[Found]:
        confs = [c for page in self.client.get_paginator("list_functions").paginate() for c in page.get("Functions", [])]

        def check(conf: dict) -> Optional[Found]:
            tags = unless_missing(lambda: self.client.list_tags(Resource=conf["FunctionArn"]).get("Tags", {}),
                                  "ResourceNotFoundException", default={})  # deleted since the listing
            return self._found(conf, tags) if tags.get(TAG_CREATED_BY) == CREATED_BY else None

        return ours(check, confs)

    def delete(self, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            self.client.delete_function(FunctionName=name)


class LambdaDestination(ResourceKind):
    """The asynchronous-invocation config of a function: retries and the on-failure destination
    (another Lambda function). Name: the function's name."""

    kind = "lambda-destination"
    label = "Lambda on-failure destination"
    rank = 50  # after both functions; removed before either
    taggable = False

    @property
    def client(self):
        return self.aws.client("lambda")

    def normalise(self, spec: Spec) -> Spec:
        params = {"on_failure": spec.params["on_failure"], "retries": int(spec.params.get("retries", 2))}
        return Spec(self.kind, spec.name, params, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        return f"on failure (after {params.get('retries')} retries) -> Lambda {params.get('on_failure')}"

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0

    def is_ready(self, found: Found) -> bool:
        return True

    def get(self, name: str) -> Optional[Found]:
        conf = unless_missing(
            lambda: self.client.get_function_event_invoke_config(FunctionName=name),
            "ResourceNotFoundException",
        )
        if conf is None:
            return None
        dest = ((conf.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or ""
        params = {"on_failure": dest.rsplit(":", 1)[-1], "retries": conf.get("MaximumRetryAttempts", 2)}
        return Found(self.kind, name, conf.get("FunctionArn"), "CONFIGURED", params=params)

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        p = spec.params
        resp = self.client.put_function_event_invoke_config(
            FunctionName=spec.name,
            MaximumRetryAttempts=p["retries"],
            DestinationConfig={"OnFailure": {"Destination": arns_for(self).function(p["on_failure"])}},
        )
        return resp.get("FunctionArn")

    def wait_ready(self, name: str) -> Found:
        return self.wait_for(lambda: self.get(name), f"{self.label} of {name} to be readable")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        pass

    def list_ours(self) -> list[Found]:
        return []

    def delete(self, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            self.client.delete_function_event_invoke_config(FunctionName=name)
