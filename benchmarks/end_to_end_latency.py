"""End-to-end latency: synthetic ticker at 200 records/s -> Kafka -> `consume` (1 s trigger) -> memory sink.

The producer is the real command, `python -m streamlab produce synthetic --sink kafka --rate 200`, on
a local tansu broker; each record's `event_time` is stamped by the synthetic source when it is made.
The consumer is `run_consume(ConsumeRequest(source=kafka, reader=python, dataset=ticker, sink=memory, trigger=1s))`:
the records query plus the windows query (runs every 5 s at most, reading what the records query
relays). `--dataset raw` measures the records query alone (no windows).

Latency of a record = commit time of the batch that read it - its event_time. Commit time is the
batch's trigger timestamp + its triggerExecution duration, from Spark's own progress reports
(a StreamingQueryListener on the `streamlab-records` query); the batch that read a record is found
from its (partition, offset) and each batch's end offsets; the records are read back from the topic
after the run. Producer and consumer share this machine's clock, so no skew enters.
Target: p50 <= 3 s, p95 <= 5 s on this machine.

    .venv/bin/python benchmarks/end_to_end_latency.py [--seconds 30] [--rate 200] [--dataset ticker|raw]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime

import _common as c


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q / 100 * len(xs))) - 1))]


def make_listener(batches: list, started: threading.Event):
    from pyspark.sql.streaming import StreamingQueryListener

    class Progress(StreamingQueryListener):
        def onQueryStarted(self, event):
            if event.name == "streamlab-records":
                started.set()

        def onQueryProgress(self, event):
            p = event.progress
            if p.name != "streamlab-records" or not p.sources:
                return
            begin = datetime.fromisoformat(p.timestamp.replace("Z", "+00:00")).timestamp()
            commit = begin + p.durationMs.get("triggerExecution", 0) / 1000
            end = p.sources[0].endOffset
            batches.append((p.batchId, commit, json.loads(end) if isinstance(end, str) else end, p.numInputRows,
                            p.durationMs.get("triggerExecution", 0) / 1000))

        def onQueryIdle(self, event):
            pass

        def onQueryTerminated(self, event):
            pass

    return Progress()


def read_back(bootstrap: str, topic: str) -> list[tuple[int, int, int]]:
    """(partition, offset, event_time ms) of every record in the topic."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    out = []
    try:
        for m in consumer:
            out.append((m.partition, m.offset, int(json.loads(m.value)["event_time"])))
    finally:
        consumer.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="how long the producer runs")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--dataset", default="ticker", choices=("ticker", "raw"))
    args = ap.parse_args()

    from kafka import KafkaAdminClient

    from streamlab.local import kafka as local_broker
    from streamlab.settings import load_settings
    from streamlab.spark.readers import READERS
    from streamlab.spark.session import get_session

    targets = c.Targets("end_to_end_latency")
    if "kafka" not in READERS or "memory" not in __import__("streamlab.spark.writers", fromlist=["WRITERS"]).WRITERS:
        targets.unmeasured("p50 <= 3 s, p95 <= 5 s", "kafka -> memory needs the Kafka reader and the memory sink, not available yet")
        return targets.exit()

    with local_broker.start() as broker:
        topic = f"latency-{uuid.uuid4().hex[:8]}"
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}}, wait_for_metadata=True)
        admin.close()
        spark = get_session("bench-latency")
        print(f"Spark {spark.version}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; "
              f"{args.rate:.0f} records/s for {args.seconds:.0f}s, trigger 1s, dataset {args.dataset}")
        batches: list = []
        started = threading.Event()
        spark.streams.addListener(make_listener(batches, started))

        def produce():
            started.wait(120)  # the consumer's records query has started;
            time.sleep(3)  # and has had time to look at the (empty) topic once
            subprocess.run(
                [sys.executable, "-m", "streamlab", "produce", "synthetic", "--sink", "kafka", "--topic", topic,
                 "--bootstrap", broker.bootstrap, "--rate", str(args.rate), "--duration", str(args.seconds), "--quiet"],
                check=True, env=dict(os.environ, STREAMLAB_ENV_FILE="/dev/null"),
            )

        threading.Thread(target=produce, daemon=True).start()
        # run_consume stops at its timeout; the producer thread says when the tail is in
        deadline_holder = {"t": args.seconds + 25}
        summary_box = {}

        def consume():
            summary_box["s"] = c.consume(load_settings(), spark, source="kafka", topic=topic, bootstrap=broker.bootstrap,
                                         reader="python", dataset=args.dataset, sink="memory", trigger="1s",
                                         starting_offsets="earliest", timeout=deadline_holder["t"])

        worker = threading.Thread(target=consume, daemon=True)
        worker.start()
        # run_consume ends at its timeout and stops its queries between batches (stopping them from
        # here would interrupt a batch mid-way)
        worker.join(deadline_holder["t"] + 60)
        time.sleep(1)  # the listener bus delivers the last progress events asynchronously
        records = read_back(broker.bootstrap, topic)
        spark.stop()

    # per partition: sorted end offsets of the batches and their commit times
    ends: dict[int, list[tuple[int, float]]] = {}
    for _bid, commit, end, _n, _secs in sorted(batches, key=lambda b: b[0]):
        for part, off in (end or {}).get(topic, {}).items():
            ends.setdefault(int(part), []).append((int(off), commit))
    lat, unread = [], 0
    for part, off, event_ms in records:
        marks = ends.get(part, [])
        i = bisect.bisect_right([m[0] for m in marks], off)  # first batch whose end offset > off
        if i >= len(marks):
            unread += 1
            continue
        lat.append(marks[i][1] - event_ms / 1000)
    nonempty = [b for b in batches if b[3]]
    print("batches with data (id, records, seconds to run):",
          ", ".join(f"{b[0]}: {b[3]:,} in {b[4]:.1f}s" for b in sorted(nonempty)))
    print()
    c.table(["records produced", "with latency", "unread at stop", "batches with data", "p50 s", "p95 s", "max s"],
            [(len(records), len(lat), unread, len(nonempty),
              percentile(lat, 50) if lat else "-", percentile(lat, 95) if lat else "-", max(lat) if lat else "-")])
    if lat:
        p50, p95 = percentile(lat, 50), percentile(lat, 95)
        targets.check("p50 <= 3 s", p50 <= 3, f"{p50:.2f} s")
        targets.check("p95 <= 5 s", p95 <= 5, f"{p95:.2f} s")
    else:
        targets.unmeasured("p50 <= 3 s, p95 <= 5 s", "no record was read back with a batch's end offset")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
