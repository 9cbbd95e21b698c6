"""Records/s of the pipeline itself: synthetic source -> null sink, on one core.

Everything but the service: the synthetic random walk, the hand-over between the source thread
and the main thread, serialization to the wire form, batching. Target: >= 50,000 records/s.
Usage: .venv/bin/python benchmarks/pipeline_overhead.py [--count 300000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import _common as c

TARGET = 50_000


def one_run(count: int) -> tuple[float, int]:
    from streamlab.pipeline import Limits, run
    from streamlab.settings import load_settings
    from streamlab.sinks.base import Batcher, DeadLetter, Stats
    from streamlab.sinks.null import NullSink
    from streamlab.sources.synthetic import SyntheticSource

    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        batcher = Batcher(NullSink(settings), DeadLetter(Path(tmp) / "dl.jsonl"), Stats())
        with c.Timer() as t:
            result = run(SyntheticSource(settings, seed=1), batcher, Limits(count=count))
    assert result.stats.sent == count, result
    return count / t.seconds, result.stats.batches


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    pinned = c.pin_to_one_core()
    one_run(20_000)  # warm up imports and caches
    rates = []
    rows = []
    for i in range(args.runs):
        rate, batches = one_run(args.count)
        rates.append(rate)
        rows.append((f"run {i + 1}", args.count, batches, rate))
    med = c.median(rates)
    print(f"pipeline_overhead: synthetic -> null, {pinned}")
    c.table(["run", "records", "batches", "records/s"], rows)
    targets = c.Targets("pipeline_overhead")
    print()
    targets.check(f"median >= {TARGET:,} records/s", med >= TARGET, f"{med:,.0f} records/s")
    return targets.exit()


if __name__ == "__main__":
    sys.exit(main())
