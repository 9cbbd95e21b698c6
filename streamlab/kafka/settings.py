"""Kafka connection settings, resolved once and turned into client configurations (pure, no I/O
beyond finding the local broker).

`resolve(settings, **flags)` gives a `KafkaSecurity`: bootstrap servers, security protocol, SASL
mechanism, username, password (a `SecretStr`) and CA file. Precedence is flag > environment/.env
(`HWE_*` or `STREAMLAB_KAFKA_*`) > default. When a username is set and neither protocol nor
mechanism is said, the course's managed cluster defaults apply: SASL_SSL + SCRAM-SHA-512. When no
bootstrap is given anywhere, the broker from `streamlab local up --kafka` is used (PLAINTEXT).

Pure builders, each tested on its exact output:
  - `client_kwargs` / `producer_kwargs` / `admin_kwargs`: what kafka-python receives;
  - `spark_options`: the `kafka.*` options of Spark's Kafka source, with `kafka.sasl.jaas.config`.
These return the password in clear (clients need it): never log their result; `redact()` does it.
Connecting and explaining failures: `streamlab.kafka.diagnose`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Optional

from streamlab.errors import ConfigError

if TYPE_CHECKING:  # annotations only: pydantic costs ~0.15 s to import
    from pydantic import SecretStr

    from streamlab.settings import Settings

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
COURSE_PROTOCOL, COURSE_MECHANISM = "SASL_SSL", "SCRAM-SHA-512"

#: How long one connection attempt may take: an unreachable broker fails after this, never hangs.
CONNECT_TIMEOUT_S = 5.0

_LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}

ENV_HINT = "set HWE_USERNAME and HWE_PASSWORD (or STREAMLAB_KAFKA_USERNAME / STREAMLAB_KAFKA_PASSWORD) in the environment or .env"


@dataclass(frozen=True)
class KafkaSecurity:
    """Resolved connection settings. Its repr never shows the password."""

    bootstrap: str
    protocol: str = "PLAINTEXT"
    mechanism: Optional[str] = None
    username: Optional[str] = None
    password: Optional[SecretStr] = field(default=None, repr=False)
    ca_file: Optional[str] = None
    origin: str = "flag"  # where the bootstrap came from: flag, env, local broker

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def servers(self) -> list[str]:
        return [s.strip() for s in self.bootstrap.split(",") if s.strip()]

    def describe(self) -> str:
        """'b-1.example:9096 (SASL_SSL, SCRAM-SHA-512 as alice)' for messages; no secret."""
        how = self.protocol
        if self.uses_sasl:
            how += f", {self.mechanism} as {self.username}"
        if self.origin == "local broker":
            how += ", the local broker from `streamlab local up --kafka`"
        return f"{self.bootstrap} ({how})"

    def secret(self) -> str:
        return self.password.get_secret_value() if self.password is not None else ""


def _choice(value: Optional[str], allowed: Iterable[str], what: str, flag: str, env: str) -> Optional[str]:
    if value is None or value == "":
        return None
    v = value.strip().upper().replace("_", "-") if what == "SASL mechanism" else value.strip().upper()
    if v not in allowed:
        raise ConfigError(f"unknown Kafka {what} {value!r}", f"use one of {', '.join(allowed)} ({flag} or {env})")
    return v


CA_HINT = "pass --ca-file PATH to a PEM certificate (-----BEGIN CERTIFICATE-----), or leave it out to use the system's CAs"


def check_ca_file(ca: str) -> None:
    """The CA file exists and is PEM (a `-----BEGIN CERTIFICATE-----` block); ConfigError otherwise.
    kafka-python and Spark would fail later with an ssl traceback. A PEM file that is damaged
    inside is left to the TLS handshake to report."""
    if not os.path.isfile(ca):
        raise ConfigError(f"Kafka CA file {ca} does not exist", CA_HINT)
    try:
        with open(ca, "rb") as fh:
            head = fh.read(1024 * 1024)
    except OSError as exc:
        raise ConfigError(f"cannot read Kafka CA file {ca}: {exc.strerror}", CA_HINT) from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ConfigError(f"Kafka CA file {ca} is not a PEM certificate", CA_HINT)


def resolve(
    settings: Settings,
    *,
    bootstrap: Optional[str] = None,
    security_protocol: Optional[str] = None,
    sasl_mechanism: Optional[str] = None,
    ca_file: Optional[str] = None,
    use_local_broker: bool = True,
) -> KafkaSecurity:
    """Flags over settings over defaults; raises ConfigError with the fix when they cannot work."""
    origin = "flag" if bootstrap else "env"
    bootstrap = bootstrap or settings.kafka_bootstrap
    if not bootstrap and use_local_broker:
        from streamlab.local.kafka import running_broker

        local = running_broker(settings.state_dir)
        if local is not None:
            bootstrap, origin = local.bootstrap, "local broker"
    if not bootstrap:
        raise ConfigError(
            "no Kafka bootstrap servers given",
            "pass --bootstrap HOST:PORT or set HWE_BOOTSTRAP (or STREAMLAB_KAFKA_BOOTSTRAP); "
            "to rehearse locally run `streamlab local up --kafka`",
        )
    protocol = _choice(security_protocol or settings.kafka_security_protocol, SECURITY_PROTOCOLS,
                       "security protocol", "--security-protocol", "STREAMLAB_KAFKA_SECURITY_PROTOCOL")
    mechanism = _choice(sasl_mechanism or settings.kafka_sasl_mechanism, SASL_MECHANISMS,
                        "SASL mechanism", "--sasl-mechanism", "STREAMLAB_KAFKA_SASL_MECHANISM")
    username = settings.kafka_username or None
    password = settings.kafka_password
    if protocol is None:
        if origin == "local broker":
            protocol = "PLAINTEXT"  # the local broker speaks nothing else, whatever the lab's env says
        elif username or mechanism:
            protocol = COURSE_PROTOCOL
        else:
            protocol = "PLAINTEXT"
    if protocol.startswith("SASL_"):
        mechanism = mechanism or COURSE_MECHANISM
        missing = [n for n, v in (("username", username), ("password", password and password.get_secret_value())) if not v]
        if missing:
            raise ConfigError(f"{protocol} needs a Kafka {' and '.join(missing)}", ENV_HINT)
    else:
        mechanism = None  # only SASL protocols authenticate with a mechanism
    ca = ca_file or settings.kafka_ca_file
    if ca:
        check_ca_file(ca)
    return KafkaSecurity(
        bootstrap=bootstrap,
        protocol=protocol,
        mechanism=mechanism,
        username=username if protocol.startswith("SASL_") else None,
        password=password if protocol.startswith("SASL_") else None,
        ca_file=ca if protocol in ("SSL", "SASL_SSL") else None,
        origin=origin,
    )


# -- kafka-python configurations ------------------------------------------------------------------
def client_kwargs(sec: KafkaSecurity, *, connect_timeout: float = CONNECT_TIMEOUT_S) -> dict[str, Any]:
    """Connection and security settings shared by producer, consumer and admin client."""
    ms = int(connect_timeout * 1000)
    kw: dict[str, Any] = {
        "bootstrap_servers": sec.servers,
        "security_protocol": sec.protocol,
        # bounded: kafka-python would otherwise retry an unreachable bootstrap for 30 s
        "bootstrap_timeout_ms": ms,
        "request_timeout_ms": max(ms, 10_000),
        "reconnect_backoff_max_ms": 2_000,
    }
    if sec.uses_sasl:
        kw["sasl_mechanism"] = sec.mechanism
        kw["sasl_plain_username"] = sec.username
        kw["sasl_plain_password"] = sec.secret()
    if sec.ca_file:
        kw["ssl_cafile"] = sec.ca_file
    return kw


def producer_kwargs(
    sec: KafkaSecurity,
    *,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    delivery_timeout: float = 30.0,
    linger_ms: int = 10,
    batch_size: int = 256 * 1024,
) -> dict[str, Any]:
    """The producer: acks=all, bigger batches and a short linger (throughput), bounded waits.

    `delivery_timeout` bounds how long a record may wait for the broker's acknowledgement,
    retries included; after it the record's future fails and the sink's Batcher takes over
    (resend, then dead-letter). Topics are never auto-created by sending: `--create-topic` does it.
    """
    kw = client_kwargs(sec, connect_timeout=connect_timeout)
    request_ms = min(kw["request_timeout_ms"], int(delivery_timeout * 1000) - linger_ms)
    kw.update(
        acks="all",
        linger_ms=linger_ms,
        batch_size=batch_size,
        request_timeout_ms=max(1000, request_ms),
        delivery_timeout_ms=max(int(delivery_timeout * 1000), 1000 + linger_ms),
        max_block_ms=int(connect_timeout * 1000),
        allow_auto_create_topics=False,
        metrics_enabled=False,  # per-record sensor updates cost ~5 % of throughput; never read
    )
    return kw


def admin_kwargs(sec: KafkaSecurity, *, connect_timeout: float = CONNECT_TIMEOUT_S) -> dict[str, Any]:
    return client_kwargs(sec, connect_timeout=connect_timeout)


def jaas_config(sec: KafkaSecurity) -> str:
    """The JAAS line Spark's (Java) Kafka client wants for SASL. Contains the password."""
    if not sec.uses_sasl:
        raise ConfigError(f"{sec.protocol} does not use SASL", "pass --security-protocol SASL_SSL (or SASL_PLAINTEXT)")

    def quote(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"{_LOGIN_MODULES[sec.mechanism]} required username={quote(sec.username)} password={quote(sec.secret())};"


def spark_options(sec: KafkaSecurity) -> dict[str, str]:
    """`kafka.*` options for Spark's Kafka source/sink. Contains the password: see `redact`."""
    opts = {"kafka.bootstrap.servers": ",".join(sec.servers), "kafka.security.protocol": sec.protocol}
    if sec.uses_sasl:
        opts["kafka.sasl.mechanism"] = sec.mechanism
        opts["kafka.sasl.jaas.config"] = jaas_config(sec)
    if sec.ca_file:
        opts["kafka.ssl.truststore.type"] = "PEM"
        opts["kafka.ssl.truststore.location"] = sec.ca_file
    return opts


def redact(config: dict[str, Any], sec: Optional[KafkaSecurity] = None) -> dict[str, Any]:
    """A copy safe to print: passwords and JAAS lines replaced by '**********'."""
    out = {}
    for k, v in config.items():
        if "password" in k or "jaas" in k:
            out[k] = "**********"
        else:
            out[k] = scrub(str(v), sec) if sec is not None and isinstance(v, str) else v
    return out


def scrub(text: str, sec: Optional[KafkaSecurity]) -> str:
    """Remove the password from any text before it reaches a message (belt and braces)."""
    secret = sec.secret() if sec is not None else ""
    return text.replace(secret, "**********") if secret else text
