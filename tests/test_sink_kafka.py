"""Kafka sink against a real tansu broker on 127.0.0.1: counts, keys, topic creation, bounded
failures, dead-letter on a broker stopping mid-run, SIGTERM flush."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter


from streamlab.kafka.settings import CONNECT_TIMEOUT_S
from streamlab.local import kafka as local_broker
from streamlab.local.processes import free_port
from streamlab.records import Trade
from streamlab.testing import assert_one_line, parse_summary
from tests.fixtures.kafka import consume_all, create_topic, list_topics
from tests.test_pipeline_signals import stop_after

summary = parse_summary


def test_produce_lands_every_record_once_keyed_by_symbol(run_cli, kafka_broker, kafka_topic, tmp_path):
    r = run_cli("produce", "synthetic", "--seed", "3", "--sink", "kafka", "--topic", kafka_topic,
                "--bootstrap", kafka_broker.bootstrap, "--count", "3000", "--dead-letter", str(tmp_path / "dl.jsonl"))
    assert r.code == 0, r.err
    assert summary(r.err)["sent"] == 3000
    msgs = consume_all(kafka_broker.bootstrap, kafka_topic, expected=3000)
    assert len(msgs) == 3000
    keys = Counter(m.key for m in msgs)
    assert keys == {f"Index_{i}".encode(): 600 for i in range(1, 6)}
    trades = [Trade.from_json(m.value) for m in msgs]
    assert all(t.symbol.encode() == m.key for t, m in zip(trades, msgs))
    # same key -> same partition, so each symbol's walk stays in order
    assert len({(m.key, m.partition) for m in msgs}) == 5
    assert not (tmp_path / "dl.jsonl").exists()


def test_missing_topic_is_one_line_and_create_topic_makes_it(run_cli, kafka_broker):
    topic = f"new-{uuid.uuid4().hex[:8]}"
    r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", topic, "--bootstrap", kafka_broker.bootstrap, "--count", "5")
    assert r.code == 4
    assert_one_line(r.err, f"Kafka topic {topic} does not exist", "--create-topic --partitions")
    assert topic not in list_topics(kafka_broker.bootstrap)

    r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", topic, "--bootstrap", kafka_broker.bootstrap,
                "--count", "50", "--create-topic", "--partitions", "3")
    assert r.code == 0, r.err
    assert f"created Kafka topic {topic} (3 partitions, the broker's default replication) at {kafka_broker.bootstrap}" in " ".join(r.err.split())
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        (desc,) = admin.describe_topics([topic])
    finally:
        admin.close()
    assert len(desc["partitions"]) == 3
    assert len(consume_all(kafka_broker.bootstrap, topic, expected=50)) == 50


def test_unreachable_bootstrap_fails_fast_with_one_clear_line(run_cli):
    port = free_port()  # nothing listens there
    started = time.monotonic()
    r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", "t", "--bootstrap", f"127.0.0.1:{port}", "--count", "5")
    elapsed = time.monotonic() - started
    assert r.code == 5
    assert elapsed < CONNECT_TIMEOUT_S + 3
    line = r.err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"127.0.0.1:{port}" in line and "PLAINTEXT" in line and "check the host and port" in line


def test_no_bootstrap_anywhere_says_how_to_give_one(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path))  # no local broker recorded there
    r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", "t", "--count", "5")
    assert r.code == 2
    assert "--bootstrap" in r.err and "HWE_BOOTSTRAP" in r.err and "local up --kafka" in r.err


def test_local_broker_from_state_is_used_when_no_bootstrap_given(run_cli, monkeypatch, tmp_path, kafka_broker, kafka_topic):
    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path))
    local_broker.save_state(tmp_path, kafka_broker.info)
    r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", kafka_topic, "--count", "20")
    assert r.code == 0, r.err
    assert "local up --kafka" in r.err  # the summary says which broker it used
    assert len(consume_all(kafka_broker.bootstrap, kafka_topic, expected=20)) == 20


def kill_when_written(broker, topic: str, wait_s: float = 60.0) -> None:
    """Kill `broker` as soon as `topic` holds a record (or after `wait_s`)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    tp, deadline = TopicPartition(topic, 0), time.monotonic() + wait_s
    try:
        while time.monotonic() < deadline and not consumer.end_offsets([tp])[tp]:
            time.sleep(0.05)
    finally:
        consumer.close()
        broker.kill()


def test_broker_stopping_mid_run_dead_letters_what_was_not_acknowledged(run_cli, tmp_path):
    broker = local_broker.start()
    try:
        topic = create_topic(broker.bootstrap, "doomed")
        dl = tmp_path / "dl.jsonl"
        # killed once records are in (not after a fixed time: start-up takes its time under load)
        threading.Thread(target=kill_when_written, args=(broker, topic), daemon=True).start()
        started = time.monotonic()
        r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", topic, "--bootstrap", broker.bootstrap,
                    "--rate", "400", "--duration", "5", "--delivery-timeout", "2", "--max-outage", "3",
                    "--dead-letter", str(dl))
        elapsed = time.monotonic() - started
    finally:
        broker.stop()
    s = summary(r.err)
    # the broker stays gone past --max-outage: the run stops and says so, exit 5 (issue 17 item 3)
    assert r.code == 5, r.err
    assert "unreachable since" in r.err and "--max-outage 3s" in " ".join(r.err.split())
    assert s["sent"] > 0 and s["failed"] > 0
    # nothing silently lost: every record is either acknowledged or in the dead-letter file
    lines = [json.loads(l) for l in dl.read_text().splitlines()]
    assert len(lines) == s["failed"]
    assert s["sent"] + s["failed"] == s["produced"]
    assert all(l["reason"] and Trade.from_json(l["data"]).symbol == l["key"] for l in lines)
    assert "could not be delivered" in r.err and "dl.jsonl" in r.err.replace("\n", "")
    assert elapsed < 40


def test_sigterm_flushes_everything_produced(kafka_broker, kafka_topic, tmp_path):
    env = dict(os.environ, STREAMLAB_HOME=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlab", "produce", "synthetic", "--sink", "kafka", "--topic", kafka_topic,
         "--bootstrap", kafka_broker.bootstrap, "--rate", "2000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        code, err = stop_after(proc, 1.5)  # 1.5 s after it said "producing"
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, err
    s = summary(err)
    assert s["reason"] == "interrupted"
    assert s["produced"] > 1000 and s["sent"] == s["produced"] and s["failed"] == 0
    assert len(consume_all(kafka_broker.bootstrap, kafka_topic, expected=s["sent"])) == s["sent"]


def test_record_over_the_kafka_limit_goes_to_dead_letter(kafka_broker, kafka_topic, tmp_path):
    from streamlab.records import TextLine
    from streamlab.settings import Settings
    from streamlab.sinks import Batcher, DeadLetter, Stats
    from streamlab.sinks.kafka import MAX_RECORD_BYTES, KafkaSink

    sink = KafkaSink(Settings(), topic=kafka_topic, bootstrap=kafka_broker.bootstrap)
    sink.open()
    dl = DeadLetter(tmp_path / "dl.jsonl")
    b = Batcher(sink, dl, Stats())
    b.add(TextLine("small"))
    b.add(TextLine("x" * (MAX_RECORD_BYTES + 1)))
    b.close()
    assert b.stats.sent == 1 and b.stats.failed == 1
    assert json.loads(dl.path.read_text())["reason"] == "RecordTooLarge"
    msgs = consume_all(kafka_broker.bootstrap, kafka_topic, expected=1)
    assert [m.value for m in msgs] == [b"small"] and msgs[0].key is None
