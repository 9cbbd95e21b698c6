"""`streamlab consume ... --print-spark-submit` prints the cluster command (the flags the user gave,
the Kafka package matched to the cluster's Spark) and never a secret; it starts no Spark."""

import pytest

pytestmark = pytest.mark.spark35


def test_prints_the_emr_command_with_matching_package_and_no_secret(run_cli, monkeypatch):
    monkeypatch.setenv("HWE_PASSWORD", "pw-should-never-show-42")
    monkeypatch.setenv("HWE_USERNAME", "student")
    r = run_cli("consume", "--source", "kafka", "--topic", "reviews", "--packages", "--dataset", "reviews",
                "--date-column", "purchase_date", "--sink", "s3", "--path", "s3a://hwe-fall/me/bronze/reviews",
                "--checkpoint", "/tmp/kafka-checkpoint", "--print-spark-submit")
    assert r.code == 0, r.err
    assert r.out.startswith("spark-submit")
    assert "--packages org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.6" in r.out
    assert "consume --source kafka --topic reviews --packages --dataset reviews --date-column purchase_date" in r.out
    assert "--print-spark-submit" not in r.out and "--sink console" not in r.out  # defaults are not repeated
    assert "pw-should-never-show-42" not in r.out + r.err


def test_cluster_spark_4_uses_scala_2_13(run_cli):
    r = run_cli("consume", "--source", "kafka", "--topic", "t", "--packages", "--cluster-spark", "4.0.2",
                "--print-spark-submit")
    assert r.code == 0, r.err
    assert "spark-sql-kafka-0-10_2.13:4.0.2" in r.out
