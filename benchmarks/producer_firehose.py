"""Benchmark: 5,000 records into Firehose, one `put_record` per record vs `streamlab produce --sink firehose`.

Starts its own local AWS emulator (moto server on 127.0.0.1), a bucket and two DirectPut delivery
streams to S3, then in the same run:

  put_record   boto3 `put_record` per record (the lab's naive producer)
  streamlab    `produce(...)`, what `streamlab produce synthetic --sink firehose` runs, in this process
               like the loop, timed whole: settings, boto3 session and client, the delivery-stream
               check and the sending (the headline ratio, measured the way producer_kinesis does)
  CLI          `python -m streamlab produce ...` as a subprocess, interpreter start and imports
               included (for information: a real user pays that once per run)

Both counts are verified by reading the S3 objects back (moto delivers one object per call).

    .venv/bin/python benchmarks/producer_firehose.py [--count 5000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

import boto3

from streamlab.local.emulator import Emulator
from streamlab.settings import Settings
from streamlab.sources.synthetic import SyntheticSource


def lines_in_bucket(s3, bucket: str, prefix: str) -> int:
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            n += s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().count(b"\n")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000)
    args = ap.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with Emulator() as emu:
        kw = dict(endpoint_url=emu.url, region_name="us-east-1")
        s3, fh = boto3.client("s3", **kw), boto3.client("firehose", **kw)
        # one bucket each: moto's S3 slows as a bucket fills, which would favour whoever runs first
        for name in ("bench-put-record", "bench-streamlab", "bench-cli"):
            s3.create_bucket(Bucket=name)
            fh.create_delivery_stream(
                DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/bench",
                                                    "BucketARN": f"arn:aws:s3:::{name}", "Prefix": "in/"},
            )
        print(f"emulator {emu.url} (moto), {args.count:,} synthetic trades per run")

        env = dict(os.environ, STREAMLAB_ENDPOINT_URL=emu.url, AWS_REGION="us-east-1")
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "streamlab", "produce", "synthetic", "--seed", "1", "--sink", "firehose",
                               "--delivery-stream", "bench-cli", "--count", str(args.count)],
                              check=True, env=env, capture_output=True, text=True)
        t_sl = time.perf_counter() - started
        # the pipeline's own time (first record to last acknowledgement), from its summary line
        m = re.search(r"in ([\d.]+)s \(", " ".join(proc.stderr.split()))
        t_pipe = float(m.group(1)) if m else float("nan")

        from streamlab.pipeline import Limits
        from streamlab.produce import ProduceRequest, produce
        from streamlab.settings import load_settings

        started = time.perf_counter()
        result = produce(ProduceRequest(settings=load_settings(endpoint_url=emu.url), source="synthetic", sink="firehose",
                                        source_options={"seed": 1}, sink_options={"delivery_stream": "bench-streamlab"},
                                        limits=Limits(count=args.count), quiet=True))
        t_in = time.perf_counter() - started
        assert result.stats.sent == args.count, result.stats

        it = SyntheticSource(Settings(), seed=1).records()
        started = time.perf_counter()
        for _ in range(args.count):
            fh.put_record(DeliveryStreamName="bench-put-record", Record={"Data": next(it).to_bytes() + b"\n"})
        t_one = time.perf_counter() - started

        n_one = lines_in_bucket(s3, "bench-put-record", "in/")
        n_in = lines_in_bucket(s3, "bench-streamlab", "in/")
        n_sl = lines_in_bucket(s3, "bench-cli", "in/")
    r_one, r_in, r_sl = args.count / t_one, args.count / t_in, args.count / t_sl
    print(f"put_record per record          : {t_one:6.2f} s  {r_one:9,.0f} rec/s  in S3 {n_one:,}")
    print(f"streamlab produce, in process   : {t_in:6.2f} s  {r_in:9,.0f} rec/s  in S3 {n_in:,}  (session, client, check, sending)")
    print(f"streamlab CLI, a new process    : {t_sl:6.2f} s  {r_sl:9,.0f} rec/s  in S3 {n_sl:,}  (plus interpreter start and imports)")
    print(f"  of which sending (pipeline)   : {t_pipe:6.2f} s  {args.count / t_pipe:9,.0f} rec/s")
    verdict = "OK" if r_in / r_one >= 40 else "MISSED"
    print(f"streamlab vs put_record per record: {r_in / r_one:.1f}x (target >= 40x): {verdict}; "
          f"CLI with process start {r_sl / r_one:.1f}x; sending only {t_one / t_pipe:.0f}x")
    print(f"loss: put_record {args.count - n_one}, streamlab {args.count - n_in}, CLI {args.count - n_sl}")


if __name__ == "__main__":
    main()
