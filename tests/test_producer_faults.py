"""Issue 17: exact producer accounting at the edges, counted with numbered records end to end.

Every scenario pipes `1..N` into `python -m streamlab produce stdin`, then reads back what reached
the target (an independent reader: boto3 on the emulator, or the output file) and the dead-letter
file, and checks: stream + dead-letter = produced, duplicates only where the dead-letter file says
`delivery unknown`, and the exit code a script would test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fixtures.aws import new_stream, read_all


def produced_of(err: str) -> int:
    m = re.search(r"done \(([\w ]+)\): ([\d,]+) produced", " ".join(err.split()))
    assert m, err
    return int(m.group(2).replace(",", ""))


def numbers_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "numbers.txt"
    path.write_text("".join(f"{i}\n" for i in range(1, n + 1)))
    return path


def start_stdin(numbers: Path, *args: str, home: Path) -> subprocess.Popen:
    env = dict(os.environ, COLUMNS="200", STREAMLAB_HOME=str(home))
    with open(numbers, "rb") as stdin:
        return subprocess.Popen([sys.executable, "-m", "streamlab", "produce", "stdin", *args], stdin=stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_producing(proc: subprocess.Popen) -> str:
    said = ""
    while not said.splitlines()[-1:] or not said.splitlines()[-1].startswith("producing"):
        line = proc.stderr.readline()
        assert line, said + proc.communicate()[1]
        said += line
    return said


def dead_letters(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check_accounting(delivered: list[int], dead: list[dict], produced: int) -> None:
    """delivered + dead-lettered = 1..produced; a number both delivered and dead-lettered (or
    delivered twice) must be marked 'delivery unknown' in the dead-letter file."""
    unknown = {int(d["data"]) for d in dead if d["delivery"] == "delivery unknown"}
    dead_numbers = [int(d["data"]) for d in dead]
    everything = set(delivered) | set(dead_numbers)
    assert everything == set(range(1, produced + 1)), (
        f"lost: {sorted(set(range(1, produced + 1)) - everything)[:20]}, extra: {sorted(everything - set(range(1, produced + 1)))[:20]}"
    )
    seen = Counter(delivered) + Counter(dead_numbers)
    doubled = {n for n, c in seen.items() if c > 1}
    assert doubled <= unknown, f"duplicated without 'delivery unknown': {sorted(doubled - unknown)[:20]}"


DOUBLE_SIGNAL_RUNS = 8  # the issue saw the loss in 2 of 6 runs; each run here takes ~2-3 s


@pytest.mark.parametrize("run", range(DOUBLE_SIGNAL_RUNS))
def test_double_signal_accounts_for_every_record(emulator, kinesis, tmp_path, run):
    numbers = numbers_file(tmp_path, 100_000)
    dl = tmp_path / "dl.jsonl"
    with new_stream(kinesis, shards=2) as stream:
        proc = start_stdin(numbers, "--sink", "kinesis", "--stream", stream, "--endpoint-url", emulator.url,
                           "--dead-letter", str(dl), home=tmp_path)
        said = wait_producing(proc)
        time.sleep(0.4 + 0.1 * run)  # different points of the send cycle
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT if run % 2 else signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        err = said + err
        delivered = [int(x) for x in read_all(kinesis, stream)]
    assert "Traceback" not in err, err
    produced = produced_of(err)  # the summary prints after an abort too
    dead = dead_letters(dl)
    if dead:
        assert str(dl) in err  # and so does the dead-letter path
    check_accounting(delivered, dead, produced)
    # the first signal alone may have finished the flush before the second arrived
    assert proc.returncode in (0, 130), err
    if proc.returncode == 130:
        assert "aborted" in err


def test_an_unwritable_dead_letter_path_fails_before_producing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = tmp_path / "out.jsonl"
    proc = start_stdin(numbers_file(tmp_path, 3), "--sink", "file", "--path", str(out),
                       "--dead-letter", str(blocker / "dl.jsonl"), home=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert f"cannot write {blocker / 'dl.jsonl'}" in err and "Traceback" not in err
    assert not out.exists() or out.read_text() == ""  # nothing produced


def run_through_outage(tcp_proxy, kinesis, tmp_path, *, outage: float, restore: bool, n: int = 3000, extra=()):
    """1..n at 1,000/s into Kinesis through the proxy, which resets everything for `outage` s
    once 500 records are in (then passes again if `restore`)."""
    numbers = numbers_file(tmp_path, n)
    dl = tmp_path / "dl.jsonl"
    with new_stream(kinesis) as stream:
        proc = start_stdin(numbers, "--sink", "kinesis", "--stream", stream, "--endpoint-url", tcp_proxy.url,
                           "--rate", "1000", "--dead-letter", str(dl), *extra, home=tmp_path)
        said = wait_producing(proc)
        deadline = time.monotonic() + 30
        while len(read_all(kinesis, stream)) < 500 and time.monotonic() < deadline:
            time.sleep(0.1)
        tcp_proxy.cut()
        time.sleep(outage)
        if restore:
            tcp_proxy.mode = "pass"
        _, err = proc.communicate(timeout=120)
        delivered = [int(x) for x in read_all(kinesis, stream)]
    return proc.returncode, said + err, delivered, dead_letters(dl)


def test_an_outage_shorter_than_max_outage_is_ridden_out(tcp_proxy, kinesis, tmp_path):
    code, err, delivered, dead = run_through_outage(tcp_proxy, kinesis, tmp_path, outage=15.0, restore=True)
    assert code == 0, err
    assert dead == [], err  # nothing given up on
    assert set(delivered) == set(range(1, 3001))  # every record there (at-least-once: a resent batch may repeat)
    assert tcp_proxy.resets > 0
    assert not re.search(r"\b0 retried", " ".join(err.split())), err  # the outage's attempts are counted


def test_a_dead_endpoint_stops_the_run_after_max_outage_with_exit_5(tcp_proxy, kinesis, tmp_path):
    started = time.monotonic()
    code, err, delivered, dead = run_through_outage(tcp_proxy, kinesis, tmp_path, outage=0, restore=False,
                                                    n=20_000, extra=("--max-outage", "3"))
    assert code == 5, err
    line = " ".join(err.split())
    assert "unreachable since" in line and "--max-outage 3s" in line and "dead-lettered" in line, err
    assert "Traceback" not in err
    produced = produced_of(err)
    assert produced < 20_000  # it stopped producing instead of dead-lettering the rest of the input
    check_accounting(delivered, dead, produced)
    assert time.monotonic() - started < 60


def test_retried_counts_every_attempt_the_proxy_saw(faulty_proxy, kinesis, tmp_path):
    """botocore's own retries are off for the sinks, so the summary's `retried` is the number of
    record resends the service really got: whole calls throttled, answered 500/502/503, and
    entries failed one by one (each of these botocore used to retry silently, or not at all)."""
    from streamlab.testing import parse_summary
    from tests.fixtures.faulty_proxy import FailCall, FailEntries

    faulty_proxy.script.extend([
        FailCall("ThrottlingException"), FailEntries({0, 5, 9}), FailCall("InternalFailure", status=500),
        FailCall("ServiceUnavailable", status=503), FailCall("BadGateway", status=502),
    ])  # 5 failed sends: one short of the retry budget (6 sends of one record)
    dl = tmp_path / "dl.jsonl"
    with new_stream(kinesis) as stream:
        proc = start_stdin(numbers_file(tmp_path, 1200), "--sink", "kinesis", "--stream", stream,
                           "--endpoint-url", faulty_proxy.url, "--dead-letter", str(dl), home=tmp_path)
        _, err = proc.communicate(timeout=120)
        delivered = [int(x) for x in read_all(kinesis, stream)]
    assert proc.returncode == 0, err
    summary = parse_summary(err)
    assert (summary["produced"], summary["sent"], summary["failed"]) == (1200, 1200, 0), err
    attempts = sum(faulty_proxy.sizes)  # records in every PutRecords call that reached the proxy
    assert len(faulty_proxy.calls) >= 6 and attempts > 1200
    assert summary["retried"] == attempts - 1200, (summary, faulty_proxy.sizes)
    assert sorted(delivered) == list(range(1, 1201)) and not dl.exists()


def test_malformed_review_lines_are_set_aside_with_the_reason(tmp_path):
    good = "US\t1\tR1\tB01\t9\tTitle\tBooks\t5\t0\t0\tN\tY\tGreat\tBody text\t2015-01-01"
    split = "US\t3\tR3\tB03\t9\tT\tBooks\t4\t0\t0\tN\tY\tHead\tfirst half", "second half\t2016-02-03"
    reviews = tmp_path / "mine.tsv"
    reviews.write_text(f"{good}\ntoo\tfew\tfields\n{split[0]}\n{split[1]}\n{good}\n")
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, COLUMNS="200", STREAMLAB_HOME=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "streamlab", "produce", "reviews", "--file", str(reviews),
                        "--sink", "file", "--path", str(out)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines() == [good, good]
    [aside] = (tmp_path / "dead-letter").glob("reviews-malformed-*.jsonl")
    assert str(aside) in "".join(r.stderr.split())
    kept = [json.loads(line) for line in aside.read_text().splitlines()]
    assert [(k["line_no"], k["line"]) for k in kept] == [(2, "too\tfew\tfields"), (3, split[0] + "\n" + split[1])]
    assert kept[0]["reason"] == "3 fields, expected 15" and "newline inside a field" in kept[1]["reason"]


def replay(capture: Path, tmp_path: Path) -> tuple[int, str, list[str]]:
    out = tmp_path / "replayed.jsonl"
    out.unlink(missing_ok=True)
    env = dict(os.environ, COLUMNS="200", STREAMLAB_HOME=str(tmp_path / "home"))
    r = subprocess.run([sys.executable, "-m", "streamlab", "produce", "replay", str(capture), "--speed", "max",
                        "--sink", "file", "--path", str(out)], capture_output=True, text=True, env=env, timeout=120)
    return r.returncode, r.stderr, out.read_text().splitlines() if out.exists() else []


def test_damaged_captures_send_what_is_readable_then_exit_7(tmp_path):
    import gzip

    sample = sorted((Path(__file__).parent.parent / "examples" / "captures").glob("binance*.jsonl.gz"))[0]
    code, err, whole = replay(sample, tmp_path)
    assert code == 0 and len(whole) > 100, err
    data = sample.read_bytes()

    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])  # a writer killed half-way
    code, err, got = replay(cut, tmp_path)
    assert code == 7, err
    assert "is damaged" in err and "Traceback" not in err
    assert 0 < len(got) < len(whole) and got == whole[: len(got)]  # what was readable, in order

    lines = gzip.decompress(data).splitlines(keepends=True)
    plain = tmp_path / "garbled.jsonl"
    plain.write_bytes(b"".join(lines[:3] + [b"garbage, not json\n", b'{"t": 1, "frame": "caf\xff"}\n'] + lines[3:]))
    code, err, got = replay(plain, tmp_path)
    assert code == 7, err
    assert got == whole  # every good frame still replayed
    [aside] = (tmp_path / "home" / "dead-letter").glob("binance-malformed-*.jsonl")
    reasons = [json.loads(x)["reason"] for x in aside.read_text().splitlines()]
    assert any("not a capture line" in r for r in reasons) and any("invalid UTF-8" in r for r in reasons), reasons
    assert "2 unreadable lines" in " ".join(err.split())


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_socket_run(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, COLUMNS="200", STREAMLAB_HOME=str(tmp_path))
    return subprocess.Popen([sys.executable, "-m", "streamlab", "produce", "tweets", "--sink", "socket",
                             "--port", str(free_port()), "--dead-letter", str(tmp_path / "dl.jsonl"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def summary_of(err: str) -> tuple[int, int, int]:
    m = re.search(r"([\d,]+) produced, ([\d,]+) sent .*?([\d,]+) failed", " ".join(err.split()))
    assert m, err
    return tuple(int(x.replace(",", "")) for x in m.groups())  # type: ignore[return-value]


def test_socket_sink_with_no_client_stops_at_once_on_a_signal(tmp_path):
    proc = start_socket_run(tmp_path, "--rate", "200")  # --hold-wait stays at its 30 s default
    said = wait_producing(proc)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    err = said + err
    assert time.monotonic() - started < 10, err  # not the 30 s hold-wait
    produced, sent, failed = summary_of(err)
    assert produced > 0 and sent == 0 and failed == produced, err  # held lines reached no client
    assert len(dead_letters(tmp_path / "dl.jsonl")) == produced
    assert {d["reason"] for d in dead_letters(tmp_path / "dl.jsonl")} == {"NoClient"}
    assert proc.returncode == 6, err


def test_socket_sink_hold_wait_ends_on_a_signal_with_a_summary(tmp_path):
    proc = start_socket_run(tmp_path, "--count", "50", "--hold-wait", "60")
    said = ""
    while "holding" not in said:
        line = proc.stderr.readline()
        assert line, said + proc.communicate()[1]
        said += line
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 10, said + err
    assert summary_of(said + err) == (50, 0, 50)
    assert proc.returncode == 6


def test_a_kafka_broker_restarted_within_max_outage_is_reconnected(tmp_path):
    """The broker dies mid-run and a new one comes up on the same port 3 s later: the run carries
    on and every record arrives. tansu keeps topics in memory only (the one storage streamlab.local
    .kafka runs), so the new broker starts empty: the test creates the topic again, as whoever
    restarts a broker would, and reads the first broker out before killing it. To read it out
    exactly, the producer is paused (SIGSTOP) for that moment and resumed as the broker dies."""
    from streamlab.local import kafka as local_broker
    from tests.fixtures.kafka import consume_all, create_topic

    topic, n = "restart", 8000
    dl = tmp_path / "dl.jsonl"
    first = local_broker.start()
    port = first.port
    second = None
    try:
        create_topic(first.bootstrap, topic)
        proc = start_stdin(numbers_file(tmp_path, n), "--sink", "kafka", "--topic", topic, "--bootstrap", first.bootstrap,
                           "--rate", "1000", "--max-outage", "30", "--dead-letter", str(dl), home=tmp_path)
        said = wait_producing(proc)
        time.sleep(2.0)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.5)  # what the producer had written reaches the broker
        before = [int(m.value) for m in consume_all(first.bootstrap, topic, idle_s=1.5)]
        first.kill()
        proc.send_signal(signal.SIGCONT)
        time.sleep(3.0)
        second = local_broker.start(port=port)
        create_topic(second.bootstrap, topic)
        _, err = proc.communicate(timeout=120)
        err = said + err
        after = [int(m.value) for m in consume_all(second.bootstrap, topic, expected=n - len(set(before)), wait_s=30)]
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert 0 < len(before) < n, err  # the outage came mid-run
    assert proc.returncode == 0, err
    assert dead_letters(dl) == [], err
    produced = produced_of(err)
    assert produced == n
    # at-least-once: a batch whose acknowledgement died with the first broker may be sent again
    assert set(before) | set(after) == set(range(1, n + 1)), sorted(set(range(1, n + 1)) - set(before) - set(after))[:20]
