"""The pipeline loop: back-pressure, prompt delivery from a quiet source, limits, the hand-over."""

from __future__ import annotations

import json
import re
import threading
import time

from streamlab.pipeline import Handoff, Limits, run
from streamlab.settings import load_settings
from streamlab.sinks.base import Batcher, DeadLetter, Entry, Failure, Stats
from streamlab.sources.synthetic import SyntheticSource
from streamlab.testing import RecordingSink, ScriptedSource, flat, read_dead_letters


class SlowSink(RecordingSink):
    """A recording sink whose service takes 10 ms a call; it notes how many records are in flight."""

    def __init__(self, settings, stats: Stats):
        super().__init__(settings, delay=0.01, max_batch_records=10, linger=0.01)
        self.stats = stats
        self.in_flight: list[int] = []

    def send(self, batch: list[Entry]) -> list[Failure]:
        self.in_flight.append(self.stats.produced - self.stats.sent)
        return super().send(batch)


def test_slow_sink_applies_back_pressure_instead_of_growing_memory(tmp_path):
    settings = load_settings()
    stats = Stats()
    sink = SlowSink(settings, stats)
    batcher = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), stats)
    result = run(SyntheticSource(settings), batcher, Limits(duration=1.0), queue_size=100)
    assert result.reason == "duration"
    # Unbounded, the synthetic source would have made ~100k records in that second.
    # Bounded: the hand-over (100) + the chunk being batched (<= 100) + one batch (10).
    assert max(sink.in_flight) <= 2 * 100 + 10
    assert stats.produced <= stats.sent + 2 * 100 + 10
    # and nothing handed over was lost: all of it was flushed at the end
    assert stats.sent == len(sink.delivered) == stats.produced
    assert 40 <= stats.sent <= 2000


def test_a_quiet_live_source_does_not_hold_records_back(tmp_path):
    settings = load_settings()
    sink = RecordingSink(settings, linger=0.05)
    batcher = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats())
    started = time.monotonic()
    # a few records, then quiet (a live feed outside market hours) until stopped
    result = run(ScriptedSource(["t0", "t1", "t2"], settings, hold=True), batcher, Limits(duration=1.5))
    assert result.reason == "duration"
    assert sink.delivered == [b"t0", b"t1", b"t2"]
    # delivered after the sink's linger (0.05 s), long before the run ended
    assert sink.sent_at[-1][0] - started < 1.2


def test_count_is_exact_and_reason_is_count(tmp_path):
    settings = load_settings()
    sink = RecordingSink(settings)
    batcher = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats())
    result = run(SyntheticSource(settings, seed=1), batcher, Limits(count=25_001))
    assert result.reason == "count"
    assert len(sink.sent_at) == result.stats.sent == result.stats.produced == 25_001


def test_rate_paces_the_source(tmp_path):
    settings = load_settings()
    sink = RecordingSink(settings)
    batcher = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats())
    result = run(SyntheticSource(settings), batcher, Limits(duration=1.0, rate=50))
    # one record every 20 ms from t=0 to t=1 s is 51; a late start of the source thread costs a few.
    # Catches a rate ignored (thousands), halved (25) or doubled (100).
    assert 40 <= result.stats.sent <= 52


def test_source_error_is_reported_after_a_flush(tmp_path):
    settings = load_settings()
    sink = RecordingSink(settings)
    broken = ScriptedSource(["a", "b", RuntimeError("feed went away")], settings)
    result = run(broken, Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats()), Limits())
    assert sink.delivered == [b"a", b"b"]
    assert isinstance(result.error, RuntimeError)


def test_handoff_keeps_order_and_blocks_at_its_bound():
    h = Handoff(5)
    done = threading.Event()

    def produce():
        for i in range(12):
            h.put(i)
        done.set()

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while len(h) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert not done.is_set() and len(h) == 5  # the producer waits for room
    got: list[int] = []
    while len(got) < 12:
        got += h.take(1.0)
    t.join(2)
    assert got == list(range(12)) and done.is_set()


def test_handoff_take_waits_for_the_first_item_and_times_out():
    h = Handoff(10)
    t0 = time.monotonic()
    assert h.take(0.1) == [] and time.monotonic() - t0 >= 0.09
    threading.Timer(0.05, h.put, args=("x",)).start()
    t0 = time.monotonic()
    assert h.take(5.0) == ["x"] and time.monotonic() - t0 < 3  # woken by the put, not the 5 s timeout


def test_quiet_flag_leaves_only_errors(run_cli, tmp_path):
    out = tmp_path / "o.jsonl"
    r = run_cli("produce", "synthetic", "--count", "50", "--sink", "file", "--path", str(out), "--quiet")
    assert r.code == 0 and r.err == "" and r.out == ""
    assert len(out.read_text().splitlines()) == 50
    r = run_cli("produce", "synthetic", "--count", "50", "--sink", "file", "--path", str(out))
    assert "done (count): 50 produced, 50 sent" in flat(r.err)


def test_duration_stops_the_run(run_cli, tmp_path):
    out = tmp_path / "o.jsonl"
    t0 = time.monotonic()
    r = run_cli("produce", "synthetic", "--duration", "0.5", "--rate", "100", "--sink", "file", "--path", str(out))
    assert r.code == 0
    assert 0.4 < time.monotonic() - t0 < 10
    assert "done (duration)" in r.err
    assert 35 <= len(out.read_text().splitlines()) <= 52  # 100/s for 0.5 s is 51, a late start costs a few


def test_file_sink_appends(run_cli, tmp_path):
    out = tmp_path / "o.jsonl"
    assert run_cli("produce", "synthetic", "--count", "3", "--seed", "1", "--sink", "file", "--path", str(out), "--quiet").code == 0
    first = out.read_text()
    assert run_cli("produce", "synthetic", "--count", "2", "--seed", "2", "--sink", "file", "--path", str(out), "--quiet").code == 0
    text = out.read_text()
    assert text.startswith(first) and len(text.splitlines()) == 5  # JSON lines, appended, not replaced
    assert all(json.loads(line)["source"] == "synthetic" for line in text.splitlines())


def test_undelivered_records_go_to_the_default_dead_letter_path(run_cli, tmp_path, monkeypatch):
    """Without --dead-letter: .streamlab/dead-letter/<sink>-<time>.jsonl, named in the warning."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STREAMLAB_HOME", raising=False)
    r = run_cli("produce", "synthetic", "--count", "3", "--sink", "file", "--path", "/dev/full")  # every write fails
    [dl] = (tmp_path / ".streamlab" / "dead-letter").iterdir()
    assert re.fullmatch(r"file-\d{8}-\d{6}\.jsonl", dl.name), dl.name
    assert "3 records could not be delivered" in flat(r.err) and str(dl) in "".join(r.err.split())  # rich may wrap the path
    dead = read_dead_letters(dl)
    assert len(dead) == 3 and all(d["reason"] and json.loads(d["data"])["source"] == "synthetic" for d in dead)


class BatchedSource(ScriptedSource):
    """Hands its script over in lists of three, as a websocket read would (Source.batches)."""

    def batches(self):
        items = list(self.records())
        for i in range(0, len(items), 3):
            yield items[i:i + 3]
        yield []  # an empty read is allowed


def test_a_batched_source_is_cut_at_count_mid_list_and_keeps_order(tmp_path):
    settings = load_settings()
    sink = RecordingSink(settings)
    batcher = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats())
    result = run(BatchedSource([f"t{i}" for i in range(10)], settings), batcher, Limits(count=7))
    assert result.reason == "count"
    assert sink.delivered == [f"t{i}".encode() for i in range(7)]
    assert result.stats.produced == result.stats.sent == 7
    # to its end without a count; paced (--rate) it goes record by record through records()
    for limits in (Limits(), Limits(rate=1000)):
        sink = RecordingSink(settings)
        result = run(BatchedSource([f"t{i}" for i in range(10)], settings), Batcher(sink, DeadLetter(tmp_path / "dl2.jsonl"), Stats()), limits)
        assert result.reason == "source ended" and sink.delivered == [f"t{i}".encode() for i in range(10)]
