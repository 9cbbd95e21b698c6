"""Spark reading a 20,000-record Kinesis stream on the local emulator, with Trigger.AvailableNow.

Records/s *after start-up*: the SparkSession is started (and timed) first; each measurement runs
from the query's start until it ends by itself with the backlog read. Two figures per run:

0. baseline: plain boto3 GetRecords over every shard, no Spark (what the emulator can serve: the
   ceiling for any reader here; moto spends ~0.1 ms per record building each response),
1. reader only: streamlab's Python Kinesis source -> foreachBatch that counts (the source's speed),
2. `run_consume(sink=parquet)`: parse, quarantine check, trades + closed windows to Parquet (the
   whole consumer: two queries, each reading the stream).

Each run uses a fresh stream of `--shards` shards filled with synthetic ticker records by boto3
`put_records` (500 per call). The first query in a session pays for starting Spark's Python
workers; `--runs` repeats on fresh streams and the median is reported, the first run shown too.
Target: >= 5,000 records/s for the whole consumer on this 2-core machine.
Usage: .venv/bin/python benchmarks/consumer_kinesis.py [--records 20000] [--shards 2] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import _common as c


def fill(client, records: int, shards: int) -> str:
    from streamlab.settings import load_settings
    from streamlab.sources.synthetic import SyntheticSource

    name = f"bench-consume-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    it = SyntheticSource(load_settings(), seed=1).records()
    batch = []
    for rec, _ in zip(it, range(records)):
        batch.append({"Data": rec.to_bytes(), "PartitionKey": rec.key()})
        if len(batch) == 500:
            client.put_records(StreamName=name, Records=batch)
            batch = []
    if batch:
        client.put_records(StreamName=name, Records=batch)
    return name


def boto3_baseline(spark, settings, stream: str) -> tuple[int, float]:
    client = c.kinesis_client(settings.endpoint_url)
    with c.Timer() as t:
        n = c.count_records(client, stream)
    return n, t.seconds


def reader_only(spark, settings, stream: str) -> tuple[int, float]:
    from streamlab.spark.readers import ReadRequest, kinesis

    src = kinesis(spark, settings, ReadRequest(stream=stream, reader="python"))
    counted = []
    with tempfile.TemporaryDirectory() as cp, c.Timer() as t:
        q = (
            src.df.writeStream.foreachBatch(lambda df, _id: counted.append(df.count()))
            .option("checkpointLocation", cp)
            .trigger(availableNow=True)
            .start()
        )
        q.awaitTermination()
    return sum(counted), t.seconds


def whole_consumer(spark, settings, stream: str) -> tuple[int, float]:
    from streamlab.spark.job import run_consume

    with tempfile.TemporaryDirectory() as out, c.Timer() as t:
        summary = run_consume(
            settings, stream=stream, sink="parquet", path=out, trigger="available-now", quiet=True, spark=spark
        )
    return summary.input_rows, t.seconds


LABELS = {
    "boto3 GetRecords, no Spark": boto3_baseline,
    "reader only": reader_only,
    "whole consumer (parquet)": whole_consumer,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()

    from streamlab.aws.emulator import Emulator
    from streamlab.settings import load_settings
    from streamlab.spark.session import get_session

    with Emulator() as emu:
        os.environ["STREAMLAB_ENDPOINT_URL"] = emu.url
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        settings = load_settings()
        client = c.kinesis_client(emu.url)
        with c.Timer() as t:
            spark = get_session("bench-consumer")
        print(f"SparkSession start: {t.seconds:.1f}s; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
        rows = []
        for run in range(args.runs):
            for label, fn in LABELS.items():
                stream = fill(client, args.records, args.shards)
                n, secs = fn(spark, settings, stream)
                if n != args.records:
                    print(f"warning: {label} read {n:,} of {args.records:,} records")
                rows.append((label, run + 1, n, secs, n / secs))
                client.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
        spark.stop()
    print()
    c.table(["what", "run", "records", "seconds", "records/s"], rows)
    print()
    for label in LABELS:
        rates = [r[4] for r in rows if r[0] == label]
        print(f"{label}: median {c.median(rates):,.0f} records/s over {len(rates)} run(s) (first {rates[0]:,.0f})")
    whole = c.median([r[4] for r in rows if r[0].startswith("whole")])
    print(f"target >= 5,000 records/s for the whole consumer: {'met' if whole >= 5000 else 'NOT met'} ({whole:,.0f})")


if __name__ == "__main__":
    main()
