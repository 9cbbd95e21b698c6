"""Topics written by a producer streamlab did not write (librdkafka, through confluent-kafka), with
every compression codec real clusters use, read by streamlab's Python Kafka reader and by consume.

Counts are exact: each codec's topic holds 600 numbered records in several batches; the mixed
topic holds 4 x 600, one codec per producer, interleaved on two partitions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from streamlab.settings import load_settings
from streamlab.spark.failures import explain_source_failure
from streamlab.spark.job import run_consume
from streamlab.spark.request import ConsumeRequest
from tests.fixtures.kafka import create_topic
from tests.test_spark_kafka_source import read_all, reader

CODECS = ("gzip", "snappy", "lz4", "zstd")
N = 600


def write_with_librdkafka(bootstrap: str, topic: str, codec: str, start: int = 0, n: int = N) -> None:
    """n numbered trades (wire form) with librdkafka's producer, `compression.type=codec`, small batches."""
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 5,
                  "batch.num.messages": 100, "acks": "all"})
    for i in range(start, start + n):
        trade = {"symbol": "BTCUSDT", "price": 100.0 + i % 7, "volume": 1.0, "event_time": 1_767_225_600_000 + i}
        p.produce(topic, value=json.dumps(trade).encode(), key=f"k{i}".encode(), partition=i % 2)
        p.poll(0)
    assert p.flush(30) == 0, "librdkafka did not deliver every record"


def new_topic(kafka_broker) -> str:
    return create_topic(kafka_broker.bootstrap, f"codec-{uuid.uuid4().hex[:10]}", partitions=2)


def event_times(values: list[str]) -> list[int]:
    return sorted(json.loads(v)["event_time"] - 1_767_225_600_000 for v in values)


@pytest.mark.parametrize("codec", CODECS)
def test_the_python_reader_reads_every_codec_librdkafka_writes(kafka_broker, codec):
    topic = new_topic(kafka_broker)
    write_with_librdkafka(kafka_broker.bootstrap, topic, codec)
    r = reader(kafka_broker.bootstrap, topic)
    start = r.initialOffset()
    got = read_all(r, start, r.latestOffset(start, None))
    assert event_times(got) == list(range(N))  # every record once, none lost to an unknown codec


def test_a_topic_mixing_every_codec_is_consumed_exactly(spark, kafka_broker, tmp_path):
    topic = new_topic(kafka_broker)
    for k, codec in enumerate(CODECS):
        write_with_librdkafka(kafka_broker.bootstrap, topic, codec, start=k * N)
    out = tmp_path / "out"
    s = run_consume(ConsumeRequest(
        load_settings(), source="kafka", topic=topic, bootstrap=kafka_broker.bootstrap, dataset="trades",
        sink="parquet", path=str(out), checkpoint=str(tmp_path / "cp"), trigger="available-now", quiet=True,
    ), spark=spark)
    assert (s.input_rows, s.trades, s.quarantined) == (4 * N, 4 * N, 0)
    rows = spark.read.parquet(str(out / "trades")).select("event_time").count()
    assert rows == 4 * N


def test_doctor_reports_each_codec(run_cli):
    r = run_cli("doctor", "--output", "json")
    checks = {c["name"]: c for c in json.loads(r.out)}
    for codec in CODECS:
        assert checks[f"kafka codec {codec}"]["status"] == "ok", checks[f"kafka codec {codec}"]
    assert "python-snappy" in checks["kafka codec snappy"]["detail"]


BLOCK_SNAPPY = """
import sys
sys.modules["snappy"] = None  # a trimmed install: python-snappy is not there
from tests.test_spark_kafka_source import read_all, reader
r = reader(sys.argv[1], sys.argv[2])
start = r.initialOffset()
read_all(r, start, r.latestOffset(start, None))
"""


def test_a_missing_codec_is_one_line_naming_the_package(kafka_broker):
    topic = new_topic(kafka_broker)
    write_with_librdkafka(kafka_broker.bootstrap, topic, "snappy", n=50)
    p = subprocess.run([sys.executable, "-c", BLOCK_SNAPPY, kafka_broker.bootstrap, topic],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "UnsupportedCodecError" in p.stderr, p.stderr[-2000:]
    # what the worker's failure becomes on the driver: one line, the package to install
    err = explain_source_failure("kafka", None, p.stderr)
    assert err is not None and err.exit_code == 3
    line = err.one_line()
    assert "\n" not in line and "snappy-compressed" in line and "pip install python-snappy" in line, line
