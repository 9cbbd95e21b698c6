"""The latest-price cache: a real Valkey server (tests/fixtures/redis.py), `alert --cache` over Kinesis on
the moto server, `streamlab prices`, and `local up --redis`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from streamlab.local.processes import free_port, port_open
from streamlab.price_cache import CachedPrice, PriceCache
from tests.fixtures.aws import new_stream, unique
from tests.test_alert import M, SCRIPT, T0, put, rule_args, subscribe_queue, trade


# -- the cache itself ----------------------------------------------------------------------------
def test_writes_both_keys_and_never_moves_a_price_back_in_event_time(redis_url, redis_client):
    cache = PriceCache(redis_url)
    assert cache.put([CachedPrice("BTCUSDT", 3790.0, T0 + M, 0.5, "binance"), CachedPrice("ETHUSDT", 106.25, T0, None, "finnhub")]) == 2
    assert redis_client.get("price:BTCUSDT") == "3790"  # the lab's key, the price as text
    assert redis_client.get("price:ETHUSDT") == "106.25"
    assert redis_client.hgetall("trade:BTCUSDT") == {"symbol": "BTCUSDT", "price": "3790", "event_time": str(T0 + M),
                                                     "volume": "0.5", "source": "binance"}
    # an older record (a replay, a slow writer) changes nothing; the same one again is harmless
    assert cache.put([CachedPrice("BTCUSDT", 3900.0, T0, 1.0, "binance")]) == 0
    assert cache.put([CachedPrice("BTCUSDT", 3790.0, T0 + M, 0.5, "binance")]) == 1
    assert redis_client.get("price:BTCUSDT") == "3790"
    assert redis_client.hget("trade:BTCUSDT", "event_time") == str(T0 + M)
    # a newer one moves it forward
    assert cache.put([CachedPrice("BTCUSDT", 4150.5, T0 + 30 * M, 2.0, "binance")]) == 1
    assert redis_client.get("price:BTCUSDT") == "4150.5"
    assert [r["symbol"] for r in cache.get()] == ["BTCUSDT", "ETHUSDT"]
    cache.close()


# -- alert --cache -------------------------------------------------------------------------------
def test_alert_once_caches_the_latest_price_and_a_replay_does_not_move_it_back(aws_env, kinesis, run_cli, redis_url, redis_client):
    with new_stream(kinesis, shards=2) as stream:
        put(kinesis, stream, SCRIPT)
        r = run_cli("alert", "--stream", stream, "--once", *rule_args(), "--cache", redis_url)
        assert r.code == 1, r.err  # alerts fired, as without the cache
        assert redis_client.get("price:BTCUSDT") == "4160" and redis_client.get("price:ETHUSDT") == "106"
        assert redis_client.hgetall("trade:BTCUSDT") == {"symbol": "BTCUSDT", "price": "4160", "event_time": str(T0 + 31 * M),
                                                         "volume": "0.5", "source": "binance"}
        # the same records again, then older ones: the newest price stays
        put(kinesis, stream, SCRIPT + [("BTCUSDT", 3000, T0 + 5 * M)])
        again = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT > 5000", "--cache", redis_url)
        assert again.code == 0, again.err
        assert redis_client.get("price:BTCUSDT") == "4160"
        assert redis_client.hget("trade:BTCUSDT", "event_time") == str(T0 + 31 * M)

        shown = run_cli("prices", "--cache", redis_url)
        assert shown.code == 0, shown.err
        btc = next(line for line in shown.out.splitlines() if "BTCUSDT" in line)
        assert "4160" in btc and "2025-11-24 16:31:00" in btc and "binance" in btc
        as_json = json.loads(run_cli("prices", "--cache", redis_url, "ETHUSDT", "-o", "json").out)
        assert as_json == [{"symbol": "ETHUSDT", "price": "106", "event_time": T0 + 10 * M, "volume": "0.5", "source": "binance"}]
        missing = run_cli("prices", "--cache", redis_url, "BTCUSDT", "DOGEUSDT")
        assert missing.code == 4 and "no cached price for DOGEUSDT" in missing.err and "4160" in missing.out


def test_an_unreachable_cache_is_one_line_and_exit_5_before_the_stream_is_read(aws_env, run_cli):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    # the stream does not exist: had it been read first, the exit would be 4
    r = run_cli("alert", "--stream", "no-such-stream", "--once", "--rule", "BTCUSDT > 1", "--cache", dead)
    assert r.code == 5, r.err
    assert len(r.err.strip().splitlines()) == 1 and dead in r.err and "Traceback" not in r.err
    p = run_cli("prices", "--cache", dead)
    assert p.code == 5 and "local up --redis" in p.err


@pytest.mark.parametrize("url, says", [("redis://:hunter2@127.0.0.1:6379/0", "REDIS_PASSWORD"),
                                       ("http://127.0.0.1:6379", "not a Redis URL"), ("redis://127.0.0.1:6379/x", "numbers")])
def test_a_bad_cache_url_is_exit_2_and_never_echoes_a_password(aws_env, run_cli, url, says):
    r = run_cli("prices", "--cache", url)
    assert r.code == 2 and says in r.err and "hunter2" not in r.err + r.out


# -- consume --sink redis (Spark) ----------------------------------------------------------------
@pytest.mark.spark
def test_consume_sink_redis_caches_each_batchs_latest_price_and_keeps_a_newer_one(spark, redis_url, redis_client, tmp_path):
    from streamlab.settings import load_settings
    from streamlab.spark.job import run_consume
    from streamlab.spark.request import ConsumeRequest

    PriceCache(redis_url).put([CachedPrice("ETHUSDT", 120.0, T0 + 100 * M, 1.0, "finnhub")])  # newer than the stream's
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "trades.jsonl").write_bytes(b"\n".join(trade(*row) for row in SCRIPT) + b"\n")
    s = run_consume(ConsumeRequest(load_settings(home=tmp_path), source="files", input_path=str(inbox), file_format="text",
                                   dataset="trades", sink="redis", cache=redis_url, checkpoint=str(tmp_path / "cp"),
                                   trigger="available-now", quiet=True), spark=spark)
    assert s.trades == len(SCRIPT)
    assert redis_client.get("price:BTCUSDT") == "4160"
    assert redis_client.hgetall("trade:BTCUSDT") == {"symbol": "BTCUSDT", "price": "4160", "event_time": str(T0 + 31 * M),
                                                     "volume": "0.5", "source": "binance"}
    assert redis_client.get("price:ETHUSDT") == "120" and redis_client.hget("trade:ETHUSDT", "source") == "finnhub"


def test_consume_sink_redis_is_refused_before_spark_without_prices_or_with_a_dead_cache(aws_env, run_cli, tmp_path):
    r = run_cli("consume", "--source", "socket", "--port", "9", "--dataset", "tweets", "--sink", "redis",
                "--cache", "redis://127.0.0.1:6379/0", "--trigger", "2s")
    assert r.code == 2 and "has none" in r.err, r.err
    stray = run_cli("consume", "--source", "socket", "--port", "9", "--sink", "console", "--cache", "redis://127.0.0.1:6379/0", "--trigger", "2s")
    assert stray.code == 2 and "add --sink redis" in stray.err, stray.err
    dead = f"redis://127.0.0.1:{free_port()}/0"
    (tmp_path / "in").mkdir()
    down = run_cli("consume", "--source", "files", "--input", str(tmp_path / "in"), "--sink", "redis", "--cache", dead,
                   "--trigger", "available-now")
    assert down.code == 5 and dead in down.err and "starting Spark" not in down.err, down.err


# -- provision alerts ----------------------------------------------------------------------------
def test_provision_alerts_makes_a_tagged_topic_that_alert_notifies_and_teardown_removes(aws_env, kinesis, run_cli):
    import boto3

    sns = boto3.client("sns", endpoint_url=aws_env.url, region_name="us-east-1")
    prefix = unique("al")
    r = run_cli("provision", "alerts", "--name-template", prefix + "-{service}", "--email", "you@example.com", "--yes")
    assert r.code == 0, r.err
    topic = f"{prefix}-price-alerts"
    assert f"--notify sns:{topic}" in r.err and "confirmation mail" in r.err
    arn = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":" + topic))
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags.get("streamlab:created-by") == "streamlab", tags
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "you@example.com")]
    sqs, queue_url = subscribe_queue(aws_env, arn)  # beside the email: what alert publishes, read back
    with new_stream(kinesis) as stream:
        put(kinesis, stream, SCRIPT)
        a = run_cli("alert", "--stream", stream, "--once", "--rule", "BTCUSDT > 4000", "--notify", f"sns:{topic}")
        assert a.code == 1, a.err
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert [json.loads(m["Body"])["Subject"] for m in got] == ["streamlab fired: BTCUSDT > 4000 (BTCUSDT 4150)"]

    td = run_cli("teardown", "--yes")
    assert td.code == 0, td.err
    assert not any(t["TopicArn"] == arn for t in sns.list_topics()["Topics"])


# -- local up --redis ----------------------------------------------------------------------------
def _run(env, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "streamlab", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_local_up_redis_detached_is_found_by_prices_and_stopped_by_down(tmp_path):
    import redis

    env = dict(os.environ, STREAMLAB_HOME=str(tmp_path / "home"))
    env.pop("STREAMLAB_CACHE_URL", None)
    aws_port, redis_port = free_port(), free_port()
    url = f"redis://127.0.0.1:{redis_port}/0"
    try:
        up = _run(env, "local", "up", "--detach", "--port", str(aws_port), "--redis", "--redis-port", str(redis_port))
        assert up.returncode == 0, up.stderr
        assert up.stdout.split() == [f"http://127.0.0.1:{aws_port}", url]
        status = json.loads(_run(env, "local", "status", "-o", "json").stdout)
        assert status["redis"] == {"running": True, "url": url}
        assert redis.Redis.from_url(url).info("server")["tcp_port"] == redis_port  # a real server answers
        PriceCache(url).put([CachedPrice("BTCUSDT", 3850.0, T0)])
        shown = _run(env, "prices", "BTCUSDT")  # no --cache: the server `local up --redis` started
        assert shown.returncode == 0 and "3850" in shown.stdout, shown.stderr
        again = _run(env, "local", "up", "--detach", "--redis", "--redis-port", str(free_port()))
        assert again.returncode == 2 and "already running" in again.stderr
    finally:
        down = _run(env, "local", "down")
    assert down.returncode == 0 and "stopped the local Redis server" in down.stderr, down.stderr
    assert not port_open("127.0.0.1", redis_port) and not port_open("127.0.0.1", aws_port)
    assert json.loads(_run(env, "local", "status", "-o", "json").stdout)["redis"] == {"running": False, "url": None}
