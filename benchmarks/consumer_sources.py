"""The same 50,000 trade records read with Trigger.AvailableNow from three sources, one SparkSession.

  (a) files    Spark's own file source over JSON-lines files (the ceiling: no network, no Python reader)
  (b) kafka    streamlab's Python Kafka reader on a local tansu broker (2 partitions)
  (c) kinesis  streamlab's Python Kinesis reader on the moto emulator (2 shards)

Two measurements per source, after the session has started and every source has had the same
untimed warm-up (a 100-record run of its reader and of the whole consumer: the JVM's first plans
and code for that source), and (for the Python readers) the executors' Python workers were
started, as `run_consume` does before its query starts:

  reader   the reader -> foreachBatch that counts (what the source itself costs)
  consumer `run_consume(dataset=ticker, sink=parquet)`: parse, quarantine check, trades + windows

each as two rates: `spark`, Spark's own (rows / time inside triggers: fetching, planning, running,
committing; not the query's start-up, which for a Python source includes launching the Python
process that hosts it, ~2 s here), and `wall`, rows / wall time from `start()` to the query's end.
Ratios are to (a), by Spark's measure. Target: (b) >= 0.5x (a). The Kinesis figure is bounded by the emulator (moto
spends ~0.1 ms per record building responses), not by Spark: see benchmarks/consumer_kinesis.py.
A row whose source is not available in this checkout prints "not available yet" instead of a figure.

    .venv/bin/python benchmarks/consumer_sources.py [--records 50000] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from pathlib import Path

import _common as c

SOURCES = ("files", "kafka", "kinesis")


def payloads(n: int) -> list[bytes]:
    from streamlab.settings import Settings
    from streamlab.sources.synthetic import SyntheticSource

    it = SyntheticSource(Settings(), seed=1).records()
    return [rec.to_bytes() for rec, _ in zip(it, range(n))]


def fill_files(data: list[bytes], root: Path, files: int = 10) -> Path:
    folder = root / f"files-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    per = -(-len(data) // files)
    for i in range(files):
        (folder / f"part-{i:03d}.json").write_bytes(b"\n".join(data[i * per : (i + 1) * per]) + b"\n")
    return folder


def fill_kafka(data: list[bytes], bootstrap: str) -> str:
    from kafka import KafkaAdminClient, KafkaProducer

    topic = f"bench-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}}, wait_for_metadata=True)
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, batch_size=256 * 1024)
    for i, p in enumerate(data):
        producer.send(topic, p, partition=i % 2)
    producer.flush()
    producer.close()
    return topic


def fill_kinesis(data: list[bytes], client) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=2)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    for i in range(0, len(data), 500):
        chunk = data[i : i + 500]
        client.put_records(StreamName=name, Records=[{"Data": p, "PartitionKey": str(i + j)} for j, p in enumerate(chunk)])
    return name


def request(source: str, where: str, bootstrap: str):
    from streamlab.spark.readers import ReadRequest

    if source == "files":
        return ReadRequest(input_path=where, file_format="json")
    if source == "kafka":
        return ReadRequest(topic=where, bootstrap=bootstrap, reader="python", starting_offsets="earliest")
    return ReadRequest(stream=where, reader="python")


def read_only(spark, settings, aws, source: str, req, log) -> tuple[int, float, float]:
    from streamlab.spark.readers import READERS
    from streamlab.spark.session import warm_python_workers

    read, check = READERS[source]
    check(settings, req, aws)
    src = read(spark, settings, req, aws)
    if src.python_module:
        warm_python_workers(spark, src.python_module)
    return c.count_available_now(src.df)


def whole_consumer(spark, settings, aws, source: str, req, log) -> tuple[int, float, float]:
    where = {"files": {"input_path": req.input_path, "file_format": "json"},
             "kafka": {"topic": req.topic, "bootstrap": req.bootstrap, "reader": "python", "starting_offsets": "earliest"},
             "kinesis": {"stream": req.stream, "reader": "python"}}[source]
    with tempfile.TemporaryDirectory() as out, c.Timer() as t:
        s = c.consume(settings, spark, aws if source == "kinesis" else None, source=source, dataset="ticker",
                      sink="parquet", path=out, trigger="available-now", **where)
    return s.input_rows, t.seconds, c.consumer_rate(log.take())


def available(source: str) -> bool:
    from streamlab.spark.readers import READERS

    return source in READERS


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()

    from streamlab.local import kafka as local_broker
    from streamlab.local.emulator import Emulator
    from streamlab.aws.session import AWS
    from streamlab.spark.session import get_session

    data = payloads(args.records)
    rows, rates = [], {}
    with Emulator() as emu, local_broker.start() as broker, tempfile.TemporaryDirectory() as tmp:
        settings, client = c.use_emulator(emu.url)
        aws = AWS(settings)  # the one handle of the run, as `streamlab consume` makes one
        with c.Timer() as t:
            spark = get_session("bench-consumer-sources")
        print(f"SparkSession start: {t.seconds:.1f}s; Spark {spark.version}; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f}; {args.records:,} records per source")
        log = c.ProgressLog(spark)

        def fill(source: str, n: int) -> str:
            return {"files": lambda: str(fill_files(data[:n], Path(tmp))),
                    "kafka": lambda: fill_kafka(data[:n], broker.bootstrap),
                    "kinesis": lambda: fill_kinesis(data[:n], client)}[source]()

        # Every source gets the same warm-up, untimed: one 100-record run of the reader and of the
        # whole consumer (the JVM's first plans and code for that source, its Python workers).
        for source in filter(available, SOURCES):
            for fn in (read_only, whole_consumer):
                fn(spark, settings, aws, source, request(source, fill(source, 100), broker.bootstrap), log)
        for run in range(args.runs):
            for source in SOURCES:
                if not available(source):
                    rows.append((source, "reader", run + 1, "not available yet", "", "", "", ""))
                    continue
                for what, fn in (("reader", read_only), ("consumer", whole_consumer)):
                    where = fill(source, len(data))
                    log.take()
                    n, secs, rate = fn(spark, settings, aws, source, request(source, where, broker.bootstrap), log)
                    if n != args.records:
                        print(f"warning: {source} {what} read {n:,} of {args.records:,} records")
                    rates.setdefault((source, what), []).append(rate)
                    rows.append((source, what, run + 1, n, secs, n / secs, rate, None))
                    if source == "kinesis":
                        client.delete_stream(StreamName=where, EnforceConsumerDeletion=True)
        spark.stop()
    for i, row in enumerate(rows):
        if row[7] is None:
            ceiling = c.median(rates[("files", row[1])])
            rows[i] = (*row[:7], f"{row[6] / ceiling:.2f}x")
    print()
    c.table(["source", "measured", "run", "records", "wall s", "wall rec/s", "spark rec/s", "vs files"], rows)
    print()
    targets = c.Targets("consumer_sources")
    for what in ("reader", "consumer"):
        if ("kafka", what) in rates:
            ratio = c.median(rates[("kafka", what)]) / c.median(rates[("files", what)])
            targets.check(f"kafka >= 0.5x files ({what})", ratio >= 0.5, f"{ratio:.2f}x")
        else:
            targets.unmeasured(f"kafka >= 0.5x files ({what})", "the Kafka reader is not available yet")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
