"""The one scrubber of secrets: everything streamlab prints, logs or writes passes through `scrub`.

Two kinds of text are hidden, replaced by `***`:

- every configured secret value (the `SecretStr` settings: FINNHUB_API_KEY, HWE_PASSWORD, the AWS
  keys...), registered by `streamlab.settings.load_settings` the moment they are read, in the
  spellings they travel in (as given, and URL-encoded);
- the value of any `token=`, `apiKey=`, `api_key=`, `password=`, `secret=` query or form field,
  even one that is not configured here (a provider echoing a URL with someone's key).

Who calls it: `streamlab.console` (its stderr console writes through `ScrubbingStream`, and each
message is scrubbed before rich renders it), `streamlab.cli`'s error lines, `streamlab.jsonl`
(captures, dead letters, set-aside frames: every string of a written object), and Python logging's
last-resort handler (`install_logging`). Record payloads sent to a sink are data, not messages:
they are not scrubbed. Secrets shorter than 4 characters are not registered (scrubbing "ab" would
mangle every message and protect nothing), nor the emulator's dummy credentials (`testing`).

Imports nothing heavy (no pydantic): settings hand their values in.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any, Iterable, Optional
from urllib.parse import quote

MASK = "***"
MIN_SECRET = 4
#: the emulator's well-known dummy credentials (moto's convention, used by streamlab itself against
#: 127.0.0.1): no secret, and hiding every "testing" in every message would only confuse
NOT_SECRET = frozenset({"testing"})
_QUERY = re.compile(r"(?i)(?<![a-z0-9_])(token|api_?key|access_?token|password|passwd|secret)=([^&\s\"'#;,)]+)")

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()  # longest first, so a secret containing another is hidden whole


def register(values: Iterable[Optional[str]]) -> None:
    """Remember secret values to hide from now on (in the process); blank and short ones are skipped."""
    global _secrets
    new = set(_secrets)
    for v in values:
        v = (v or "").strip()
        if len(v) >= MIN_SECRET and v not in NOT_SECRET:
            new.update({v, quote(v, safe="")})
    with _lock:
        _secrets = tuple(sorted(new, key=len, reverse=True))


def register_settings(settings: Any) -> None:
    """Register every SecretStr field of a `Settings` (anything with `get_secret_value`)."""
    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if hasattr(value, "get_secret_value"):
            values.append(value.get_secret_value())
    register(values)


def forget() -> None:
    """Drop every registered secret (tests that load settings with other values)."""
    global _secrets
    with _lock:
        _secrets = ()


def scrub(text: str) -> str:
    """`text` with every registered secret and every token=/apiKey=/password= value hidden."""
    if not isinstance(text, str) or not text:
        return text
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    if "=" in text:
        text = _QUERY.sub(lambda m: f"{m.group(1)}={MASK}" if m.group(2) != MASK else m.group(0), text)
    return text


def scrub_obj(obj: Any) -> Any:
    """A copy of a JSON-able object with every string (keys too) scrubbed."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_obj(v) for v in obj]
    return obj


class ScrubbingStream:
    """A text stream that scrubs what it is given, then writes to `sys.stderr` as it is *now*
    (looked up per write, so pytest's capture and redirections keep working)."""

    def write(self, text: str) -> int:
        sys.stderr.write(scrub(text))
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()

    def fileno(self) -> int:
        return sys.stderr.fileno()

    @property
    def encoding(self) -> str:
        return getattr(sys.stderr, "encoding", None) or "utf-8"


def _scrub_record(record) -> bool:
    """A logging filter (a plain callable): the record's message and stack, scrubbed."""
    import logging

    try:
        message = record.getMessage()
    except Exception:  # a library's malformed log call: leave it to logging
        return True
    record.msg, record.args = scrub(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    return True


def install_logging() -> None:
    """Scrub what third-party libraries log through Python's last-resort handler (stderr).
    `logging` is imported here, not at the top: `streamlab --help` stays instant."""
    import logging

    handler = logging.lastResort
    if handler is not None and _scrub_record not in handler.filters:
        handler.addFilter(_scrub_record)
