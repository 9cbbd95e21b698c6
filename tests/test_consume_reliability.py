"""Kill the consumer (SIGKILL: no flush, no cleanup) mid-run, restart it with the same checkpoint:
every produced review is in the Parquet output exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.spark


def batches(out) -> list[str]:
    return sorted(p.name for p in out.glob("batch_id=*") if (p / "_SUCCESS").exists())


def consume(bootstrap: str, topic: str, out, cp, *extra: str) -> list[str]:
    return [sys.executable, "-m", "streamlab", "consume", "--source", "kafka", "--topic", topic, "--bootstrap", bootstrap,
            "--dataset", "reviews", "--sink", "parquet", "--path", str(out), "--checkpoint", str(cp), "--quiet", *extra]


def test_sigkill_mid_run_then_restart_loses_and_duplicates_nothing(spark, run_cli, kafka_broker, kafka_topic, tmp_path):
    r = run_cli("produce", "reviews", "--sink", "kafka", "--topic", kafka_topic, "--bootstrap", kafka_broker.bootstrap)
    assert r.code == 0, r.err
    out, cp = tmp_path / "bronze", tmp_path / "cp"
    log = open(tmp_path / "first.log", "w")
    first = subprocess.Popen(
        consume(kafka_broker.bootstrap, kafka_topic, out, cp, "--trigger", "500ms", "--max-offsets-per-trigger", "400"),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(batches(out)) < 3:  # some batches committed, more to come (5,000 / 400 = 13)
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the consumer wrote no batches"
            time.sleep(0.1)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the consumer and its Spark JVM, mid-batch or between
        first.wait(30)
        log.close()
    assert len(batches(out)) < 13, "the first run finished before it was killed: nothing was tested"

    second = subprocess.run(consume(kafka_broker.bootstrap, kafka_topic, out, cp, "--trigger", "available-now"),
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]

    df = spark.read.parquet(str(out))
    assert df.count() == 5000
    assert df.select("review_id").distinct().count() == 5000
