"""Small helpers the resource kinds share: AWS error codes, tag shapes, ARNs, IAM propagation retry.

No boto3 import here: error classes are recognised by their response code, not their type.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")


def is_code(exc: BaseException, *codes: str) -> bool:
    return error_code(exc) in codes


#: threads for AWS look-ups done side by side (AWS.client keeps 2 x this many connections per client,
#: as two kinds may share one, e.g. IAM roles and policies)
MAX_WORKERS = 8


def in_parallel(fn: Callable[[Any], Any], args: Iterable[Any]) -> list:
    """`fn` over `args` on up to MAX_WORKERS threads, results in order; the first error is raised
    as it is. Each call is AWS round trips, so a listing waits for the slowest look-up rather than
    for all of them in a row (benchmarks/inventory_latency.py). MAX_WORKERS = 1: one by one."""
    args = list(args)
    if len(args) <= 1 or MAX_WORKERS <= 1:
        return [fn(a) for a in args]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(args)), thread_name_prefix="aws") as pool:
        return list(pool.map(fn, args))


def ours(check: Callable[[Any], Any], candidates: Iterable[Any]) -> list:
    """What `check` found among `candidates` (it returns a Found, or None when the candidate is not
    streamlab's), looked up concurrently: an account may hold hundreds of others' resources."""
    return [found for found in in_parallel(check, candidates) if found is not None]


def unless_missing(call: Callable[[], Any], *codes: str, default: Any = None) -> Any:
    """`call()`, or `default` when AWS answers with one of `codes` (the thing is not there)."""
    try:
        return call()
    except Exception as exc:
        if is_code(exc, *codes):
            return default
        raise


@contextmanager
def ignoring(*codes: str) -> Iterator[None]:
    """Let AWS errors with these codes pass: deleting what is already gone, granting what is granted."""
    try:
        yield
    except Exception as exc:
        if not is_code(exc, *codes):
            raise


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """{"k": "v"} -> [{"Key": "k", "Value": "v"}] (IAM, Firehose, EventBridge, SNS, DynamoDB, S3)."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tag_dict(tags: Optional[Iterable[dict]]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def missing_tags(have: dict[str, str], want: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in want.items() if have.get(k) != v}


def canonical_json(doc: Any) -> str:
    """One text per policy document, so the planned and the deployed one compare equal."""
    if isinstance(doc, str):
        doc = json.loads(doc)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Arns:
    """ARNs of resources that may not exist yet: policies must name them before they are created."""

    region: str
    account: str

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    def iam_role(self, name: str, path: str = "/") -> str:
        return f"arn:{self.partition}:iam::{self.account}:role{path}{name}"

    def iam_policy(self, name: str, path: str = "/") -> str:
        return f"arn:{self.partition}:iam::{self.account}:policy{path}{name}"

    def aws_managed_policy(self, name: str) -> str:
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def bucket(self, name: str) -> str:
        return f"arn:{self.partition}:s3:::{name}"

    def kinesis(self, name: str) -> str:
        return f"arn:{self.partition}:kinesis:{self.region}:{self.account}:stream/{name}"

    def firehose(self, name: str) -> str:
        return f"arn:{self.partition}:firehose:{self.region}:{self.account}:deliverystream/{name}"

    def dynamodb(self, name: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{name}"

    def sns_topic(self, name: str) -> str:
        return f"arn:{self.partition}:sns:{self.region}:{self.account}:{name}"

    def function(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"

    def rule(self, name: str) -> str:
        return f"arn:{self.partition}:events:{self.region}:{self.account}:rule/{name}"

    def log_group(self, function: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:/aws/lambda/{function}:*"


def arns_for(kind) -> Arns:
    """ARNs in the kind's account and region (one STS call, cached on the AWS session object)."""
    aws = kind.aws
    cached = getattr(aws, "_streamlab_arns", None)
    if cached is None:
        account = aws.client("sts").get_caller_identity()["Account"]
        cached = Arns(region=aws.region, account=account)
        aws._streamlab_arns = cached
    return cached


# Messages AWS returns while a role created seconds ago is not yet usable everywhere (IAM is
# eventually consistent: a new role can take ~10 s before Lambda or Firehose may assume it).
_PROPAGATION_HINTS = ("assume", "role", "not authorized", "cannot be assumed")


def retry_role_propagation(kind, call: Callable[[], Any], what: str, codes: tuple[str, ...]) -> Any:
    """Run `call`, retrying (bounded by the kind's wait, injected sleep) while AWS says the role
    is not assumable yet. Any other error is raised at once."""
    last: list[BaseException] = []

    def attempt():
        try:
            return ("ok", call())
        except Exception as exc:  # noqa: BLE001 - filtered just below
            msg = str(exc).lower()
            if is_code(exc, *codes) and any(h in msg for h in _PROPAGATION_HINTS):
                last[:] = [exc]
                return None
            raise

    return kind.wait_for(attempt, f"the new IAM role to be usable by {what}", interval=2.0)[1]
