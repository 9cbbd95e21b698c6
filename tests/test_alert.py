"""`streamlab alert` end to end: Kinesis on the moto server, Kafka on tansu, a local HTTP server for
webhooks and Slack, and an SQS queue subscribed to an SNS topic on the emulator."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest

from streamlab.records import Trade
from tests.fixtures.aws import new_stream, unique

M = 60_000
T0 = 1_764_000_000_000
RULES = ("BTCUSDT < 3800", "BTCUSDT > 4000", "BTCUSDT change > 200 in 1h", "ETHUSDT change% > 5 in 1d")
SCRIPT = [  # (symbol, price, event time)
    ("BTCUSDT", 3900, T0), ("ETHUSDT", 100, T0), ("BTCUSDT", 3790, T0 + M), ("BTCUSDT", 3850, T0 + 2 * M),
    ("ETHUSDT", 106, T0 + 10 * M), ("BTCUSDT", 4150, T0 + 30 * M), ("BTCUSDT", 4160, T0 + 31 * M),
]
EXPECTED = [  # what SCRIPT fires under RULES, in order per symbol
    "ALERT [BTCUSDT < 3800] BTCUSDT 3790",
    "CLEARED [BTCUSDT < 3800] BTCUSDT 3850",
    "ALERT [ETHUSDT change% > 5 in 1d] ETHUSDT 106",
    "ALERT [BTCUSDT > 4000] BTCUSDT 4150",
    "ALERT [BTCUSDT change > 200 in 1h] BTCUSDT 4150",
]


def trade(sym, price, t) -> bytes:
    return Trade("binance", sym, price, 0.5, t, t + 3).to_bytes()


def put(kinesis, stream, script, extra=()) -> None:
    records = [{"Data": trade(*row), "PartitionKey": row[0]} for row in script]
    records += [{"Data": data, "PartitionKey": "junk"} for data in extra]
    assert kinesis.put_records(StreamName=stream, Records=records)["FailedRecordCount"] == 0


def alert_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("ALERT", "CLEARED"))]


def same_order(lines: list[str]) -> dict[str, list[str]]:
    """The alerts of each symbol in order (across shards/partitions the interleaving may differ)."""
    out: dict[str, list[str]] = {}
    for line in lines:
        out.setdefault(line.split("] ", 1)[1].split()[0], []).append(line)
    return out


def rule_args(rules=RULES) -> list[str]:
    return [a for r in rules for a in ("--rule", r)]


# -- Kinesis -------------------------------------------------------------------------------------
def test_once_reads_every_shard_prints_the_alerts_and_exits_1(aws_env, kinesis, run_cli, http_hook, tmp_path):
    with new_stream(kinesis, shards=2) as stream:
        put(kinesis, stream, SCRIPT, extra=[b"not json", b'{"symbol": "BTCUSDT"}', trade("BTCUSDT", 1, T0 + 3 * M).replace(b'"price": 1', b'"price": "lots"')])
        r = run_cli("alert", "--stream", stream, "--once", *rule_args(), "--notify", "console",
                    "--notify", f"webhook:{http_hook.url('/alerts')}", "--dead-letter", str(tmp_path / "dl.jsonl"))
        assert r.code == 1, r.err
        lines = alert_lines(r.out)
        assert len(lines) == 5
        assert {k: [line.split(" at ")[0] for line in v] for k, v in same_order(lines).items()} == same_order(EXPECTED)
        assert "moved +250 from 3900 at 2025-11-24 16:00:00 UTC" in r.out  # the reference price and its time
        assert "read 10 records (3 unparsable), 2 symbols; alerts fired 4, cleared 1" in r.err
        bodies = [body for path, _, body in http_hook.requests if path == "/alerts"]
        assert len(bodies) == 5
        change = next(b for b in bodies if b["rule"] == "BTCUSDT change > 200 in 1h")
        assert change == {**change, "state": "fired", "symbol": "BTCUSDT", "price": 4150, "reference": 3900,
                          "reference_time": T0, "event_time": T0 + 30 * M, "change": 250, "change_unit": "price"}
        assert not (tmp_path / "dl.jsonl").exists()
        # nothing fires: exit 0
        quiet = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT > 5000")
        assert (quiet.code, alert_lines(quiet.out)) == (0, [])


def test_live_from_latest_then_a_replay_fires_the_same_alerts(aws_env, kinesis, run_cli):
    with new_stream(kinesis, shards=2) as live, new_stream(kinesis, shards=1) as replayed:
        put(kinesis, live, [("BTCUSDT", 1000, T0 - 60 * M)])  # before the start: --from latest never sees it

        def produce_slowly():
            time.sleep(2.0)
            for i in range(0, len(SCRIPT), 2):
                put(kinesis, live, SCRIPT[i:i + 2])
                time.sleep(0.4)

        writer = threading.Thread(target=produce_slowly)
        writer.start()
        r = run_cli("alert", "--stream", live, *rule_args(), "--duration", "7", "--poll-interval", "0.2")
        writer.join()
        assert r.code == 0, r.err
        live_lines = alert_lines(r.out)
        assert "1000" not in r.out and len(live_lines) == 5
        # the same records at another time, all at once, into another stream: the same alerts
        put(kinesis, replayed, SCRIPT)
        again = run_cli("alert", "--stream", replayed, "--once", *rule_args())
        assert again.code == 1
        assert same_order(alert_lines(again.out)) == same_order(live_lines)


def test_a_reshard_is_followed_parent_first(aws_env, kinesis, run_cli):
    with new_stream(kinesis, shards=1) as stream:
        rows = [("BTCUSDT", 3900 + i, T0 + i * M) for i in range(10)]
        put(kinesis, stream, rows)
        parent = kinesis.list_shards(StreamName=stream)["Shards"][0]
        kinesis.split_shard(StreamName=stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=str(2**127))
        put(kinesis, stream, [("BTCUSDT", 4200, T0 + 20 * M), ("BTCUSDT", 3950, T0 + 21 * M)])
        assert len(kinesis.list_shards(StreamName=stream)["Shards"]) == 3
        r = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT change > 250 in 1h")
        assert r.code == 1, r.err
        assert "read 12 records (0 unparsable)" in r.err
        # (the emulator keeps writing to the closed parent; the children are listed, read, and empty)
        # the move is measured from the oldest record, then clears
        assert alert_lines(r.out) == [
            "ALERT [BTCUSDT change > 250 in 1h] BTCUSDT 4200 at 2025-11-24 16:20:00 UTC, moved +300 from 3900 at 2025-11-24 16:00:00 UTC",
            "CLEARED [BTCUSDT change > 250 in 1h] BTCUSDT 3950 at 2025-11-24 16:21:00 UTC, moved +50 from 3900 at 2025-11-24 16:00:00 UTC",
        ]


class _ScriptedKinesis:
    """Shards with data in closed parents and open children, which the emulator cannot make (it
    keeps writing to a split shard's parent): only for the order in which the follower reads them."""

    class exceptions:
        class ExpiredIteratorException(Exception):
            pass

        class ProvisionedThroughputExceededException(Exception):
            pass

    def __init__(self, shards):
        self.shards = shards  # id -> (parents, closed, [data...])
        self.reads: list[str] = []
        self.throttle = set(shards)  # each shard's first read is refused for throughput

    def describe_stream_summary(self, StreamName):
        return {"StreamDescriptionSummary": {}}

    def list_shards(self, StreamName=None, NextToken=None):
        out = []
        for sid, (parents, closed, _) in self.shards.items():
            row = {"ShardId": sid, "SequenceNumberRange": {"StartingSequenceNumber": "0", **({"EndingSequenceNumber": "9"} if closed else {})}}
            row.update(zip(("ParentShardId", "AdjacentParentShardId"), parents))
            out.append(row)
        return {"Shards": out}

    def get_shard_iterator(self, StreamName, ShardId, ShardIteratorType, **kw):
        return {"ShardIterator": f"{ShardId}|0"}

    def get_records(self, ShardIterator, Limit):
        sid, pos = ShardIterator.split("|")
        if sid in self.throttle:
            self.throttle.discard(sid)
            raise self.exceptions.ProvisionedThroughputExceededException()
        _, closed, data = self.shards[sid]
        self.reads.append(sid)
        recs = [{"Data": d, "SequenceNumber": str(i)} for i, d in enumerate(data)][int(pos):]
        nxt = None if closed and recs == [] else f"{sid}|{len(data)}"
        return {"Records": recs, "NextShardIterator": nxt, "MillisBehindLatest": 0}


class _Handle:
    def __init__(self, client):
        self._client = client

    def client(self, service):
        return self._client

    def where(self):
        return "the script"


def test_children_are_read_only_after_their_parents_end():
    from streamlab.alerts.follow import KinesisFollower

    fake = _ScriptedKinesis({
        "merged": (("left", "right"), False, [b"m1"]),
        "left": (("root",), True, [b"l1", b"l2"]),
        "right": (("root",), True, [b"r1"]),
        "root": ((), True, [b"p1", b"p2"]),
        "other": ((), False, [b"o1"]),
    })
    follower = KinesisFollower(_Handle(fake), "s", "trim-horizon", sleep=lambda s: None).open()
    got = []
    while not follower.caught_up or not got:
        got += follower.poll()
    assert sorted(got) == [b"l1", b"l2", b"m1", b"o1", b"p1", b"p2", b"r1"]
    assert got.index(b"p2") < got.index(b"l1") and got.index(b"p2") < got.index(b"r1")
    assert got.index(b"l2") < got.index(b"m1") and got.index(b"r1") < got.index(b"m1")
    assert fake.reads.index("merged") > max(i for i, s in enumerate(fake.reads) if s in ("left", "right"))
    assert follower.throttled == 5  # every shard refused once, read on the next poll
    # from latest: the closed shards are skipped, the open ones start at their tip
    late = KinesisFollower(_Handle(fake), "s", "latest", sleep=lambda s: None).open()
    assert {sid for sid, s in late.shards.items() if s.done} == {"left", "right", "root"}


def test_the_cooldown_holds_back_a_flapping_rule(aws_env, kinesis, run_cli):
    with new_stream(kinesis) as stream:
        put(kinesis, stream, [("BTCUSDT", p, T0 + i * M) for i, p in enumerate([3790, 3810, 3790, 3810, 3790])])
        r = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT < 3800", "--cooldown", "10m")
        assert [line.split(" at ")[0] for line in alert_lines(r.out)] == ["ALERT [BTCUSDT < 3800] BTCUSDT 3790", "CLEARED [BTCUSDT < 3800] BTCUSDT 3810"]
        assert "held back by the cooldown 2" in r.err


def test_bad_input_fails_fast_with_one_line(aws_env, kinesis, run_cli, monkeypatch, tmp_path):
    r = run_cli("alert", "--stream", "no-such-stream", "--rule", "BTCUSDT > 1")
    assert (r.code, r.err.count("\n")) == (4, 1) and "stream no-such-stream not found" in r.err
    with new_stream(kinesis) as stream:
        cases = [
            (["--notify", "pager"], 2, "cannot read --notify 'pager'; accepted:"),
            (["--notify", "webhook:ftp://x"], 2, "cannot read --notify"),
            (["--notify", "slack"], 2, "needs the Slack incoming-webhook URL; set SLACK_WEBHOOK_URL"),
            (["--notify", "sns:no-such-topic"], 4, "SNS topic no-such-topic not found"),
            (["--once", "--from", "latest"], 2, "--once reads everything the stream retains"),
            (["--rules", str(tmp_path / "none.toml")], 2, "cannot read the rules file"),
            (["--cooldown", "soon"], 2, "cannot read the duration 'soon'"),
        ]
        for extra, code, says in cases:
            r = run_cli("alert", "--stream", stream, "--rule", "BTCUSDT > 1", *extra)
            assert (r.code, r.err.count("\n")) == (code, 1) and says in r.err, (extra, r.err)
    r = run_cli("alert", "--source", "kafka", "--rule", "BTCUSDT > 1")
    assert r.code == 2 and "--source kafka needs --topic" in r.err


# -- notifications -------------------------------------------------------------------------------
def test_slack_gets_the_alert_and_its_url_is_never_shown(aws_env, kinesis, run_cli, http_hook, monkeypatch, tmp_path):
    secret_path = "/services/T0001/B0001/s3cr3tT0k3n"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", http_hook.url(secret_path))
    with new_stream(kinesis) as stream:
        put(kinesis, stream, SCRIPT)
        r = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT > 4000", "--notify", "slack")
        assert r.code == 1, r.err
        [(path, headers, body)] = http_hook.requests
        assert path == secret_path and headers["Content-Type"] == "application/json"
        assert body == {"text": "ALERT [BTCUSDT > 4000] BTCUSDT 4150 at 2025-11-24 16:30:00 UTC (threshold 4000)"}
        assert "s3cr3t" not in r.out + r.err and "notify slack" in r.err
        # Slack refusing everything: dead-lettered, still without the URL anywhere
        http_hook.fail_always(403)
        dl = tmp_path / "dl.jsonl"
        r = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT > 4000", "--notify", "slack",
                    "--notify-attempts", "2", "--dead-letter", str(dl))
        assert r.code == 6 and "s3cr3t" not in r.out + r.err + dl.read_text()
        [line] = [json.loads(x) for x in dl.read_text().splitlines()]
        assert line["reason"] == "HTTP 403 Forbidden (after 2 attempts)" and line["notifier"] == "slack"


def test_a_dead_webhook_loses_no_alert_and_stops_nothing(aws_env, kinesis, run_cli, http_hook, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dl = tmp_path / "dl.jsonl"
    with new_stream(kinesis) as stream:
        put(kinesis, stream, SCRIPT)
        http_hook.fail_next(1)  # the live hook fails once, then accepts: a retry, not a dead letter
        r = run_cli("alert", "--stream", stream, "--once", *rule_args(), "--notify", f"webhook:http://127.0.0.1:{dead_port}/x",
                    "--notify", f"webhook:{http_hook.url()}", "--notify", "console", "--notify-attempts", "2", "--dead-letter", str(dl))
    assert r.code == 6
    assert len(alert_lines(r.out)) == 5  # every alert still reached the console
    assert len(http_hook.requests) == 5 and "retried 6" in r.err  # 5 retries for the dead hook, 1 for the flaky one
    lines = [json.loads(x) for x in dl.read_text().splitlines()]
    assert len(lines) == 5 and all("Connection refused" in x["reason"] for x in lines)
    assert {x["alert"]["rule"] for x in lines} == set(RULES) and lines[0]["notifier"] == f"webhook:http://127.0.0.1:{dead_port}"
    assert "5 notifications could not be delivered" in r.err


def subscribe_queue(emulator, topic_arn: str):
    """A new SQS queue subscribed to the topic (email cannot be delivered locally): (sqs, queue URL)."""
    sns = boto3.client("sns", endpoint_url=emulator.url, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=emulator.url, region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return sqs, queue_url


def test_sns_delivers_to_a_subscribed_sqs_queue(aws_env, kinesis, run_cli):
    sns = boto3.client("sns", endpoint_url=aws_env.url, region_name="us-east-1")
    topic = unique("alerts")
    arn = sns.create_topic(Name=topic)["TopicArn"]
    sqs, queue_url = subscribe_queue(aws_env, arn)
    with new_stream(kinesis) as stream:
        put(kinesis, stream, SCRIPT)
        r = run_cli("alert", "--stream", stream, "--once", "--rule", "ETHUSDT change% > 5 in 1d", "--notify", f"sns:{topic}")
        assert r.code == 1, r.err
        by_arn = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT > 4000", "--notify", f"sns:{arn}")
        assert by_arn.code == 1, by_arn.err
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    envelopes = sorted((json.loads(m["Body"]) for m in got), key=lambda e: e["Subject"])
    assert [e["Subject"] for e in envelopes] == ["streamlab fired: BTCUSDT > 4000 (BTCUSDT 4150)",
                                                 "streamlab fired: ETHUSDT change% > 5 in 1d (ETHUSDT 106)"]
    eth = envelopes[1]["Message"]
    assert eth.startswith("ALERT [ETHUSDT change% > 5 in 1d] ETHUSDT 106 at 2025-11-24 16:10:00 UTC, moved +6.00% from 100")
    details = json.loads(eth.split("\n\n", 1)[1])
    assert (details["reference"], details["change"], details["change_unit"]) == (100, 6, "percent")


# -- Kafka ---------------------------------------------------------------------------------------
def test_kafka_once_and_live_fire_the_same_alerts(kafka_broker, kafka_topic, run_cli, tmp_path, monkeypatch):
    from kafka import KafkaProducer

    monkeypatch.setenv("STREAMLAB_HOME", str(tmp_path / "home"))
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)

    def send(rows, extra=()):
        for row in rows:  # one record per request: tansu under-reports batched end offsets
            producer.send(kafka_topic, key=row[0].encode(), value=trade(*row)).get(timeout=10)
        for data in extra:
            producer.send(kafka_topic, key=b"junk", value=data).get(timeout=10)

    def send_later():
        time.sleep(2.5)
        send(SCRIPT, extra=[b"{broken"])

    try:
        writer = threading.Thread(target=send_later)
        writer.start()
        live = run_cli("alert", "--source", "kafka", "--topic", kafka_topic, "--bootstrap", kafka_broker.bootstrap,
                       *rule_args(), "--duration", "7")
        writer.join()
        assert live.code == 0, live.err
        once = run_cli("alert", "--source", "kafka", "--topic", kafka_topic, "--bootstrap", kafka_broker.bootstrap, "--once", *rule_args())
    finally:
        producer.close()
    assert once.code == 1, once.err
    assert "Kafka topic" in once.err and "(2 partitions)" in once.err
    assert "read 8 records (1 unparsable)" in once.err and "read 8 records (1 unparsable)" in live.err
    assert same_order(alert_lines(once.out)) == same_order(alert_lines(live.out))
    assert len(alert_lines(once.out)) == 5


def test_kafka_topic_missing_is_exit_4(kafka_broker, run_cli):
    r = run_cli("alert", "--source", "kafka", "--topic", "no-such-topic", "--bootstrap", kafka_broker.bootstrap, "--rule", "X > 1")
    assert r.code == 4 and "Kafka topic no-such-topic does not exist" in r.err


def test_sigterm_stops_a_live_run_with_its_summary(aws_env, kinesis):
    import os
    import signal
    import subprocess
    import sys

    with new_stream(kinesis) as stream:
        proc = subprocess.Popen([sys.executable, "-m", "streamlab", "alert", "--stream", stream, "--rule", "BTCUSDT > 1",
                                 "--poll-interval", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            first = proc.stderr.readline()
            assert first.startswith(f"following Kinesis stream {stream} (1 shards) from latest"), first
            put(kinesis, stream, SCRIPT[:1])
            seen: list[str] = []
            reader = threading.Thread(target=lambda: seen.append(proc.stdout.readline()), daemon=True)
            reader.start()
            reader.join(timeout=30)  # the alert, however slow a loaded machine is
            proc.send_signal(signal.SIGTERM)
            rest, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 0, err
    out = "".join(seen) + rest
    assert out.startswith("ALERT [BTCUSDT > 1] BTCUSDT 3900") and "read 1 records (0 unparsable)" in err


def test_provider_native_messages_fire_the_same_alerts(aws_env, kinesis, run_cli):
    """What course producers put into the stream: Finnhub's own messages (BTC, two trades in one,
    with a ping between) and raw Binance events in the combined-stream wrapper (ETH)."""
    btc = [row for row in SCRIPT if row[0] == "BTCUSDT"]
    eth = [row for row in SCRIPT if row[0] == "ETHUSDT"]
    finnhub = [{"type": "trade", "data": [{"p": p, "s": "BINANCE:BTCUSDT", "t": t, "v": 0.5} for _, p, t in btc[i:i + 2]]}
               for i in range(0, len(btc), 2)]
    binance = [{"stream": "ethusdt@trade", "data": {"e": "trade", "E": t, "s": s, "t": n, "p": str(p), "q": "0.5", "T": t, "m": False}}
               for n, (s, p, t) in enumerate(eth)]
    with new_stream(kinesis, shards=1) as stream:
        records = [json.dumps(m).encode() for m in (finnhub[0], {"type": "ping"}, *finnhub[1:], *binance)]
        assert kinesis.put_records(StreamName=stream, Records=[{"Data": d, "PartitionKey": "k"} for d in records])["FailedRecordCount"] == 0
        r = run_cli("alert", "--stream", stream, "--once", *rule_args())
    assert r.code == 1, r.err
    got = {k.split(":")[-1]: [line.split(" at ")[0].replace("BINANCE:", "") for line in v] for k, v in same_order(alert_lines(r.out)).items()}
    assert got == same_order(EXPECTED)
    assert "read 6 records (0 unparsable), 2 symbols" in r.err  # the ping is neither a trade nor a problem
