"""EMR clusters: never created by streamlab, shown by `status`, terminated by `teardown --emr` only.

A cluster counts as streamlab's only when it carries `streamlab:created-by=streamlab` (the ledger
never lists clusters). `running_clusters` lists every active cluster in the region, whoever made it,
for `status`'s warning: EMR is the labs' biggest bill (instance-hours plus the EMR surcharge).
The "name" of this kind is the cluster id (cluster names are not unique).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from streamlab.aws.resources.base import CREATED_BY, TAG_CREATED_BY, Found, ResourceKind, Spec
from streamlab.aws.resources.common import ignoring, tag_dict, unless_missing
from streamlab.errors import StreamlabError

ACTIVE_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]


@dataclass
class Cluster:
    id: str
    name: str
    state: str
    created: Optional[datetime]
    instances: int
    tags: dict[str, str]

    @property
    def ours(self) -> bool:
        return self.tags.get(TAG_CREATED_BY) == CREATED_BY

    def age_hours(self, now: datetime) -> Optional[float]:
        if self.created is None:
            return None
        created = self.created if self.created.tzinfo else self.created.replace(tzinfo=timezone.utc)
        return max(0.0, (now - created).total_seconds() / 3600)


def describe(client, cluster_id: str) -> Optional[Cluster]:
    c = unless_missing(
        lambda: client.describe_cluster(ClusterId=cluster_id)["Cluster"],
        "InvalidRequestException", "ResourceNotFoundException",
    )
    if c is None:
        return None
    instances = 0
    with ignoring("InvalidRequestException"):  # instance counts are a nicety; the warning matters more
        if c.get("InstanceCollectionType") == "INSTANCE_FLEET":
            for f in client.list_instance_fleets(ClusterId=cluster_id).get("InstanceFleets", []):
                instances += f.get("ProvisionedOnDemandCapacity", 0) + f.get("ProvisionedSpotCapacity", 0)
        else:
            for g in client.list_instance_groups(ClusterId=cluster_id).get("InstanceGroups", []):
                instances += g.get("RunningInstanceCount", 0) or 0
    status = c.get("Status") or {}
    return Cluster(c["Id"], c.get("Name", ""), status.get("State", "UNKNOWN"),
                   (status.get("Timeline") or {}).get("CreationDateTime"), instances, tag_dict(c.get("Tags")))


def running_clusters(aws) -> list[Cluster]:
    client = aws.client("emr")
    out = []
    for page in client.get_paginator("list_clusters").paginate(ClusterStates=ACTIVE_STATES):
        for c in page.get("Clusters", []):
            found = describe(client, c["Id"])
            if found is not None and found.state in ACTIVE_STATES:
                out.append(found)
    return out


class EmrCluster(ResourceKind):
    kind = "emr-cluster"
    label = "EMR cluster"
    rank = 90  # reads streams and buckets: terminated before anything else goes
    opt_in = "--emr"

    def __init__(self, aws, *, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc), **kw: Any):
        kw.setdefault("wait_seconds", 1200.0)  # termination takes minutes on AWS
        super().__init__(aws, **kw)
        self.now = now

    @property
    def client(self):
        return self.aws.client("emr")

    def details(self, params: dict[str, Any]) -> str:
        age = params.get("age_hours")
        up = f", up {age:.1f} h" if age is not None else ""
        return f"{params.get('cluster_name')}: {params.get('instances')} instances{up}; billed per instance-hour"

    def _found(self, c: Cluster) -> Found:
        return Found(self.kind, c.id, None, c.state, tags=c.tags, created_at=c.created,
                     params={"cluster_name": c.name, "instances": c.instances, "age_hours": c.age_hours(self.now())})

    def is_ready(self, found: Found) -> bool:
        return found.state in ("RUNNING", "WAITING")

    def get(self, name: str) -> Optional[Found]:
        c = describe(self.client, name)
        if c is None or c.state.startswith("TERMINATED"):
            return None
        return self._found(c)

    def create(self, spec: Spec, tags: dict[str, str]) -> Optional[str]:
        raise StreamlabError("streamlab does not create EMR clusters", "create them in the EMR console or with the AWS CLI")

    def wait_ready(self, name: str) -> Found:
        raise StreamlabError("streamlab does not create EMR clusters")

    def ensure_tags(self, found: Found, tags: dict[str, str]) -> None:
        pass

    def list_ours(self) -> list[Found]:
        return [self._found(c) for c in running_clusters(self.aws) if c.ours]

    def delete(self, name: str) -> None:
        with ignoring("InvalidRequestException", "ValidationException"):
            self.client.terminate_job_flows(JobFlowIds=[name])

    def wait_gone(self, name: str) -> None:
        self.wait_for(lambda: self.get(name) is None, f"{self.label} {name} to terminate", interval=10.0)
