"""Benchmark: 100,000 records to a local Kafka broker, plain kafka-python loops vs `streamlab produce`.

Starts its own tansu broker (streamlab.local.kafka) on a free 127.0.0.1 port. Every method sends the
same synthetic trades (JSON, keyed by symbol) to its own fresh topic, in the same run:

  defaults   KafkaProducer() with default settings (acks=1, no linger), `send()` per record, then
             `flush()`: what a lab script writes (shown for information)
  acks=all   the same loop with streamlab's guarantees and batching (acks=all, linger_ms=10,
             batch_size=256 KiB, as streamlab.kafka.settings.producer_kwargs): the baseline
  streamlab  `python -m streamlab produce synthetic --sink kafka ...` (a subprocess, timed end to end
             minus nothing: interpreter start, imports, connection and topic check included)

The loops are timed whole too (the producer, i.e. its connection, is made inside the timer), but
they pay no interpreter start: the comparison leans against streamlab. Each method runs --runs
times, alternating, on fresh topics; medians are reported. Counts are verified by consuming each
topic from the beginning (tansu under-reports end offsets after batched sends, see ENVIRONMENT.md),
so "zero loss" means every record was read back. Targets: streamlab >= 1.0x the acks=all loop,
zero loss; exits 1 when one is missed.

    .venv/bin/python benchmarks/producer_kafka.py [--count 100000] [--partitions 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import _common as c

#: the loop with streamlab's delivery guarantee and batching (streamlab.kafka.settings.producer_kwargs)
SAME_GUARANTEES = {"acks": "all", "linger_ms": 10, "batch_size": 256 * 1024}
METHODS = ("kafka-python loop, defaults", "kafka-python loop, acks=all + batching", "streamlab produce --sink kafka")


def count_topic(bootstrap: str, topic: str, expected: int, idle_s: float = 5.0) -> int:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
        consumer_timeout_ms=int(idle_s * 1000), max_poll_records=5000,
    )
    n = 0
    try:
        for _ in consumer:
            n += 1
            if n >= expected:
                # keep reading briefly: more than expected would be duplicates
                consumer.config["consumer_timeout_ms"] = 1000
    finally:
        consumer.close()
    return n


def plain_loop(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], **config) -> float:
    from kafka import KafkaProducer

    with c.Timer() as t:
        producer = KafkaProducer(bootstrap_servers=bootstrap, **config)
        for value, key in records:
            producer.send(topic, value=value, key=key)
        producer.flush()
    producer.close()
    return t.seconds


def streamlab_run(bootstrap: str, topic: str, count: int) -> float:
    with c.Timer() as t:
        subprocess.run(
            [sys.executable, "-m", "streamlab", "produce", "synthetic", "--seed", "1", "--sink", "kafka",
             "--topic", topic, "--bootstrap", bootstrap, "--count", str(count), "--quiet"],
            check=True,
        )
    return t.seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from kafka import KafkaAdminClient

    from streamlab.local import kafka as local_broker
    from streamlab.settings import Settings
    from streamlab.sources.synthetic import SyntheticSource

    n = args.count
    it = SyntheticSource(Settings(), seed=1).records()
    records = [(r.to_bytes(), r.key().encode()) for r, _ in zip(it, range(n))]
    runs: dict[str, list[float]] = {m: [] for m in METHODS}
    lost: dict[str, int] = {m: 0 for m in METHODS}
    with local_broker.start() as broker:
        bootstrap = broker.bootstrap
        topics = {(m, run): f"bench-{i}-{run}" for i, m in enumerate(METHODS) for run in range(args.runs)}
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics({t: {"num_partitions": args.partitions, "replication_factor": 1} for t in topics.values()},
                            wait_for_metadata=True)
        admin.close()
        print(f"broker {bootstrap} (tansu), {n:,} synthetic trades per run, {args.partitions} partitions, "
              f"{args.runs} run(s) of each method")
        send = {
            METHODS[0]: lambda topic: plain_loop(bootstrap, topic, records),
            METHODS[1]: lambda topic: plain_loop(bootstrap, topic, records, **SAME_GUARANTEES),
            METHODS[2]: lambda topic: streamlab_run(bootstrap, topic, n),
        }
        for run in range(args.runs):
            for m in METHODS:
                runs[m].append(send[m](topics[m, run]))
        for (m, _run), topic in topics.items():
            lost[m] += n - count_topic(bootstrap, topic, n)
    med = {m: c.median(v) for m, v in runs.items()}
    base = med[METHODS[1]]
    print()
    c.table(["method", "median s", "records/s", "vs acks=all loop", "lost (read back)", "runs (s)"],
            [(m, med[m], n / med[m], f"{base / med[m]:.2f}x", lost[m], ", ".join(f"{x:.2f}" for x in runs[m]))
             for m in METHODS])
    ours = med[METHODS[2]]
    print(f"\nstreamlab vs the defaults loop: {med[METHODS[0]] / ours:.2f}x (streamlab timed with its process start)")
    targets = c.Targets("producer_kafka")
    targets.check("streamlab >= 1.0x the acks=all + batching loop", base / ours >= 1.0, f"{base / ours:.2f}x")
    targets.check("zero loss (every record read back once)", not any(lost.values()),
                  ", ".join(f"{m}: {v}" for m, v in lost.items()))
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
