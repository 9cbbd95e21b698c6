"""User records/s into Kinesis with `--aggregate` (KPL aggregates) against the same producer without it.

Both are `streamlab produce synthetic --sink kinesis` (the produce command's code path, in-process),
on one local emulator, each run on a fresh 1-shard stream (the emulator slows down as a stream
grows), alternating, `--runs` times; the median is reported. 'run' is the rate `produce` itself
reports (records over its run, the client made); 'whole' adds the new boto3 session and client and
the stream check. After each run the stream is read back and every user record is counted
(aggregates split with `streamlab.kpl`), so a fast run that lost records cannot pass.

Target: >= 10x the user records/s of the same producer without --aggregate, judged on the 'run'
rates (the session and client cost the same with or without aggregation). On AWS the gain is
larger still: a shard takes 1,000 records/s, and an aggregate of thousands counts as one.
Usage: .venv/bin/python benchmarks/producer_kinesis_aggregated.py [--count 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import _common as c


def produce(url: str, stream: str, count: int, aggregate: bool, run_seconds: list) -> None:
    from streamlab.pipeline import Limits
    from streamlab.produce import ProduceRequest, produce
    from streamlab.settings import load_settings

    settings = load_settings(endpoint_url=url)
    result = produce(ProduceRequest(settings=settings, source="synthetic", sink="kinesis", source_options={"seed": 1},
                                    sink_options={"stream": stream, "aggregate": aggregate}, limits=Limits(count=count), quiet=True))
    assert result.stats.sent == count and result.stats.failed == 0, result.stats
    run_seconds.append(result.elapsed)


def user_records(client, stream: str) -> tuple[int, int]:
    """(Kinesis records, user records) in the stream, aggregates split."""
    from streamlab import kpl

    kinesis_records = users = 0
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        it = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            resp = client.get_records(ShardIterator=it, Limit=10000)
            kinesis_records += len(resp["Records"])
            users += sum(len(kpl.deaggregate(r["Data"], r["PartitionKey"])) for r in resp["Records"])
            if not resp["Records"]:
                break
            it = resp.get("NextShardIterator")
    return kinesis_records, users


def timed(admin, count: int, aggregate: bool, run_seconds: list, puts: list) -> float:
    """Whole seconds of one produce on a fresh stream; then checks every user record arrived."""
    stream = c.fresh_stream(admin)
    with c.Timer() as t:
        produce(admin.meta.endpoint_url, stream, count, aggregate, run_seconds)
    kinesis_records, users = user_records(admin, stream)
    assert users == count, f"{users} of {count} user records arrived"
    puts.append(kinesis_records)
    admin.delete_stream(StreamName=stream)
    return t.seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("STREAMLAB_HOME", tempfile.mkdtemp(prefix="streamlab-bench-"))
    from streamlab.local.emulator import Emulator

    n = args.count
    whole = {False: [], True: []}
    run = {False: [], True: []}
    puts = {False: [], True: []}
    with Emulator() as emu:  # a child process: the emulator does not share this process's GIL
        admin = c.kinesis_client(emu.url)
        for aggregate in (False, True):  # warm-up: imports and first-use code paths of both
            timed(admin, 500, aggregate, [], [])
        for _ in range(args.runs):
            for aggregate in (False, True):
                whole[aggregate].append(timed(admin, n, aggregate, run[aggregate], puts[aggregate]))
    w = {k: c.median(v) for k, v in whole.items()}
    r = {k: c.median(v) for k, v in run.items()}
    print(f"producer_kinesis_aggregated: {n:,} synthetic records, a fresh 1-shard stream per method and run, moto at {emu.url}")
    print("'run' = produce's own run (client made); 'whole' = + new boto3 session, client and stream check\n")
    c.table(
        ["method", "Kinesis records", "run s", "user records/s", "whole s", "whole rec/s"],
        [
            (f"produce --sink kinesis (median of {args.runs})", puts[False][0], r[False], n / r[False], w[False], n / w[False]),
            (f"produce --sink kinesis --aggregate (median of {args.runs})", puts[True][0], r[True], n / r[True], w[True], n / w[True]),
        ],
    )
    gain, whole_gain = r[False] / r[True], w[False] / w[True]
    print(f"\nwhole times: --aggregate {whole_gain:.1f}x")
    print("runs, run (s): plain " + ", ".join(f"{x:.3f}" for x in run[False]) + "; aggregated " + ", ".join(f"{x:.3f}" for x in run[True]))
    targets = c.Targets("producer_kinesis_aggregated")
    targets.check("--aggregate >= 10x the user records/s without it", gain >= 10, f"{gain:.1f}x")
    return targets.exit()


if __name__ == "__main__":
    sys.exit(main())
