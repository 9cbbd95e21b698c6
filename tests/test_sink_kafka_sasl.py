"""Kafka security settings: what kafka-python and Spark are handed, and that the password never shows.

The local tansu build cannot host SCRAM users (see streamlab/local/kafka.py), so the authenticated
round trip is not tested here; the configuration is asserted exactly instead, and a real SASL
handshake refused by the broker checks the error path end to end.
"""

from __future__ import annotations

import logging
import time

import pytest
from pydantic import SecretStr

from streamlab.errors import ConfigError, ConnectionFailed
from streamlab.kafka.diagnose import KafkaLogCapture, explain
from streamlab.kafka.settings import (
    CONNECT_TIMEOUT_S,
    KafkaSecurity,
    client_kwargs,
    producer_kwargs,
    redact,
    resolve,
    spark_options,
)
from streamlab.settings import Settings
from streamlab.testing import assert_one_line

PASSWORD = "Pa55-w0rd-that-must-never-show"


def course_settings(**kw) -> Settings:
    base = dict(kafka_bootstrap="b-1.lab.example:9096,b-2.lab.example:9096", kafka_username="student7", kafka_password=PASSWORD)
    base.update(kw)
    return Settings(**base)


def test_username_alone_means_the_course_default_sasl_ssl_scram_sha_512():
    sec = resolve(course_settings(), use_local_broker=False)
    assert (sec.protocol, sec.mechanism, sec.username) == ("SASL_SSL", "SCRAM-SHA-512", "student7")
    assert client_kwargs(sec) == {
        "bootstrap_servers": ["b-1.lab.example:9096", "b-2.lab.example:9096"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "student7",
        "sasl_plain_password": PASSWORD,
        "bootstrap_timeout_ms": int(CONNECT_TIMEOUT_S * 1000),
        "request_timeout_ms": 10_000,
        "reconnect_backoff_max_ms": 2_000,
    }


def test_producer_kwargs_add_acks_all_batching_and_bounded_waits():
    kw = producer_kwargs(resolve(course_settings(), use_local_broker=False), delivery_timeout=20)
    assert kw["acks"] == "all"
    assert kw["linger_ms"] > 0 and kw["batch_size"] >= 64 * 1024
    assert kw["delivery_timeout_ms"] == 20_000
    assert kw["request_timeout_ms"] + kw["linger_ms"] <= kw["delivery_timeout_ms"]
    assert kw["max_block_ms"] == int(CONNECT_TIMEOUT_S * 1000)
    assert kw["allow_auto_create_topics"] is False
    assert kw["sasl_plain_password"] == PASSWORD
    from kafka import KafkaProducer

    assert set(kw) <= set(KafkaProducer.DEFAULT_CONFIG)  # every key is one kafka-python knows


def test_flags_override_env_and_plaintext_drops_the_credentials():
    sec = resolve(course_settings(kafka_sasl_mechanism="scram-sha-256"), use_local_broker=False)
    assert sec.mechanism == "SCRAM-SHA-256"
    sec = resolve(course_settings(), security_protocol="PLAINTEXT", bootstrap="127.0.0.1:9092", use_local_broker=False)
    assert sec.protocol == "PLAINTEXT" and sec.username is None and sec.password is None
    kw = client_kwargs(sec)
    assert kw["bootstrap_servers"] == ["127.0.0.1:9092"]
    assert not any(k.startswith("sasl") for k in kw)


def test_sasl_without_password_or_unknown_values_say_what_to_set():
    def line(**kw) -> str:
        with pytest.raises(ConfigError) as info:
            resolve(kw.pop("settings", None) or course_settings(), use_local_broker=False, **kw)
        return info.value.one_line()

    assert "HWE_PASSWORD" in line(settings=Settings(kafka_bootstrap="b:9096", kafka_username="u"))
    assert "SCRAM-SHA-512" in line(sasl_mechanism="MD5")
    assert "does not exist" in line(ca_file="/no/such/ca.pem")


def test_settings_from_the_course_environment(monkeypatch):
    monkeypatch.setenv("HWE_BOOTSTRAP", "b-1.lab.example:9096")
    monkeypatch.setenv("HWE_USERNAME", "student7")
    monkeypatch.setenv("HWE_PASSWORD", PASSWORD)
    from streamlab.settings import load_settings

    sec = resolve(load_settings(), use_local_broker=False)
    assert (sec.bootstrap, sec.protocol, sec.mechanism, sec.origin) == ("b-1.lab.example:9096", "SASL_SSL", "SCRAM-SHA-512", "env")


def test_spark_options_carry_the_jaas_line_for_the_later_consumer(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    sec = resolve(course_settings(kafka_password='pa"ss\\word'), ca_file=str(ca), use_local_broker=False)
    assert spark_options(sec) == {
        "kafka.bootstrap.servers": "b-1.lab.example:9096,b-2.lab.example:9096",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                                  'username="student7" password="pa\\"ss\\\\word";',
        "kafka.ssl.truststore.type": "PEM",
        "kafka.ssl.truststore.location": str(ca),
    }


def test_password_never_in_repr_describe_or_redacted_configs():
    sec = resolve(course_settings(), use_local_broker=False)
    assert PASSWORD not in repr(sec) and PASSWORD not in str(sec) and PASSWORD not in sec.describe()
    assert PASSWORD not in repr(course_settings())
    assert PASSWORD not in repr(redact(producer_kwargs(sec), sec))
    assert PASSWORD not in repr(redact(spark_options(sec), sec))


def test_authentication_failure_is_said_plainly_without_the_password():
    sec = resolve(course_settings(), use_local_broker=False)
    logs = [f"Bootstrap connection to bootstrap-0 failed: [Error 58] SaslAuthenticationFailedError: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (password {PASSWORD})"]
    err = explain(TimeoutError("Unable to bootstrap"), sec, logs)
    assert isinstance(err, ConnectionFailed)
    line = err.one_line()
    assert "authentication failed" in line and "student7" in line and "HWE_PASSWORD" in line
    assert PASSWORD not in line


def test_log_capture_keeps_kafka_warnings_off_the_terminal(capfd):
    with KafkaLogCapture() as cap:
        logging.getLogger("kafka.net.manager").warning("Bootstrap connection failed: boom")
    assert cap.lines[-1] == "Bootstrap connection failed: boom"
    assert "boom" not in capfd.readouterr().err


def test_sasl_refused_by_a_real_broker_is_one_line_without_the_password(run_cli, kafka_broker, monkeypatch):
    # tansu without --authentication offers no SASL mechanism: a real handshake, really refused.
    monkeypatch.setenv("HWE_USERNAME", "student7")
    monkeypatch.setenv("HWE_PASSWORD", PASSWORD)
    started = time.monotonic()
    r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", "t", "--bootstrap", kafka_broker.bootstrap,
                "--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanism", "SCRAM-SHA-256", "--count", "5")
    assert r.code == 5
    assert time.monotonic() - started < CONNECT_TIMEOUT_S + 5
    assert_one_line(r.err, "SASL mechanism SCRAM-SHA-256")  # the flag's mechanism, not the default SCRAM-SHA-512
    assert PASSWORD not in r.out + r.err


@pytest.fixture
def tls_listener(tls_cert):
    """A TLS server on 127.0.0.1 with a self-signed certificate: it completes handshakes, then hangs up."""
    import socket
    import threading

    ctx = tls_cert.server_context()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            try:
                conn.settimeout(5)
                ctx.wrap_socket(conn, server_side=True).close()
            except OSError:
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    t.join(2)
    server.close()


def test_ca_file_is_what_the_tls_certificate_is_checked_against(run_cli, tls_listener, tls_cert):
    args = ("produce", "synthetic", "--sink", "kafka", "--topic", "t", "--bootstrap", tls_listener,
            "--security-protocol", "SSL", "--count", "1")
    untrusted = run_cli(*args)
    assert untrusted.code == 5
    assert_one_line(untrusted.err, f"the TLS certificate of Kafka at {tls_listener} is not trusted", "pass --ca-file PATH")
    trusted = run_cli(*args, "--ca-file", tls_cert.cert)  # the certificate passes; this server is no broker though
    assert trusted.code == 5 and "not trusted" not in trusted.err, trusted.err
    missing = run_cli(*args, "--ca-file", "/no/such/ca.pem")
    assert missing.code == 2
    assert_one_line(missing.err, "Kafka CA file /no/such/ca.pem does not exist")


def test_default_sasl_ssl_from_env_against_a_plain_port_is_bounded_and_secret_free(run_cli, kafka_broker, monkeypatch):
    """TLS (here the course default SASL_SSL) against a plain listener: kafka-python alone would wait
    forever for the handshake."""
    monkeypatch.setenv("HWE_USERNAME", "student7")
    monkeypatch.setenv("HWE_PASSWORD", PASSWORD)
    started = time.monotonic()
    r = run_cli("produce", "synthetic", "--sink", "kafka", "--topic", "t", "--bootstrap", kafka_broker.bootstrap, "--count", "5")
    assert r.code == 5
    assert time.monotonic() - started < CONNECT_TIMEOUT_S + 5
    assert_one_line(r.err, "SASL_SSL", "TLS", "--security-protocol")
    assert PASSWORD not in r.out + r.err
