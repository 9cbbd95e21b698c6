"""Spark reading a 20,000-record Kinesis stream on the local emulator, with Trigger.AvailableNow.

Records/s *after start-up*, two ways: the SparkSession is started (and timed) first, then
- `spark`: Spark's own rate, rows read / time inside triggers (its processedRowsPerSecond over the
  run): fetching, planning, running and committing batches; not the query's start-up (~2 s here:
  planning, checkpoint files, launching the Python process that hosts the source, its imports),
- `wall`: rows / wall time from `start()` until the query ends by itself with the backlog read
  (query start-up included).
Three measurements per run:

0. baseline: plain boto3 GetRecords over every shard, no Spark (what the emulator can serve: the
   ceiling for any reader here; moto spends ~0.1 ms per record building each response); its client
   is made before the clock starts, so it has no start-up at all,
1. reader only: streamlab's Python Kinesis source -> foreachBatch that counts (the source's speed);
   its Python workers are warmed before `start()`, as run_consume does,
2. `run_consume(ConsumeRequest(sink=parquet))`: parse, quarantine check, trades + closed windows to Parquet (the
   whole consumer: two queries, each reading the stream). Its `wall` runs from the records query's
   `start()` to run_consume's return: both queries' start-up, their batches, stopping and the open
   windows written at the end. Not in it, shown apart as "before start()": what run_consume does
   before its first query (the stream's pre-flight check, checkpoint, warming the Python workers).

Each run uses a fresh stream of `--shards` shards filled with synthetic ticker records by boto3
`put_records` (500 per call). The first query in a session pays for starting Spark's Python
workers; `--runs` repeats on fresh streams and the median is reported, the first run shown too.
Targets:
- issue 2 ("Spark reading ... records/s after start-up"): >= 5,000 records/s for the reader, by
  Spark's measure (median),
- issue 19: the whole consumer >= 0.5x the bare GetRecords baseline of the same run, both by wall
  records/s: the consumer's from `start()` (its query start-up counts, as the baseline has none to
  leave out; Spark's rate, which leaves it out, would flatter the consumer), the median of the
  runs' ratios.
A missed target makes the script exit 1.
Usage: .venv/bin/python benchmarks/consumer_kinesis.py [--records 20000] [--shards 2] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
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


def boto3_baseline(spark, settings, aws, stream: str, log) -> tuple[int, float, float]:
    client = c.kinesis_client(settings.endpoint_url)
    with c.Timer() as t:
        n = c.count_records(client, stream)
    return n, t.seconds, n / t.seconds


def reader_only(spark, settings, aws, stream: str, log) -> tuple[int, float, float]:
    from streamlab.spark.readers import ReadRequest, kinesis
    from streamlab.spark.session import warm_python_workers

    src = kinesis(spark, settings, ReadRequest(stream=stream, reader="python"), aws)
    warm_python_workers(spark, src.python_module)  # as run_consume does before its query starts
    return c.count_available_now(src.df)


def whole_consumer(spark, settings, aws, stream: str, log) -> tuple[int, float, float, float]:
    """(rows, wall seconds from the records query's start() to run_consume's return, Spark's rate,
    seconds run_consume spent before that start())."""
    with tempfile.TemporaryDirectory() as out:
        with c.Timer() as t:
            summary = c.consume(settings, spark, aws, stream=stream, sink="parquet", path=out, trigger="available-now")
    return summary.input_rows, t.seconds - summary.startup, c.consumer_rate(log.take()), summary.startup


BASELINE, WHOLE = "boto3 GetRecords, no Spark", "whole consumer (parquet)"
LABELS = {
    BASELINE: boto3_baseline,
    "reader only": reader_only,
    WHOLE: whole_consumer,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()

    from streamlab.local.emulator import Emulator
    from streamlab.aws.session import AWS
    from streamlab.spark.session import get_session

    with Emulator() as emu:
        settings, client = c.use_emulator(emu.url)
        aws = AWS(settings)  # the one handle of the run, as `streamlab consume` makes one
        with c.Timer() as t:
            spark = get_session("bench-consumer")
        log = c.ProgressLog(spark)
        print(f"SparkSession start: {t.seconds:.1f}s; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
        rows = []
        for run in range(args.runs):
            for label, fn in LABELS.items():
                stream = fill(client, args.records, args.shards)
                log.take()  # forget progress of earlier measurements
                n, secs, rate, *before = fn(spark, settings, aws, stream, log)
                if n != args.records:
                    print(f"warning: {label} read {n:,} of {args.records:,} records")
                rows.append((label, run + 1, n, secs, n / secs, rate, before[0] if before else "-"))
                client.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
        spark.stop()
    print()
    c.table(["what", "run", "records", "wall s", "wall rec/s", "spark rec/s", "before start() s"], rows)
    print()
    for label in LABELS:
        wall, spark_ = [r[4] for r in rows if r[0] == label], [r[5] for r in rows if r[0] == label]
        print(
            f"{label}: median {c.median(spark_):,.0f} records/s by Spark's measure, {c.median(wall):,.0f} wall "
            f"from start() ({len(wall)} run(s); first run {spark_[0]:,.0f} / {wall[0]:,.0f})"
        )
    base = {r[1]: r[4] for r in rows if r[0] == BASELINE}
    ratios = [r[4] / base[r[1]] for r in rows if r[0] == WHOLE]
    print("whole consumer / baseline, wall records/s in the same run: "
          + ", ".join(f"run {i}: {x:.2f}x" for i, x in enumerate(ratios, 1)))
    reader = c.median([r[5] for r in rows if r[0] == "reader only"])
    targets = c.Targets("consumer_kinesis")
    targets.check(">= 5,000 records/s for the reader after start-up", reader >= 5000, f"{reader:,.0f} records/s")
    ratio = c.median(ratios)
    targets.check(">= 0.5x bare GetRecords for the whole consumer (wall from start())", ratio >= 0.5,
                  f"{ratio:.2f}x: {c.median([r[4] for r in rows if r[0] == WHOLE]):,.0f} vs "
                  f"{c.median(list(base.values())):,.0f} records/s, medians of {len(ratios)} run(s)")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
