"""Read back what the emulator cannot deliver: SNS messages (no email locally) and Lambda logs.

`fetch(url)` asks streamlab's emulator (see `local_api`) for every message published to its SNS
topics; `log_lines(logs_client, function)` reads a function's CloudWatch Logs group
(`/aws/lambda/NAME`, written by the local scheduler), oldest first.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Optional

from streamlab.errors import ConnectionFailed, ResourceNotFound

MESSAGES_PATH = "/_streamlab/sns-messages"  # as local_api.MESSAGES_PATH (not imported: that needs moto)


def fetch(url: str, topic: Optional[str] = None, timeout: float = 5.0) -> list[dict]:
    try:
        with urllib.request.urlopen(url.rstrip("/") + MESSAGES_PATH, timeout=timeout) as resp:
            messages = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ConnectionFailed(f"{url} is not streamlab's emulator (it does not list SNS messages)",
                                   "start it with `streamlab local up`") from None
        raise ConnectionFailed(f"the emulator at {url} answered HTTP {exc.code}", "see its log") from None
    except (OSError, ValueError) as exc:
        raise ConnectionFailed(f"cannot reach the local emulator at {url} ({exc})", "start it with `streamlab local up`") from None
    if topic:
        messages = [m for m in messages if m["topic"] == topic or m["topic"].rsplit(":", 1)[-1] == topic]
    return messages


def log_lines(logs, function: str) -> list[tuple[int, str]]:
    """(timestamp ms, message) of every event in `/aws/lambda/<function>`, oldest first."""
    group = f"/aws/lambda/{function}"
    out: list[tuple[int, str]] = []
    try:
        streams = [s for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group)
                   for s in page.get("logStreams", [])]
        for stream in sorted(streams, key=lambda s: s.get("creationTime", 0)):  # one stream per invocation
            events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)
            out.extend((e["timestamp"], e["message"]) for e in events.get("events", []))
    except logs.exceptions.ResourceNotFoundException:
        raise ResourceNotFound(f"no log group {group} on the emulator (the function has not run yet?)",
                               "wait for its schedule, or check the name with `streamlab status`") from None
    return out
