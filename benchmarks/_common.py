"""Helpers shared by the benchmark scripts: a results table, targets and the exit code, fresh
streams, a one-core pin.

Not a benchmark itself (running it does nothing). Benchmarks print figures and judge their targets
with `Targets`: a missed target, or one that cannot be measured here, makes the script exit 1, so
`make bench` fails on it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(ROOT))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a plain aligned table (numbers right-aligned)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


class Targets:
    """A benchmark's targets: one printed line each, then the exit code (`sys.exit(targets.exit())`).

    `check` judges a figure, `unmeasured` says a figure cannot be measured here (and why): either
    way a target that is not met fails the run, never passes in silence."""

    def __init__(self, benchmark: str):
        self.benchmark = benchmark
        self.judged = 0
        self.failed: list[str] = []

    def check(self, what: str, met: bool, figure: str) -> bool:
        """Print `target <what>: met|MISSED (<figure>)`; `what` holds the bound, e.g. '>= 40x the loop'."""
        self.judged += 1
        print(f"target {what}: {'met' if met else 'MISSED'} ({figure})")
        if not met:
            self.failed.append(what)
        return met

    def unmeasured(self, what: str, why: str) -> None:
        self.judged += 1
        print(f"target {what}: NOT MEASURED ({why})")
        self.failed.append(what)

    def exit(self) -> int:
        """0 when every target was measured and met, else 1, with one closing line saying which."""
        if self.failed:
            print(f"{self.benchmark}: {len(self.failed)} of {self.judged} target(s) missed or not measured: "
                  + "; ".join(self.failed) + " (exit 1)")
            return 1
        print(f"{self.benchmark}: {self.judged} target(s) met")
        return 0


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def use_emulator(url: str):
    """Point this process's streamlab at the emulator with test credentials, as `--local` would:
    (settings, a Kinesis client for filling streams)."""
    os.environ["STREAMLAB_ENDPOINT_URL"] = url
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    from streamlab.settings import load_settings

    return load_settings(), kinesis_client(url)


def kinesis_client(url: str):
    """A client from a new boto3 session (what a script or `streamlab` pays for once per run)."""
    import boto3

    session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return session.client("kinesis", endpoint_url=url)


def fresh_stream(client, prefix: str = "bench") -> str:
    """A new 1-shard stream: the emulator slows down as a stream grows, so each method gets its own."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return name


def count_records(client, stream: str) -> int:
    n = 0
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        it = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            resp = client.get_records(ShardIterator=it, Limit=10000)
            n += len(resp["Records"])
            if not resp["Records"]:
                break
            it = resp.get("NextShardIterator")
    return n


def pin_to_one_core() -> str:
    """Run this process (and its threads) on one CPU, so 'records/s on one core' means that."""
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def spark_rate(progress) -> float:
    """Spark's own figure for a query: rows read / time spent in triggers (its processedRowsPerSecond
    over the whole run). Query start-up (planning, starting the Python source process) is outside
    any trigger; every trigger, including the empty one that ends an available-now query, counts."""
    rows = sum(p["numInputRows"] for p in progress)
    ms = sum(p["durationMs"].get("triggerExecution", 0) for p in progress)
    return rows / (ms / 1000) if ms else 0.0


def count_available_now(df) -> tuple[int, float, float]:
    """Run a streaming DataFrame with Trigger.AvailableNow into a foreachBatch that counts:
    (rows, wall seconds from start() to the end, Spark's rate)."""
    import tempfile

    counted: list[int] = []
    with tempfile.TemporaryDirectory() as cp, Timer() as t:
        q = (
            df.writeStream.foreachBatch(lambda batch, _id: counted.append(batch.count()))
            .option("checkpointLocation", cp)
            .trigger(availableNow=True)
            .start()
        )
        q.awaitTermination()
    return sum(counted), t.seconds, spark_rate(q.recentProgress)


def consume(settings, spark, aws=None, stop_when=None, **fields):
    """One whole consumer run, built as `streamlab consume` builds it: a `ConsumeRequest` from
    `fields` (quiet unless told), run on `spark` with the benchmark's one AWS handle (made once, in
    its main, as a command makes one; None for a run that needs no AWS). `stop_when(stats)`, checked
    between polls, ends the run early (as the demo ends once everything produced was read)."""
    from streamlab.spark.job import run_consume
    from streamlab.spark.request import ConsumeRequest

    fields.setdefault("quiet", True)
    return run_consume(ConsumeRequest(settings, **fields), aws=aws, spark=spark, stop_when=stop_when)


def consumer_rate(progress: list[dict]) -> float:
    """Spark's rate for a whole `run_consume`: the records query's rows / the trigger time of all its
    queries (records, then windows)."""
    rows = sum(p["numInputRows"] for p in progress if p["name"] == "streamlab-records")
    ms = sum(p["durationMs"].get("triggerExecution", 0) for p in progress)
    return rows / (ms / 1000) if ms else 0.0


class ProgressLog:
    """Every query progress of a SparkSession (also of queries the code under test starts itself)."""

    def __init__(self, spark):
        from pyspark.sql.streaming import StreamingQueryListener

        log = self

        class Listener(StreamingQueryListener):
            def onQueryStarted(self, event):
                log.started += 1

            def onQueryProgress(self, event):
                log.events.append(event.progress)

            def onQueryIdle(self, event):
                pass

            def onQueryTerminated(self, event):
                log.ended += 1

        self.events: list = []
        self.started = self.ended = 0
        spark.streams.addListener(Listener())

    def take(self, timeout: float = 10.0) -> list[dict]:
        """The progress of every query since the last take, once all of them have ended (events
        arrive asynchronously, each query's in order), as dicts; then start afresh."""
        deadline = time.monotonic() + timeout
        while self.ended < self.started and time.monotonic() < deadline:
            time.sleep(0.05)
        out = [{"name": p.name, "numInputRows": p.numInputRows, "durationMs": dict(p.durationMs)} for p in self.events]
        self.events, self.started, self.ended = [], 0, 0
        return out


class Timer:
    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


if __name__ == "__main__":
    print("helpers for the benchmarks; run the other scripts in benchmarks/")
