"""Benchmark: 100,000 records to a local Kafka broker, plain kafka-python loop vs `streamlab produce`.

Starts its own tansu broker (streamlab.local.kafka) on a free 127.0.0.1 port. Both sides send the
same synthetic trades (JSON, keyed by symbol) to their own fresh topic, in the same run:

  plain      KafkaProducer() with default settings, `send()` per record, then `flush()`
  streamlab  `python -m streamlab produce synthetic --sink kafka ...` (a subprocess, timed end to end
             minus nothing: interpreter start, connection and topic check included)

Counts are verified by consuming each topic from the beginning (tansu under-reports end offsets
after batched sends, see ENVIRONMENT.md), so "zero loss" means every record was read back.

    .venv/bin/python benchmarks/producer_kafka.py [--count 100000] [--partitions 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from streamlab.local import kafka as local_broker
from streamlab.settings import Settings
from streamlab.sources.synthetic import SyntheticSource


def count_topic(bootstrap: str, topic: str, expected: int, idle_s: float = 5.0) -> int:
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


def plain_loop(bootstrap: str, topic: str, count: int) -> float:
    source = SyntheticSource(Settings(), seed=1)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    started = time.perf_counter()
    it = source.records()
    for _ in range(count):
        rec = next(it)
        producer.send(topic, value=rec.to_bytes(), key=rec.key().encode())
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return elapsed


def streamlab_run(bootstrap: str, topic: str, count: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "streamlab", "produce", "synthetic", "--seed", "1", "--sink", "kafka",
         "--topic", topic, "--bootstrap", bootstrap, "--count", str(count), "--quiet"],
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=3)
    args = ap.parse_args()
    with local_broker.start() as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        admin.create_topics({t: {"num_partitions": args.partitions, "replication_factor": 1} for t in ("bench-plain", "bench-streamlab")},
                            wait_for_metadata=True)
        admin.close()
        print(f"broker {broker.bootstrap} (tansu), {args.count:,} synthetic trades per run, {args.partitions} partitions")
        t_plain = plain_loop(broker.bootstrap, "bench-plain", args.count)
        t_sl = streamlab_run(broker.bootstrap, "bench-streamlab", args.count)
        n_plain = count_topic(broker.bootstrap, "bench-plain", args.count)
        n_sl = count_topic(broker.bootstrap, "bench-streamlab", args.count)
    r_plain, r_sl = args.count / t_plain, args.count / t_sl
    print(f"plain kafka-python send loop : {t_plain:6.2f} s  {r_plain:9,.0f} rec/s  read back {n_plain:,}")
    print(f"streamlab produce --sink kafka: {t_sl:6.2f} s  {r_sl:9,.0f} rec/s  read back {n_sl:,}  (incl. process start)")
    print(f"speed-up: {r_sl / r_plain:.2f}x (end to end)   loss: plain {args.count - n_plain}, streamlab {args.count - n_sl}")


if __name__ == "__main__":
    main()
