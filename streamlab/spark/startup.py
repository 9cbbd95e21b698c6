"""Where a consume run's start-up goes, and the Python workers warmed while the rest is planned.

`Phases` records named steps with their seconds (`with phases.step("Spark session"): ...`);
`consume --verbose` prints them as one line, then how long each query's batches took (Spark's
own progress reports: the first batch pays for compiling, later ones show the steady cost).

`Warmup` starts the executor Python workers a Python source's tasks run in, on a thread, as soon
as the session is up: starting them (a process, pyarrow and the source's module imported) takes
seconds on 2 cores, and meanwhile the driver creates the source (Spark's Python planner) and plans
the queries, which is JVM work. Joined before the queries start, so the first batch finds them warm.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from typing import Iterator, Optional

#: the module a Python source's executor tasks import, per source (when streamlab's reader runs)
PYTHON_SOURCE_MODULES = {"kinesis": "streamlab.spark.kinesis_source", "kafka": "streamlab.spark.kafka_source"}


class Phases:
    """Named start-up steps and their seconds, in the order they ended."""

    def __init__(self) -> None:
        self.items: list[tuple[str, float]] = []
        self.note = ""  # what ran beside the steps (the Python workers' warm-up)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - began)

    def add(self, name: str, seconds: float) -> None:
        self.items.append((name, seconds))

    def seconds(self, name: str) -> float:
        return sum(s for n, s in self.items if n == name)

    @property
    def total(self) -> float:
        return sum(s for _, s in self.items)

    def line(self) -> str:
        steps = ", ".join(f"{n} {s:.1f}s" for n, s in self.items)
        return f"start-up {self.total:.1f}s: {steps}" + (f" ({self.note})" if self.note else "")


class Warmup:
    """`warm_python_workers(spark, module)` on a thread (see the module doc); `join` re-raises its error."""

    def __init__(self, spark, module: str):
        self.module = module
        self.seconds = 0.0
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, args=(spark,), name="streamlab-warm-workers", daemon=True)
        self._thread.start()

    def _run(self, spark) -> None:
        from streamlab.spark.session import warm_python_workers

        began = time.monotonic()
        try:
            warm_python_workers(spark, self.module)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by join
            self._error = exc
        finally:
            self.seconds = time.monotonic() - began

    def join(self) -> float:
        """Wait for the workers; the seconds the main thread waited here."""
        began = time.monotonic()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return time.monotonic() - began


def batch_times(queries) -> list[str]:
    """Per query: its batches and how long they took, from Spark's progress reports."""
    out = []
    for q in queries:
        try:
            runs = [p for p in map(_as_dict, q.recentProgress) if p.get("numInputRows") or p.get("batchId") == 0]
        except Exception:  # a query whose progress cannot be read: say nothing of it
            continue
        if not runs:
            continue
        took = [p.get("durationMs", {}).get("triggerExecution", 0) / 1000 for p in runs]
        first = runs[0].get("durationMs", {})
        parts = ", ".join(f"{k} {v / 1000:.1f}s" for k, v in sorted(first.items(), key=lambda kv: -kv[1])[:3] if k != "triggerExecution")
        rest = f"; the other {len(took) - 1}: median {sorted(took[1:])[len(took[1:]) // 2]:.1f}s" if len(took) > 1 else ""
        out.append(f"{q.name}: {len(runs)} batch(es) with data, the first {took[0]:.1f}s ({parts}){rest}")
    return out


def _as_dict(progress) -> dict:
    """A progress report as a dict (pyspark 3.5 gives dicts, 4.x objects with a `json` text)."""
    return progress if isinstance(progress, dict) else json.loads(progress.json)
