"""Test doubles for your own sources and sinks (streamlab's own tests use the same ones).

No AWS, no network, no Spark: a sink that records what it was sent, a source that plays a script,
a clock that moves only when told, a random generator pinned to the ends of its range, and a few
readers of what a run leaves behind (the dead-letter file, the summary line, one-line errors).

    from streamlab.testing import RecordingSink, ScriptedSource, run_pipeline

    def test_my_sink_gets_every_record(tmp_path):
        sink = MySink(load_settings(), ...)              # yours, a streamlab.sinks.base.Sink
        result = run_pipeline(ScriptedSource(["a", "b", "c"]), sink, dead_letter=tmp_path / "dl.jsonl")
        assert result.stats.sent == 3

    def test_my_source_parses_two_records():
        src = MySource(load_settings(), clock=FixedClock(1_700_000_000.0), rng=EdgeRandom(0))
        assert [r.to_bytes() for r in pull(src, 2)] == [...]

Time and randomness are injected everywhere in streamlab (`clock=`, `sleep=`, `rng=` on sources,
`Batcher`, `pipeline.run` and resource kinds), so a `FixedClock` and its `sleep` make waits and
backoffs instant and exact. Importing this module imports nothing heavy (no boto3, pyspark, kafka
or pydantic); settings are loaded only when a double is built without them.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Union

from streamlab.records import Record, TextLine
from streamlab.sinks.base import Batcher, DeadLetter, Entry, Failure, Sink, Stats
from streamlab.sources.base import Source

__all__ = [
    "FixedClock", "EdgeRandom", "RecordingSink", "ScriptedSource", "Pause", "pull", "run_pipeline",
    "read_dead_letters", "flat", "parse_summary", "assert_one_line",
]


def _settings(settings):
    if settings is not None:
        return settings
    from streamlab.settings import load_settings  # pydantic: only when a double is actually built

    return load_settings()


# -- time and randomness ----------------------------------------------------------------------


class FixedClock:
    """A clock that stands still until advanced: pass it as `clock=`, and its `sleep` as `sleep=`.

    `sleep(s)` does not wait; it notes `s` in `slept` and moves the clock on by `s`, so code that
    waits "until a deadline" finishes at once and exactly at the deadline.
    """

    def __init__(self, t: float = 100.0):
        self.t = float(t)
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class EdgeRandom(random.Random):
    """`uniform(a, b)` returns `a + (b - a) * fraction`: 0 pins jitter to its floor, 1 to its ceiling.

    Everything else is an ordinary seeded `random.Random`, so code drawing other numbers still works.
    """

    def __init__(self, fraction: float = 1.0, seed: int = 0):
        super().__init__(seed)
        self.fraction = fraction

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.fraction


# -- a sink -----------------------------------------------------------------------------------

#: what one send answers: failures by index, an exception to raise, or a function of the batch
Answer = Union[list, BaseException, Callable[[list], list]]


class RecordingSink(Sink):
    """A real sink (it runs under the real `Batcher`) that keeps every batch it was sent.

    `calls` holds the bytes of each batch, `sent_at` (monotonic time, bytes) each entry as it was
    delivered, `keys` each entry's partition key. `plan` says what each call answers, in order,
    then every call succeeds: a list of `Failure` (those entries are retried), an exception (raised:
    `RetryBatch` is retried whole, anything else is fatal), or a function of the batch returning
    failures. `delay` seconds per call stands for a slow service. Limits are keyword arguments.
    """

    name = "recording"
    summary = "records every batch (tests)"

    def __init__(self, settings=None, *, plan: Iterable[Answer] = (), delay: float = 0.0,
                 max_batch_records: Optional[int] = None, max_batch_bytes: Optional[int] = None,
                 max_record_bytes: Optional[int] = None, linger: Optional[float] = None, **options: Any):
        super().__init__(_settings(settings), **options)
        limits = {"max_batch_records": max_batch_records, "max_batch_bytes": max_batch_bytes,
                  "max_record_bytes": max_record_bytes, "linger": linger}
        for attr, value in limits.items():
            if value is not None:
                setattr(self, attr, value)  # an instance attribute: other RecordingSinks keep theirs
        self.plan = list(plan)
        self.delay = delay
        self.calls: list[list[bytes]] = []
        self.sent_at: list[tuple[float, bytes]] = []
        self.keys: list[Optional[str]] = []
        self.opened = self.closed = False

    def open(self) -> None:
        self.opened = True

    def send(self, batch: list[Entry]) -> list[Failure]:
        self.calls.append([e.data for e in batch])
        if self.delay:
            time.sleep(self.delay)
        step = self.plan.pop(0) if self.plan else []
        if isinstance(step, BaseException):
            raise step
        failures = step(batch) if callable(step) else step
        failed = {f.index for f in failures}
        now = time.monotonic()
        for i, e in enumerate(batch):
            if i not in failed:
                self.sent_at.append((now, e.data))
                self.keys.append(e.key)
        return failures

    def close(self) -> None:
        self.closed = True

    @property
    def delivered(self) -> list[bytes]:
        """The bytes of every entry the sink accepted, in delivery order."""
        return [d for _, d in self.sent_at]


# -- a source ---------------------------------------------------------------------------------


class Pause:
    """A script step of `ScriptedSource`: wait this long (ending early on stop) before the next."""

    def __init__(self, seconds: float):
        self.seconds = seconds


class ScriptedSource(Source):
    """Plays a script: records (a `str` becomes a `TextLine`), `Pause(s)` steps, and exceptions
    (raised there, as a feed that fails would). Then it ends, or with `hold=True` goes quiet until
    stopped, like a live feed outside market hours.
    """

    name = "scripted"
    summary = "plays a script of records (tests)"

    def __init__(self, script: Iterable[Union[Record, str, Pause, BaseException]] = (), settings=None,
                 *, hold: bool = False, **kw: Any):
        super().__init__(_settings(settings), **kw)
        self.script = list(script)
        self.hold = hold
        self.yielded = 0

    def records(self) -> Iterator[Record]:
        for step in self.script:
            if self.stopped:
                return
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, Pause):
                if self.wait(step.seconds):
                    return
                continue
            self.yielded += 1
            yield TextLine(step) if isinstance(step, str) else step
        if self.hold:
            self._stop.wait()


def pull(source: Source, n: int, timeout: float = 10.0) -> list:
    """The first `n` records of `source`, read on a thread as the pipeline does, then stop and close
    it. Fewer when `timeout` seconds pass first."""
    out: list = []

    def read() -> None:
        for rec in source.records():
            out.append(rec)
            if len(out) >= n:
                break

    t = threading.Thread(target=read, name="streamlab-pull", daemon=True)
    t.start()
    t.join(timeout)
    source.stop()
    t.join(2)
    source.close()
    return out


def run_pipeline(source: Source, sink: Sink, *, dead_letter: Path, count: Optional[int] = None,
                 duration: Optional[float] = None, rate: float = 0.0, **run_kw: Any):
    """Run `source` into `sink` through the real pipeline and `Batcher` (what `streamlab produce`
    runs, minus flags and printing); returns the `RunResult`. The sink is opened and closed."""
    from streamlab.pipeline import Limits, run

    sink.open()
    try:
        batcher = Batcher(sink, DeadLetter(Path(dead_letter)), Stats())
        return run(source, batcher, Limits(count=count, duration=duration, rate=rate), **run_kw)
    finally:
        sink.close()


# -- what a run leaves behind -------------------------------------------------------------------


def read_dead_letters(path: Path) -> list[dict]:
    """The entries of a dead-letter file (reason, message, key, data, time); [] if none was written."""
    path = Path(path)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def flat(text: str) -> str:
    """`text` as one line of words: rich wraps stderr at the terminal width, so match on this."""
    return " ".join(text.split())


_SUMMARY = re.compile(r"done \((?P<reason>[^)]+)\): (?P<produced>[\d,]+) produced, (?P<sent>[\d,]+) sent"
                      r".*?(?P<retried>[\d,]+) retried, (?P<failed>[\d,]+) failed")


def parse_summary(stderr: str) -> dict:
    """The figures of produce's summary line: reason, produced, sent, retried, failed."""
    m = _SUMMARY.search(flat(stderr))
    assert m, f"no summary line in: {stderr!r}"
    return {k: (v if k == "reason" else int(v.replace(",", ""))) for k, v in m.groupdict().items()}


def assert_one_line(stderr: str, *expected: str, after_progress: bool = False) -> str:
    """Assert the error on `stderr` is one line holding every `expected` text; returns that line.

    By default stderr must be exactly that one line (no traceback, no usage block, no Java noise).
    With `after_progress=True` a run that had started may have printed its progress and summary
    first: then the error must be the last line and the only `error:` line, with no traceback.
    """
    lines = [line for line in stderr.splitlines() if line.strip()]
    if after_progress:
        errors = [line for line in lines if line.startswith("error:")]
        assert len(errors) == 1 and lines[-1] == errors[0], f"expected one error line, last: {stderr!r}"
        assert "Traceback" not in stderr, stderr
    else:
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"
    line = lines[-1]
    for text in expected:
        assert text in line, f"{text!r} not in {line!r}"
    return line
