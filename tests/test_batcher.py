"""The shared Batcher with a recording sink: limits, linger, retries of failed entries only, dead-letter."""

from __future__ import annotations

import random

import pytest

from streamlab.errors import ResourceNotFound
from streamlab.records import TextLine
from streamlab.settings import load_settings
from streamlab.sinks.base import Batcher, DeadLetter, Failure, RetryBatch, RetryPolicy, Stats
from streamlab.testing import EdgeRandom, FixedClock, RecordingSink, read_dead_letters


def recorder(plan=()):
    """A recording sink with small limits: 4 records or 10 bytes a batch, 6 bytes a record, 1 s linger."""
    return RecordingSink(load_settings(), plan=plan, max_batch_records=4, max_batch_bytes=10, max_record_bytes=6, linger=1.0)


def make(sink, tmp_path, **kw):
    sleeps: list[float] = []
    b = Batcher(sink, DeadLetter(tmp_path / "dl.jsonl"), Stats(), kw.pop("retry", RetryPolicy()),
                sleep=sleeps.append, rng=random.Random(0), **kw)
    return b, sleeps


def dead(tmp_path):
    return read_dead_letters(tmp_path / "dl.jsonl")


def recs(*texts):
    return [TextLine(t) for t in texts]


def test_record_and_byte_limits(tmp_path):
    sink = recorder()
    b, _ = make(sink, tmp_path)
    b.add_all(recs("a", "b", "c", "d", "e"))  # 4 records is a full batch
    b.add_all(recs("12345", "67890", "x"))  # 5 + 5 = 10 bytes fit, "x" would make 11
    b.close()
    assert sink.calls == [[b"a", b"b", b"c", b"d"], [b"e", b"12345"], [b"67890", b"x"]]
    assert all(sum(map(len, c)) <= 10 for c in sink.calls)


def test_too_large_record_is_dead_lettered_not_sent(tmp_path):
    sink = recorder()
    b, _ = make(sink, tmp_path)
    b.add(TextLine("1234567"))
    b.add(TextLine("ok"))
    b.close()
    assert sink.calls == [[b"ok"]]
    [d] = dead(tmp_path)
    assert d["reason"] == "RecordTooLarge" and d["data"] == "1234567" and "7 bytes" in d["message"]
    assert b.stats.failed == 1 and b.stats.sent == 1


def test_linger_sends_a_partial_batch_when_due(tmp_path):
    clock = FixedClock(100.0)
    sink = recorder()
    b, _ = make(sink, tmp_path, clock=clock)
    b.add(TextLine("a"))
    assert b.time_left() == 1.0
    clock.advance(0.5)
    b.flush_if_due()
    assert sink.calls == [] and b.time_left() == 0.5
    clock.advance(0.5)
    b.flush_if_due()
    assert sink.calls == [[b"a"]] and b.time_left() is None


def test_only_failed_entries_are_resent_with_bounded_full_jitter(tmp_path):
    fail_1_and_3 = [Failure(1, "ProvisionedThroughputExceededException"), Failure(3, "InternalFailure")]
    sink = recorder(plan=[fail_1_and_3, [Failure(0, "InternalFailure")], []])
    policy = RetryPolicy(attempts=6, base=0.1, cap=5.0)
    b, sleeps = make(sink, tmp_path, retry=policy)
    b.add_all(recs("a", "b", "c", "d"))
    assert sink.calls == [[b"a", b"b", b"c", b"d"], [b"b", b"d"], [b"b"]]
    assert (b.stats.sent, b.stats.retried, b.stats.failed) == (4, 3, 0)
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.2 and 0 <= sleeps[1] <= 0.4
    # the delays are the policy's full jitter for attempts 1 then 2, drawn in turn from the injected rng
    rng = random.Random(0)
    assert sleeps == [policy.delay(1, rng), policy.delay(2, rng)]
    with_top = recorder(plan=[fail_1_and_3, [Failure(0, "InternalFailure")], []])
    b2 = Batcher(with_top, DeadLetter(tmp_path / "dl2.jsonl"), Stats(), policy, sleep=(top := []).append, rng=EdgeRandom(1))
    b2.add_all(recs("a", "b", "c", "d"))
    assert top == [0.2, 0.4]  # the ceilings base * 2**attempt: the backoff grows


def test_retry_budget_then_dead_letter_with_the_last_code(tmp_path):
    always_fail_0 = lambda batch: [Failure(0, "ProvisionedThroughputExceededException", "slow down")]
    sink = recorder(plan=[always_fail_0] * 10)
    b, sleeps = make(sink, tmp_path, retry=RetryPolicy(attempts=3, base=1.0, cap=1.5))
    b.add_all(recs("a", "b"))
    b.close()
    assert sink.calls == [[b"a", b"b"], [b"a"], [b"a"]]
    assert len(sleeps) == 2 and all(0 <= s <= 1.5 for s in sleeps)
    [d] = dead(tmp_path)
    assert (d["reason"], d["message"], d["data"]) == ("ProvisionedThroughputExceededException", "slow down", "a")
    assert (b.stats.sent, b.stats.failed) == (1, 1)


def test_whole_call_retry(tmp_path):
    sink = recorder(plan=[RetryBatch("ThrottlingException"), []])
    b, sleeps = make(sink, tmp_path)
    b.add_all(recs("a", "b"))
    b.close()
    assert sink.calls == [[b"a", b"b"], [b"a", b"b"]]
    assert (b.stats.sent, b.stats.retried) == (2, 2) and len(sleeps) == 1


def test_fatal_error_dead_letters_the_batch_and_everything_after(tmp_path):
    gone = ResourceNotFound("stream s disappeared", "recreate it")
    sink = recorder(plan=[[], gone])
    b, _ = make(sink, tmp_path)
    with pytest.raises(ResourceNotFound):
        b.add_all(recs("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"))
    # the first batch went out; the failed one and the rest of the chunk are kept, not re-sent
    b.add(TextLine("k"))
    b.close()
    assert len(sink.calls) == 2
    kept = [d["data"] for d in dead(tmp_path)]
    assert sorted(kept) == list("efghijk")
    assert {d["reason"] for d in dead(tmp_path)} == {"NotSent"}
    assert b.stats.sent + b.stats.failed == 11
