"""Benchmark: 5,000 records into Firehose, one `put_record` per record vs `streamlab produce --sink firehose`.

Starts its own local AWS emulator (moto server on 127.0.0.1), then, timed the way producer_kinesis
times its methods (whole: a new boto3 session and client inside the timer, then sending), in the
same run:

  put_record   boto3 `put_record` per record (the lab's naive producer): the baseline
  streamlab    `produce(...)`, what `streamlab produce synthetic --sink firehose` runs, in this process
               like the loop: settings, boto3 session and client, the delivery-stream check, sending
  CLI          `python -m streamlab produce ...` as a subprocess, interpreter start and imports
               included (once, for information: a real user pays that once per run)

Both in-process methods run --runs times, alternating, each run into its own fresh bucket and
DirectPut delivery stream (moto's S3 slows as a bucket fills, which would favour whoever runs
first), after an untimed 100-record warm-up of each; medians are reported. Every count is verified
by reading the S3 objects back (moto delivers one object per call). Targets: streamlab >= 40x the
per-record loop (whole times, medians), zero loss; exits 1 when one is missed.

    .venv/bin/python benchmarks/producer_firehose.py [--count 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import _common as c

ROLE = "arn:aws:iam::123456789012:role/bench"


def lines_in_bucket(s3, bucket: str, prefix: str) -> int:
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            n += s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().count(b"\n")
    return n


def fresh_delivery_stream(s3, fh, name: str) -> str:
    """A bucket and a DirectPut delivery stream into it, both called `name`."""
    s3.create_bucket(Bucket=name)
    fh.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{name}", "Prefix": "in/"},
    )
    return name


def put_record_loop(url: str, name: str, payloads: list[bytes], send_seconds: list) -> None:
    import boto3

    session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    client = session.client("firehose", endpoint_url=url)
    with c.Timer() as t:
        for data in payloads:
            client.put_record(DeliveryStreamName=name, Record={"Data": data})
    send_seconds.append(t.seconds)


def streamlab_produce(url: str, name: str, count: int, send_seconds: list) -> None:
    from streamlab.pipeline import Limits
    from streamlab.produce import ProduceRequest, produce
    from streamlab.settings import load_settings

    result = produce(ProduceRequest(settings=load_settings(endpoint_url=url), source="synthetic", sink="firehose",
                                    source_options={"seed": 1}, sink_options={"delivery_stream": name},
                                    limits=Limits(count=count), quiet=True))
    assert result.stats.sent == count and result.stats.failed == 0, result.stats
    send_seconds.append(result.elapsed)


def cli_run(url: str, name: str, count: int) -> tuple[float, float]:
    """(whole seconds of a new `python -m streamlab produce` process, its pipeline's own seconds)."""
    env = dict(os.environ, STREAMLAB_ENDPOINT_URL=url, AWS_REGION="us-east-1")
    with c.Timer() as t:
        proc = subprocess.run([sys.executable, "-m", "streamlab", "produce", "synthetic", "--seed", "1", "--sink", "firehose",
                               "--delivery-stream", name, "--count", str(count)],
                              check=True, env=env, capture_output=True, text=True)
    # the pipeline's own time (first record to last acknowledgement), from its summary line
    m = re.search(r"in ([\d.]+)s \(", " ".join(proc.stderr.split()))
    return t.seconds, float(m.group(1)) if m else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    import boto3

    from streamlab.local.emulator import Emulator
    from streamlab.settings import Settings
    from streamlab.sources.synthetic import SyntheticSource

    n = args.count
    it = SyntheticSource(Settings(), seed=1).records()
    payloads = [next(it).to_bytes() + b"\n" for _ in range(n)]  # the wire form streamlab sends
    whole: dict[str, list[float]] = {"loop": [], "ours": []}
    send: dict[str, list[float]] = {"loop": [], "ours": []}
    lost: dict[str, int] = {"loop": 0, "ours": 0, "cli": 0}
    with Emulator() as emu:
        url = emu.url
        kw = dict(endpoint_url=url, region_name="us-east-1")
        s3, fh = boto3.client("s3", **kw), boto3.client("firehose", **kw)
        print(f"emulator {url} (moto), {n:,} synthetic trades per run, {args.runs} run(s) of each method")
        # warm-up, untimed: the emulator's first Firehose/S3 calls and both methods' first-use paths
        put_record_loop(url, fresh_delivery_stream(s3, fh, "bench-warm-loop"), payloads[:100], [])
        streamlab_produce(url, fresh_delivery_stream(s3, fh, "bench-warm-streamlab"), 100, [])

        def timed(key: str, name: str, fn) -> None:
            with c.Timer() as t:
                fn(fresh_delivery_stream(s3, fh, name))
            whole[key].append(t.seconds)
            lost[key] += n - lines_in_bucket(s3, name, "in/")

        for run in range(args.runs):
            timed("loop", f"bench-put-record-{run}", lambda s: put_record_loop(url, s, payloads, send["loop"]))
            timed("ours", f"bench-streamlab-{run}", lambda s: streamlab_produce(url, s, n, send["ours"]))
        t_cli, t_pipe = cli_run(url, fresh_delivery_stream(s3, fh, "bench-cli"), n)
        lost["cli"] = n - lines_in_bucket(s3, "bench-cli", "in/")
    loop, ours = c.median(whole["loop"]), c.median(whole["ours"])
    send_loop, send_ours = c.median(send["loop"]), c.median(send["ours"])
    print("'whole' = new boto3 session + client + sending (+ delivery-stream check for streamlab); 'send' = sending only\n")
    c.table(
        ["method", "whole s", "records/s", "vs per-record", "send s", "send rec/s"],
        [
            (f"put_record per record (median of {args.runs})", loop, n / loop, "1.0x", send_loop, n / send_loop),
            (f"streamlab produce, in process (median of {args.runs})", ours, n / ours, f"{loop / ours:.1f}x",
             send_ours, n / send_ours),
            # the pipeline's time comes rounded from its summary line: too short to divide by at small --count
            ("streamlab CLI, a new process (once)", t_cli, n / t_cli, f"{loop / t_cli:.1f}x", t_pipe,
             n / t_pipe if t_pipe > 0 else "-"),
        ],
    )
    print("\nruns, whole (s): put_record " + ", ".join(f"{x:.2f}" for x in whole["loop"])
          + "; streamlab " + ", ".join(f"{x:.2f}" for x in whole["ours"]))
    print(f"send only: streamlab vs put_record {send_loop / send_ours:.0f}x; "
          f"lost (read back from S3): put_record {lost['loop']}, streamlab {lost['ours']}, CLI {lost['cli']}")
    targets = c.Targets("producer_firehose")
    targets.check("streamlab >= 40x put_record per record (whole, medians)", loop / ours >= 40, f"{loop / ours:.1f}x")
    targets.check("zero loss (every record read back from S3)", not any(lost.values()),
                  f"{sum(lost.values())} lost")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
