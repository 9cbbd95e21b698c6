"""The Kafka lab end to end: `streamlab produce reviews --sink kafka` -> Spark (streamlab's Python
Kafka reader, tansu broker) -> reviews dataset -> Parquet; plus the exact settings handed to Spark's
native kafka connector (which cannot download here: no Maven)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import SecretStr

from streamlab.errors import ConfigError
from streamlab.kafka.settings import KafkaSecurity
from streamlab.settings import load_settings
from streamlab.spark.job import run_consume
from streamlab.spark.request import ConsumeRequest
from streamlab.spark.readers import ReadRequest, kafka_native_options, kafka_python_options
from streamlab.testing import assert_one_line

pytestmark = pytest.mark.spark

EXPECTED_TYPES = {
    "marketplace": "string", "customer_id": "int", "review_id": "string", "product_id": "string",
    "product_parent": "bigint", "product_title": "string", "product_category": "string", "star_rating": "int",
    "helpful_votes": "int", "total_votes": "int", "vine": "boolean", "verified_purchase": "boolean",
    "review_headline": "string", "review_body": "string", "purchase_date": "date", "review_timestamp": "timestamp",
}


def test_5000_reviews_from_kafka_to_parquet_typed(spark, run_cli, kafka_broker, kafka_topic, tmp_path):
    r = run_cli("produce", "reviews", "--sink", "kafka", "--topic", kafka_topic, "--bootstrap", kafka_broker.bootstrap)
    assert r.code == 0, r.err
    # lines that are not reviews: quarantined, the query goes on
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    p.send(kafka_topic, b"only\ttwo fields").get(timeout=10)
    p.close()

    out = tmp_path / "bronze" / "reviews"
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    s = run_consume(ConsumeRequest(
        load_settings(), source="kafka", topic=kafka_topic, bootstrap=kafka_broker.bootstrap, dataset="reviews",
        date_column="purchase_date", sink="parquet", path=str(out), checkpoint=str(tmp_path / "cp"),
        trigger="available-now", quiet=True,
    ), spark=spark)
    assert (s.input_rows, s.trades, s.quarantined) == (5001, 5000, 1)
    assert "Python Kafka reader" in s.reader

    df = spark.read.parquet(str(out))  # batch_id=N folders; _quarantine is skipped (leading _)
    data = [c for c in df.columns if c != "batch_id"]
    assert len(data) == 16
    assert {c: t for c, t in df.dtypes if c != "batch_id"} == EXPECTED_TYPES
    assert df.count() == 5000 and df.select("review_id").distinct().count() == 5000
    row = df.where("review_id = 'ROLQWLFMQMC98K'").first()  # the sample's first review
    assert (row.customer_id, row.product_parent, row.star_rating, row.vine, row.verified_purchase) == (30754230, 437859380, 5, False, True)
    assert row.purchase_date == dt.date(2010, 1, 12)
    assert row.review_timestamp >= before - dt.timedelta(seconds=5)
    q = spark.read.parquet(str(out / "_quarantine")).collect()
    assert [(x.raw, x.reason) for x in q] == [("only\ttwo fields", "expected 15 tab-separated fields, got 2")]


SCRAM = KafkaSecurity(
    bootstrap="b-1.example:9096,b-2.example:9096", protocol="SASL_SSL", mechanism="SCRAM-SHA-512",
    username="alice", password=SecretStr('p"w\\d'),
)


@pytest.mark.spark35
def test_native_options_carry_the_jaas_line_with_its_semicolon():
    req = ReadRequest(topic="reviews", starting_offsets="earliest", max_offsets_per_trigger=1000)
    assert kafka_native_options(SCRAM, req) == {
        "kafka.bootstrap.servers": "b-1.example:9096,b-2.example:9096",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\\"w\\\\d";',
        "subscribe": "reviews",
        "startingOffsets": "earliest",
        "kafka.isolation.level": "read_uncommitted",
        "maxOffsetsPerTrigger": "1000",
    }
    assert kafka_python_options(SCRAM, ReadRequest(topic="reviews", starting_position="latest")) == {
        "topic": "reviews", "bootstrapServers": "b-1.example:9096,b-2.example:9096", "startingOffsets": "latest",
        "securityProtocol": "SASL_SSL", "isolationLevel": "read_uncommitted", "saslMechanism": "SCRAM-SHA-512",
        "username": "alice", "password": 'p"w\\d',
    }


@pytest.mark.spark35
def test_native_reader_without_the_connector_is_one_line(spark, kafka_broker, kafka_topic):
    with pytest.raises(ConfigError, match="kafka connector .* is not on the classpath") as e:
        run_consume(ConsumeRequest(load_settings(), source="kafka", topic=kafka_topic, bootstrap=kafka_broker.bootstrap,
                                   reader="native", dataset="raw", sink="memory", trigger="available-now", quiet=True), spark=spark)
    assert_one_line(e.value.one_line(), "--packages")


@pytest.mark.spark35
def test_missing_topic_is_one_line_before_spark(run_cli, kafka_broker):
    r = run_cli("consume", "--source", "kafka", "--topic", "nope-topic", "--bootstrap", kafka_broker.bootstrap)
    assert_one_line(r.err, "Kafka topic nope-topic does not exist")
