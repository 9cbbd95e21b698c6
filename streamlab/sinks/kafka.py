"""Kafka sink: each batch is handed to a kafka-python producer and every delivery is checked.

Guarantees: acks=all; a record counts as sent only once its delivery future succeeded. Records
whose future failed (or did not finish within the delivery timeout) come back to the Batcher as
failures, are resent with jittered backoff, then dead-lettered. At-least-once: a record the broker
stored but whose acknowledgement was lost may be written twice.

Key: the record's key (the symbol for trades); raw text lines have none, like the lab's file
producer, so the partitioner spreads them.

Bounded waits: the first connection (an admin client that also checks the topic) fails within
`CONNECT_TIMEOUT_S` with one line naming the bootstrap and protocol. Once the broker has stopped
answering, later resends probe it with a plain TCP connect first and fail at once instead of
waiting a whole delivery timeout per attempt. A broker that comes back within --max-outage is
used again; if the producer did not survive the restart (see `_producer_broken`), a new one is
built, so a broker restarted on the same address is reconnected.
"""

from __future__ import annotations

import socket
from typing import Any, Optional

import click

from streamlab import console
from streamlab.errors import ConfigError, ResourceNotFound, StreamlabError
from streamlab.kafka.diagnose import KafkaLogCapture, connect, preflight
from streamlab.kafka.settings import (
    CONNECT_TIMEOUT_S,
    SASL_MECHANISMS,
    SECURITY_PROTOCOLS,
    KafkaSecurity,
    admin_kwargs,
    producer_kwargs,
    resolve,
    scrub,
)
from streamlab.sinks.base import MiB, Entry, Failure, Sink

#: Kafka's default message.max.bytes is 1 MiB + 12; stay under it (larger -> dead-letter).
MAX_RECORD_BYTES = 1_000_000


class KafkaSink(Sink):
    name = "kafka"
    summary = "Produce to a Kafka topic (kafka-python, acks=all), plain or SASL_SSL/SCRAM."
    options = (
        click.Option(["--topic"], default=None, help="Kafka topic for --sink kafka."),
        click.Option(["--bootstrap"], default=None, metavar="HOST:PORT[,...]",
                     help="Kafka bootstrap servers. [env: HWE_BOOTSTRAP, STREAMLAB_KAFKA_BOOTSTRAP; default: the broker of `streamlab local up --kafka`]"),
        click.Option(["--security-protocol"], type=click.Choice(SECURITY_PROTOCOLS, case_sensitive=False), default=None,
                     help="Kafka security protocol. [env: STREAMLAB_KAFKA_SECURITY_PROTOCOL; default: SASL_SSL when HWE_USERNAME is set, else PLAINTEXT]"),
        click.Option(["--sasl-mechanism"], type=click.Choice(SASL_MECHANISMS, case_sensitive=False), default=None,
                     help="SASL mechanism; username/password come from HWE_USERNAME/HWE_PASSWORD. [env: STREAMLAB_KAFKA_SASL_MECHANISM; default: SCRAM-SHA-512]"),
        click.Option(["--ca-file"], type=click.Path(dir_okay=False), default=None,
                     help="PEM CA certificate for SSL/SASL_SSL. [env: STREAMLAB_KAFKA_CA_FILE; default: the system's CAs]"),
        click.Option(["--create-topic"], is_flag=True, default=False, help="Create the Kafka topic if it does not exist."),
        click.Option(["--partitions"], type=click.IntRange(min=1), default=1, show_default=True,
                     help="Partitions for a topic made by --create-topic."),
        click.Option(["--delivery-timeout"], type=click.FloatRange(min=1), default=30.0, show_default=True,
                     help="Seconds a Kafka record may wait for the broker's acknowledgement before it is retried."),
    )
    # The producer batches per partition itself; large hand-offs keep the pipeline's overhead low.
    max_batch_records = 10_000
    max_batch_bytes = 16 * MiB
    max_record_bytes = MAX_RECORD_BYTES
    linger = 0.05

    def __init__(self, settings, **options: Any):
        super().__init__(settings, **options)
        self.sec: Optional[KafkaSecurity] = None
        self.producer = None
        self.logs: Optional[KafkaLogCapture] = None
        self._broker_down = False
        self._parts: list = []
        self._routes: dict = {}

    # -- setup ----------------------------------------------------------------------------------
    def open(self) -> None:
        self.topic = self.opts.get("topic")
        if not self.topic:
            raise ConfigError("--sink kafka needs --topic", "add --topic NAME, e.g. --topic reviews")
        self.sec = resolve(
            self.settings,
            bootstrap=self.opts.get("bootstrap"),
            security_protocol=self.opts.get("security_protocol"),
            sasl_mechanism=self.opts.get("sasl_mechanism"),
            ca_file=self.opts.get("ca_file"),
        )
        self.delivery_timeout = float(self.opts.get("delivery_timeout") or 30.0)
        try:
            from kafka import KafkaAdminClient
        except ImportError:  # pragma: no cover - a core dependency
            raise ConfigError("kafka-python is not installed", 'reinstall streamlab: pip install "streamlab"') from None
        preflight(self.sec)
        self.logs = KafkaLogCapture().install()
        try:
            self._check_topic(KafkaAdminClient)
            self.producer = self._new_producer()
        except BaseException:
            self.logs.remove()
            raise

    def _connect(self, make):
        return connect(make, self.sec, self.logs, CONNECT_TIMEOUT_S)

    def _new_producer(self):
        from kafka import KafkaProducer

        return self._connect(lambda: KafkaProducer(**producer_kwargs(self.sec, delivery_timeout=self.delivery_timeout)))

    def _producer_broken(self) -> bool:
        """The producer can no longer send: kafka-python's idempotent producer goes into a fatal
        state it never leaves when a broker that came back does not know its producer id (a broker
        restarted empty answers InitProducerId with an error); only a new producer can send then.
        kafka-python 3.0 says so only through its transaction manager (no public call)."""
        if self.producer is None:
            return True
        tm = getattr(self.producer, "_transaction_manager", None)
        return bool(tm is not None and tm.has_fatal_error())

    def _rebuild(self) -> bool:
        """Replace a broken producer (the broker answers again); False if it cannot connect yet."""
        old, self.producer = self.producer, None
        if old is not None:
            try:
                old.close(timeout=0)  # its pending batches fail; the Batcher holds those records
            except Exception:
                pass
        try:
            self.producer = self._new_producer()
        except StreamlabError:  # gone again between the probe and the connect: still an outage
            return False
        self._parts = []  # partitions are looked up again
        return True

    def _check_topic(self, admin_cls) -> None:
        admin = self._connect(lambda: admin_cls(**admin_kwargs(self.sec)))
        try:
            if self.topic in self._connect(admin.list_topics):
                return
            if not self.opts.get("create_topic"):
                raise ResourceNotFound(
                    f"Kafka topic {self.topic} does not exist at {self.sec.describe()}",
                    "create it with --create-topic --partitions N (e.g. --create-topic --partitions 3), or check the name",
                )
            partitions = int(self.opts.get("partitions") or 1)
            from kafka.errors import TopicAlreadyExistsError

            try:
                admin.create_topics({self.topic: {"num_partitions": partitions, "replication_factor": -1}}, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                console.info(f"Kafka topic {self.topic} appeared meanwhile at {self.sec.bootstrap}: using it")
                return  # created meanwhile by someone else: fine
            except Exception as exc:
                raise ConfigError(
                    f"could not create Kafka topic {self.topic} at {self.sec.bootstrap}: {scrub(str(exc), self.sec)}",
                    "check that your user may create topics, or ask for the topic to be created",
                ) from None
            plural = "s" if partitions != 1 else ""
            console.info(f"created Kafka topic {self.topic} ({partitions} partition{plural}, the broker's default replication) at {self.sec.bootstrap}")
        finally:
            admin.close()

    # -- delivery -------------------------------------------------------------------------------
    def _broker_reachable(self) -> bool:
        for server in self.sec.servers:
            host, _, port = server.rpartition(":")
            try:
                with socket.create_connection((host.strip("[]") or server, int(port or 9092)), timeout=1.0):
                    return True
            except (OSError, ValueError):
                continue
        return False

    def send(self, batch: list[Entry]) -> list[Failure]:
        if self._broker_down or self._producer_broken():
            # Reconnect once the broker answers again (within --max-outage, the Batcher's clock).
            if not self._broker_reachable() or (self._producer_broken() and not self._rebuild()):
                self._broker_down = True
                return [Failure(i, "BrokerUnreachable", f"no answer from {self.sec.bootstrap}", outage=True) for i in range(len(batch))]
            self._broker_down = False
        send, topic = self.producer.send, self.topic
        route = self._router()
        routes = self._routes  # route()'s cache: a hit costs a dict lookup, not a call
        futures: list = []
        add = futures.append
        failures: list[Failure] = []
        for i, e in enumerate(batch):
            try:
                k = e.key
                if k is None:
                    add(send(topic, e.data))
                else:
                    key, partition = routes.get(k) or route(k)
                    # send(topic, value, key, headers, partition), positional: keywords cost more per call
                    add(send(topic, e.data, key, None, partition))
            except Exception as exc:
                # send() itself failed (metadata for the topic unavailable, record too large): it
                # would block max_block_ms per record, so the rest of the batch fails with it.
                code, msg = type(exc).__name__, scrub(str(exc), self.sec)
                failures.extend(Failure(j, code, msg) for j in range(i, len(batch)))
                break
        try:
            self.producer.flush(timeout=self.delivery_timeout + 5.0)
        except Exception:
            pass  # futures not done are reported below, one by one
        timed_out = 0
        for i, fut in enumerate(futures):
            if not fut.is_done:
                timed_out += 1
                failures.append(Failure(i, "DeliveryTimeout", f"no acknowledgement within {self.delivery_timeout:.0f}s"))
            elif fut.exception is not None:
                exc = fut.exception
                if "Timeout" in type(exc).__name__:
                    timed_out += 1
                failures.append(Failure(i, type(exc).__name__, scrub(str(exc), self.sec)))
        if failures and self._producer_broken():
            # The broker went away and the producer with it (see _producer_broken): an outage;
            # the next send builds a new producer. Some of these may have reached the old broker.
            for f in failures:
                f.unsure = f.outage = True
        elif failures and timed_out == len(batch):
            # Everything timed out: the broker is probably gone (an outage the Batcher rides out up
            # to --max-outage). Probe before the next attempt. The records may have reached it.
            self._broker_down = not self._broker_reachable()
            for f in failures:
                f.unsure = f.outage = True
        else:
            for f in failures:
                if "Timeout" in f.code:
                    f.unsure = True
        failures.sort(key=lambda f: f.index)
        return failures

    def _router(self):
        """key -> (key bytes, partition), as Kafka's default partitioner would pick, cached per key.

        Same murmur2 placement as the Java and kafka-python default partitioners (so a key lands
        where other producers put it), computed once per distinct key instead of once per record:
        ~15 % of the producer's per-record cost. Rebuilt when the partition count changes.
        """
        from kafka.partitioner.default import murmur2

        try:
            parts = sorted(self.producer.partitions_for(self.topic) or ())
        except Exception:
            parts = []
        if parts != self._parts:
            self._parts, self._routes = parts, {}
        routes = self._routes

        def route(key: str):
            hit = routes.get(key)
            if hit is None:
                kb = key.encode()
                hit = routes[key] = (kb, parts[(murmur2(kb) & 0x7FFFFFFF) % len(parts)] if parts else None)
            return hit

        return route

    def close(self) -> None:
        try:
            if self.producer is not None:
                # Batcher already flushed; this only releases sockets. Bounded for a dead broker.
                self.producer.close(timeout=2.0 if self._broker_down else 10.0)
        except Exception:
            pass
        finally:
            self.producer = None
            if self.logs is not None:
                self.logs.remove()

    def describe(self) -> str:
        return f"kafka topic {self.topic} at {self.sec.describe() if self.sec else '?'}"
