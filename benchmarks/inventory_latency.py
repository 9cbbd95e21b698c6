"""How long `status` and `teardown` take to find what streamlab made when every AWS call costs a round trip.

Both commands first collect the inventory: every resource kind lists its resources and keeps those
carrying streamlab's tag (`aws/inventory.collect`), most of them with one tag look-up each. On the
emulator a call takes a millisecond; to AWS from a laptop it takes tens. A proxy in front of the
emulator adds `--delay-ms` to every request (a stand-in for that round trip). The ticker pipeline
(19 resources, ledger and tags) is provisioned once through it, beside `--others` buckets, Kinesis
streams and DynamoDB tables of each kind that are not streamlab's (a shared course account). Then,
in the same run and alternating, the inventory is collected one AWS call at a time
(`common.MAX_WORKERS = 1`, what streamlab did before) and as it is now (kinds listed side by side,
each kind's look-ups side by side), each time with a new session and new clients, as a command
would. Prints the medians and their ratio.

Usage: .venv/bin/python benchmarks/inventory_latency.py [--delay-ms 50] [--others 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time

import _common as c


def slow_proxy(upstream: str, delay: float):
    """The tests' forwarding proxy (tests/fixtures/faulty_proxy.py, nothing failed on purpose) with
    every request forwarded `delay` seconds late."""
    from tests.fixtures.faulty_proxy import FaultyProxy

    class SlowProxy(FaultyProxy):
        def _forward(self, *args):
            time.sleep(delay)
            return super()._forward(*args)

    return SlowProxy(upstream).start()


def collect_once(settings, workers: int) -> tuple[float, int]:
    from streamlab.aws import inventory
    from streamlab.aws.plan import Target
    from streamlab.aws.resources import common

    original, common.MAX_WORKERS = common.MAX_WORKERS, workers
    try:
        with c.Timer() as t:
            items = inventory.collect(Target.open(settings))
    finally:
        common.MAX_WORKERS = original
    return t.seconds, len(items)


def add_others(url: str, n: int) -> None:
    """`n` untagged buckets, streams and tables: what others keep in the same account and region."""
    import boto3

    kw = {"endpoint_url": url, "region_name": "us-east-1"}
    s3, kinesis, dynamodb = boto3.client("s3", **kw), boto3.client("kinesis", **kw), boto3.client("dynamodb", **kw)
    for i in range(n):
        s3.create_bucket(Bucket=f"someone-elses-bucket-{i}")
        kinesis.create_stream(StreamName=f"someone-elses-stream-{i}", ShardCount=1)
        dynamodb.create_table(TableName=f"someone-elses-table-{i}", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--others", type=int, default=20, help="buckets, streams and tables that are not streamlab's")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
                      STREAMLAB_ENV_FILE="/dev/null", MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    from streamlab import cli
    from streamlab.local.emulator import Emulator
    from streamlab.aws.resources import common
    from streamlab.settings import load_settings

    with Emulator() as emu, tempfile.TemporaryDirectory() as home:
        os.environ["STREAMLAB_HOME"] = home
        add_others(emu.url, args.others)
        proxy = slow_proxy(emu.url, args.delay_ms / 1000)
        url = proxy.url  # also the ledger's scope: provision through it
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            try:
                cli.main(["provision", "ticker-pipeline", "--endpoint-url", url, "--email", "ops@example.com", "--yes"])
            except SystemExit as exc:
                assert not exc.code, "provisioning the pipeline failed"
        settings = load_settings(endpoint_url=url)
        times: dict[str, list[float]] = {"one call at a time": [], "side by side": []}
        found = set()
        for _ in range(args.runs):
            for label, workers in (("one call at a time", 1), ("side by side", common.MAX_WORKERS)):
                seconds, n = collect_once(settings, workers)
                times[label].append(seconds)
                found.add(n)
        proxy.stop()
    assert len(found) == 1, f"the two ways found different inventories: {found}"
    s, p = c.median(times["one call at a time"]), c.median(times["side by side"])
    print(f"inventory_latency: {found.pop()} resources (ticker pipeline) among {3 * args.others} others' "
          f"(buckets, streams, tables), {args.delay_ms:g} ms added to every AWS call, median of {args.runs}, "
          "new session and clients each time")
    c.table(["look-ups", "median s", "runs (s)"],
            [(k, c.median(v), ", ".join(f"{x:.2f}" for x in v)) for k, v in times.items()])
    print(f"\nside by side vs one at a time: {s / p:.2f}x faster")


if __name__ == "__main__":
    main()
