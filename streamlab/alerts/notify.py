"""Where alerts go: `--notify console | sns:TOPIC | webhook:URL | slack` (repeatable).

`parse_targets` checks the specs before anything is read (one line with the accepted forms when
one is wrong; `slack` needs SLACK_WEBHOOK_URL). `Dispatcher.deliver(alert)` hands an alert to every
notifier, retrying a failure with jittered exponential backoff; one that still fails is written to
the dead-letter file (`streamlab.jsonl.SetAside`: reason, notifier, alert) and the follower goes on.

Payloads: a webhook gets the alert as JSON (`Alert.to_dict()`), Slack `{"text": ...}` (incoming
webhook), SNS a Subject and the alert's text followed by its JSON. The Slack URL is a secret (it is
the credential): it is read from the settings as a SecretStr and never appears in a message, the
dead-letter file or a notifier's name.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol
from urllib.parse import urlparse

from streamlab import console
from streamlab.errors import ConfigError, ResourceNotFound

ACCEPTED = "accepted: --notify console, --notify sns:TOPIC (name or ARN), --notify webhook:URL (http or https), --notify slack"
HTTP_TIMEOUT_S = 5.0


class Notifier(Protocol):
    name: str

    def send(self, alert) -> None:
        """Deliver or raise (any exception counts as a failed attempt)."""


class ConsoleNotifier:
    name = "console"

    def __init__(self, echo: Callable[[str], None] = print):
        self.echo = echo

    def send(self, alert) -> None:
        self.echo(alert.text())


def post_json(url: str, payload: Any, timeout: float = HTTP_TIMEOUT_S) -> None:
    """POST JSON; raise on anything but 2xx. The messages raised never contain the URL."""
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "streamlab-alert"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise RuntimeError(getattr(reason, "strerror", None) or str(reason)) from None
    except OSError as exc:  # timeouts, resets
        raise RuntimeError(exc.strerror or type(exc).__name__) from None


class WebhookNotifier:
    def __init__(self, url: str):
        self.url = url
        self.name = f"webhook:{urlparse(url).scheme}://{urlparse(url).netloc}"  # not the path: it may hold a token

    def send(self, alert) -> None:
        post_json(self.url, alert.to_dict())


class SlackNotifier:
    name = "slack"

    def __init__(self, url_secret):
        self._url = url_secret  # SecretStr: unwrapped only at the moment of the call

    def send(self, alert) -> None:
        post_json(self._url.get_secret_value(), {"text": alert.text()})


class SnsNotifier:
    def __init__(self, aws, topic: str):
        self.aws, self.topic = aws, topic
        self.arn: Optional[str] = topic if topic.startswith("arn:") else None
        self.name = f"sns:{topic}"

    def open(self) -> None:
        """Find the topic (a name is looked up among the account's topics) or raise ResourceNotFound."""
        client = self.aws.client("sns")
        if self.arn is None:
            paginator = client.get_paginator("list_topics")
            arns = [t["TopicArn"] for page in paginator.paginate() for t in page.get("Topics", [])]
            self.arn = next((a for a in arns if a.rsplit(":", 1)[-1] == self.topic), None)
        else:
            try:
                client.get_topic_attributes(TopicArn=self.arn)
            except client.exceptions.NotFoundException:
                self.arn = None
        if self.arn is None:
            raise ResourceNotFound(f"SNS topic {self.topic} not found in {self.aws.where()}",
                                   "create it (e.g. `aws sns create-topic --name TOPIC`) or pass its ARN: --notify sns:arn:aws:sns:...")

    def send(self, alert) -> None:
        body = alert.text() + "\n\n" + json.dumps(alert.to_dict(), indent=2)
        self.aws.client("sns").publish(TopicArn=self.arn, Subject=alert.subject(), Message=body)


def parse_targets(specs: tuple[str, ...], settings, aws) -> list:
    """--notify values -> notifiers (nothing sent yet). Default: the console."""
    out: list = []
    for spec in specs or ("console",):
        kind, _, rest = spec.partition(":")
        kind = kind.strip().lower()
        if kind == "console" and not rest:
            out.append(ConsoleNotifier())
        elif kind == "slack" and not rest:
            url = getattr(settings, "slack_webhook_url", None)
            if url is None or not url.get_secret_value():
                raise ConfigError("--notify slack needs the Slack incoming-webhook URL",
                                  "set SLACK_WEBHOOK_URL in the environment or .env (never as a flag)")
            out.append(SlackNotifier(url))
        elif kind == "webhook" and urlparse(rest).scheme in ("http", "https") and urlparse(rest).netloc:
            out.append(WebhookNotifier(rest))
        elif kind == "sns" and rest:
            out.append(SnsNotifier(aws, rest))
        else:
            raise ConfigError(f"cannot read --notify {spec!r}", ACCEPTED)
    return out


@dataclass
class Delivery:
    sent: int = 0
    retried: int = 0
    dead_lettered: int = 0
    by_notifier: dict = field(default_factory=dict)


class Dispatcher:
    """Every alert to every notifier: `attempts` tries each, backoff doubling from `backoff_s`
    (with jitter), then the dead-letter file. Blocking: a notifier that is down slows the follower
    by at most the backoff total (about 3.5 s by default) per alert, and never stops it."""

    def __init__(self, notifiers: list, dead_letter, *, attempts: int = 4, backoff_s: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, rng: Optional[random.Random] = None):
        self.notifiers, self.dead_letter = notifiers, dead_letter
        self.attempts, self.backoff_s, self.sleep = max(1, attempts), backoff_s, sleep
        self.rng = rng or random.Random()
        self.stats = Delivery()

    def open(self) -> None:
        for n in self.notifiers:
            if hasattr(n, "open"):
                n.open()

    def deliver(self, alert) -> None:
        for n in self.notifiers:
            reason = self._send(n, alert)
            if reason is None:
                self.stats.sent += 1
                continue
            self.stats.dead_lettered += 1
            self.stats.by_notifier[n.name] = self.stats.by_notifier.get(n.name, 0) + 1
            self.dead_letter.add(reason, notifier=n.name, alert=alert.to_dict())
            self.dead_letter.flush()
            console.warn(f"{n.name}: could not deliver the alert ({reason}); kept in {self.dead_letter.path}")

    def _send(self, notifier, alert) -> Optional[str]:
        delay = self.backoff_s
        reason = "not sent"
        for attempt in range(self.attempts):
            if attempt:
                self.stats.retried += 1
                self.sleep(delay * (0.5 + self.rng.random()))
                delay *= 2
            try:
                notifier.send(alert)
                return None
            except Exception as exc:  # any failure is one failed attempt; the follower goes on
                reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, RuntimeError) else str(exc)
        return f"{reason} (after {self.attempts} attempts)"

    def close(self) -> None:
        self.dead_letter.close()
