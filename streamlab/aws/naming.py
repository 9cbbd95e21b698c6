"""Resource names from a template: `--name-template` (default `streamlab-{service}`).

Fields: `{service}` (what the resource is for, e.g. `streaming-lambda`; required), `{first3}` /
`{last3}` (first three letters of `--first-name` / `--last-name`, as typed), `{first}` / `{last}`,
`{lab}`, `{account}`, `{region}`. Each field also exists upper-cased (`{FIRST3}`, `{SERVICE}`, ...) giving the value in capitals, so the
course convention `DE{FIRST3}{LAST3}-{service}` with `--first-name Dorothy --last-name Expert` gives
`DEDOREXP-streaming-lambda`. Bucket names are lower-cased (S3 requires it).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Optional

from streamlab.errors import ConfigError

DEFAULT_TEMPLATE = "streamlab-{service}"
_BASE_FIELDS = ("service", "first3", "last3", "first", "last", "lab", "account", "region")


def _letters(text: Optional[str]) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text or "")


@dataclass(frozen=True)
class Namer:
    template: str = DEFAULT_TEMPLATE
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    lab: str = "default"
    account: str = "ACCOUNT"
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None]
        except ValueError as exc:
            raise ConfigError(f"bad --name-template {self.template!r}: {exc}", "use fields in braces, e.g. DE{FIRST3}{LAST3}-{service}") from None
        allowed = set(_BASE_FIELDS) | {f.upper() for f in _BASE_FIELDS}
        unknown = [f for f in fields if f not in allowed]
        if unknown:
            raise ConfigError(
                f"unknown field {{{unknown[0]}}} in --name-template {self.template!r}",
                f"use {', '.join('{' + f + '}' for f in _BASE_FIELDS)} (or upper-case variants)",
            )
        if "service" not in {f.lower() for f in fields}:
            raise ConfigError(f"--name-template {self.template!r} has no {{service}}", "add {service}, or every resource would get the same name")
        for needs, flag, value in (("first", "--first-name", self.first_name), ("last", "--last-name", self.last_name)):
            if any(f.lower().startswith(needs) for f in fields) and not _letters(value):
                raise ConfigError(f"--name-template uses {{{needs}...}} but {flag} is not set", f"pass {flag} NAME")

    def _values(self, service: str) -> dict[str, str]:
        first, last = _letters(self.first_name), _letters(self.last_name)
        base = {
            "service": service,
            "first3": first[:3],
            "last3": last[:3],
            "first": first,
            "last": last,
            "lab": self.lab,
            "account": self.account,
            "region": self.region,
        }
        return {**base, **{k.upper(): v.upper() for k, v in base.items()}}

    def name(self, service: str) -> str:
        return self.template.format(**self._values(service))

    def bucket(self, service: str) -> str:
        return self.name(service).lower().replace("_", "-")

    @property
    def owner(self) -> str:
        """The person the notification names ('Dorothy Expert'); 'streamlab' when unknown."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "streamlab"
