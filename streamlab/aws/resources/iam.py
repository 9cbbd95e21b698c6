"""IAM as resource kinds: roles and customer-managed policies streamlab creates, and policy attachments.

- Roles and policies streamlab creates live under the IAM path `/streamlab/` and carry the
  streamlab tags, so they can be listed without reading every role in the account.
- An attachment (a managed policy on a role) cannot be tagged: the ledger entry is its only record.
  Teardown detaches exactly the attachments streamlab recorded; it never deletes a role or a
  policy it did not create. An attachment that was already there is used, never recorded.
- IAM is free: every estimate here is $0.
- IAM is eventually consistent: a role is readable at once but may not be assumable by Lambda or
  Firehose for a few seconds; those kinds retry (see `common.retry_role_propagation`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from streamlab import console
from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import (
    arns_for,
    canonical_json,
    ignoring,
    is_code,
    missing_tags,
    ours,
    tag_dict,
    tag_list,
    unless_missing,
)
from streamlab.errors import ConfigError, ResourceNotFound

PATH = "/streamlab/"
_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")


def trust_policy(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def policy_document(statements: list[dict]) -> str:
    return canonical_json({"Version": "2012-10-17", "Statement": statements})


def _actions(document: str) -> list[str]:
    out: list[str] = []
    for st in json.loads(document).get("Statement", []):
        acts = st.get("Action", [])
        out.extend([acts] if isinstance(acts, str) else acts)
    return out


class _Iam(ResourceKind):
    @property
    def client(self):
        return self.aws.client("iam")

    def hourly_cost(self, params: dict[str, Any]) -> Optional[float]:
        return 0.0  # IAM has no charge

    def wait_ready(self, name: str) -> Found:
        return self.wait_for(lambda: self.get(name), f"{self.label} {name} to be readable")


class IamRole(_Iam):
    kind = "iam-role"
    label = "IAM role"
    rank = 14  # after the policies it will carry, before attachments and the services assuming it

    def normalise(self, spec: Spec) -> Spec:
        if not _NAME.match(spec.name):
            raise ConfigError(f"invalid IAM role name {spec.name!r}", "use 1-64 letters, digits or +=,.@_-")
        service = spec.params.get("service")
        if not service:
            raise ConfigError(f"IAM role {spec.name}: no service to trust", "this is a bug in the caller")
        return Spec(self.kind, spec.name, {"service": service}, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        return f"assumed by {params.get('service', '?')}"

    def _found(self, role: dict) -> Found:
        doc = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(doc, str):
            doc = json.loads(doc)
        services: list[str] = []
        for st in doc.get("Statement", []):
            svc = (st.get("Principal") or {}).get("Service", [])
            services.extend([svc] if isinstance(svc, str) else svc)
        return Found(
            kind=self.kind,
            name=role["RoleName"],
            arn=role.get("Arn"),
            state="ACTIVE",
            tags=tag_dict(role.get("Tags")),
            created_at=role.get("CreateDate"),
            params={"service": ",".join(sorted(services))},
        )

    def get(self, name: str) -> Optional[Found]:
        role = unless_missing(lambda: self.client.get_role(RoleName=name)["Role"], "NoSuchEntity")
        if role is None:
            return None
        if "Tags" not in role:  # GetRole includes tags; be safe with older endpoints
            role["Tags"] = self.client.list_role_tags(RoleName=name).get("Tags", [])
        return self._found(role)

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        role = self.client.create_role(
            RoleName=spec.name,
            Path=PATH,
            AssumeRolePolicyDocument=json.dumps(trust_policy(spec.params["service"])),
            Description="created by streamlab; `streamlab teardown` deletes it",
            Tags=tag_list(tags),
        )["Role"]
        return role["Arn"]

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            self.client.tag_role(RoleName=found.name, Tags=tag_list(missing))
            found.tags.update(missing)

    def list_ours(self) -> list[Found]:
        roles = [r for page in self.client.get_paginator("list_roles").paginate(PathPrefix=PATH) for r in page["Roles"]]

        def check(role: dict) -> Optional[Found]:
            tags = tag_dict(unless_missing(lambda: self.client.list_role_tags(RoleName=role["RoleName"]).get("Tags"), "NoSuchEntity"))
            if tags.get(TAG_CREATED_BY) != CREATED_BY:
                return None
            return self._found({**role, "Tags": tag_list(tags)})

        return ours(check, roles)

    def delete(self, name: str) -> None:
        """Our role only: whatever is still on it (attachments made by hand, inline policies,
        instance profiles) has to come off first or IAM refuses; the policies themselves stay."""
        c = self.client
        with ignoring("NoSuchEntity"):
            for page in c.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                for pol in page["AttachedPolicies"]:
                    c.detach_role_policy(RoleName=name, PolicyArn=pol["PolicyArn"])
            for page in c.get_paginator("list_role_policies").paginate(RoleName=name):
                for pname in page["PolicyNames"]:
                    c.delete_role_policy(RoleName=name, PolicyName=pname)
            for page in c.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
                for prof in page["InstanceProfiles"]:
                    c.remove_role_from_instance_profile(InstanceProfileName=prof["InstanceProfileName"], RoleName=name)
            c.delete_role(RoleName=name)


class IamPolicy(_Iam):
    kind = "iam-policy"
    label = "IAM policy"
    rank = 12  # created before the roles it is attached to; deleted after them

    def normalise(self, spec: Spec) -> Spec:
        if not _POLICY_NAME.match(spec.name):
            raise ConfigError(f"invalid IAM policy name {spec.name!r}", "use 1-128 letters, digits or +=,.@_-")
        return Spec(self.kind, spec.name, {"document": canonical_json(spec.params["document"])}, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        actions = _actions(params["document"]) if params.get("document") else []
        shown = ", ".join(actions[:6]) + (f" (+{len(actions) - 6} more)" if len(actions) > 6 else "")
        return f"allows {shown}" if shown else ""

    def arn(self, name: str) -> str:
        return arns_for(self).iam_policy(name, PATH)

    def _found(self, policy: dict, tags: Optional[dict] = None) -> Found:
        arn = policy["Arn"]
        version = self.client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        if tags is None:
            tags = tag_dict(self.client.list_policy_tags(PolicyArn=arn).get("Tags"))
        return Found(
            kind=self.kind,
            name=policy["PolicyName"],
            arn=arn,
            state="ACTIVE",
            tags=tags,
            created_at=policy.get("CreateDate"),
            params={"document": canonical_json(version["Document"])},
        )

    def get(self, name: str) -> Optional[Found]:
        policy = unless_missing(lambda: self.client.get_policy(PolicyArn=self.arn(name))["Policy"], "NoSuchEntity")
        if policy is None:
            return None
        return self._found(policy)

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        return self.client.create_policy(
            PolicyName=spec.name,
            Path=PATH,
            PolicyDocument=spec.params["document"],
            Description="created by streamlab; `streamlab teardown` deletes it",
            Tags=tag_list(tags),
        )["Policy"]["Arn"]

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        missing = missing_tags(found.tags, tags)
        if missing:
            self.client.tag_policy(PolicyArn=found.arn, Tags=tag_list(missing))
            found.tags.update(missing)

    def list_ours(self) -> list[Found]:
        pages = self.client.get_paginator("list_policies").paginate(Scope="Local", PathPrefix=PATH)
        policies = [p for page in pages for p in page["Policies"]]

        def check(pol: dict) -> Optional[Found]:
            tags = tag_dict(unless_missing(lambda: self.client.list_policy_tags(PolicyArn=pol["Arn"]).get("Tags"), "NoSuchEntity"))
            return self._found(pol, tags) if tags.get(TAG_CREATED_BY) == CREATED_BY else None

        return ours(check, policies)

    def delete(self, name: str) -> None:
        c = self.client
        arn = self.arn(name)
        with ignoring("NoSuchEntity"):
            # Our policy is going away, so its grants go with it wherever it is attached; IAM
            # refuses to delete an attached policy. Said out loud, since those roles are not ours.
            ents = c.list_entities_for_policy(PolicyArn=arn)
            for r in ents.get("PolicyRoles", []):
                console.warn(f"detaching streamlab policy {name} from role {r['RoleName']} before deleting it")
                c.detach_role_policy(RoleName=r["RoleName"], PolicyArn=arn)
            for u in ents.get("PolicyUsers", []):
                console.warn(f"detaching streamlab policy {name} from user {u['UserName']} before deleting it")
                c.detach_user_policy(UserName=u["UserName"], PolicyArn=arn)
            for g in ents.get("PolicyGroups", []):
                console.warn(f"detaching streamlab policy {name} from group {g['GroupName']} before deleting it")
                c.detach_group_policy(GroupName=g["GroupName"], PolicyArn=arn)
            for v in c.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not v["IsDefaultVersion"]:
                    c.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
            c.delete_policy(PolicyArn=arn)


class IamAttachment(_Iam):
    """A managed policy attached to a role. Name: `ROLE/POLICY-NAME`. Untaggable: ledger only."""

    kind = "iam-attachment"
    label = "IAM policy attachment"
    rank = 16  # after the role and the policy; detached before either is deleted
    taggable = False

    @staticmethod
    def name_for(role: str, policy_arn: str) -> str:
        return f"{role}/{policy_arn.rsplit('/', 1)[-1]}"

    def normalise(self, spec: Spec) -> Spec:
        role, arn = spec.params.get("role"), spec.params.get("policy_arn")
        if not role or not arn or spec.name != self.name_for(role, arn):
            raise ConfigError(f"bad policy attachment {spec.name!r}", "this is a bug in the caller")
        return Spec(self.kind, spec.name, {"role": role, "policy_arn": arn}, existing=spec.existing)

    def details(self, params: dict[str, Any]) -> str:
        return f"{params.get('policy_arn', '?')} on role {params.get('role', '?')}"

    def is_ready(self, found: Found) -> bool:
        return found.state == "ATTACHED"

    def check(self, spec: Spec, planned: set[tuple[str, str]]) -> None:
        role, arn = spec.params["role"], spec.params["policy_arn"]
        if ("iam-role", role) not in planned:
            try:
                self.client.get_role(RoleName=role)
            except Exception as exc:
                if not is_code(exc, "NoSuchEntity"):
                    raise
                hint = "pass --role with an existing role"
                if role.startswith("EMR_"):
                    hint = "create the EMR default roles first (`aws emr create-default-roles`), or " + hint
                raise ResourceNotFound(f"IAM role {role} not found", hint) from None
        if ("iam-policy", arn.rsplit("/", 1)[-1]) not in planned:
            try:
                self.client.get_policy(PolicyArn=arn)
            except Exception as exc:
                if not is_code(exc, "NoSuchEntity"):
                    raise
                raise ResourceNotFound(
                    f"IAM policy {arn} not found", "check the name (AWS managed policies look like AmazonKinesisFullAccess) or pass a full ARN"
                ) from None

    def get(self, name: str) -> Optional[Found]:
        role, _, policy_name = name.partition("/")
        pages = unless_missing(
            lambda: list(self.client.get_paginator("list_attached_role_policies").paginate(RoleName=role)),
            "NoSuchEntity",
        )
        if pages is None:
            return None
        for page in pages:
            for pol in page["AttachedPolicies"]:
                if pol["PolicyName"] == policy_name:
                    return Found(self.kind, name, pol["PolicyArn"], "ATTACHED", params={"role": role, "policy_arn": pol["PolicyArn"]})
        return None

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        self.client.attach_role_policy(RoleName=spec.params["role"], PolicyArn=spec.params["policy_arn"])
        return spec.params["policy_arn"]

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        pass  # attachments cannot be tagged: the ledger entry is the record

    def list_ours(self) -> list[Found]:
        return []  # nothing to find by tag; see the module docstring

    def delete(self, name: str) -> None:
        found = self.get(name)
        if found is None:
            return
        with ignoring("NoSuchEntity"):
            self.client.detach_role_policy(RoleName=found.params["role"], PolicyArn=found.params["policy_arn"])
