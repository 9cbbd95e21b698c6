"""Settings, read once at command start.

Order (pydantic-settings): init kwargs (the command's flags) > environment > `.env` > defaults.
Names users already have from their labs work as-is (`FINNHUB_API_KEY`, `HWE_*`, `AWS_*`);
streamlab's own are `STREAMLAB_*`. Secrets are `SecretStr`: their repr is `**********` and they are
only unwrapped at the moment a client is built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamlab import redact
from streamlab.errors import ConfigError

DEFAULT_REGION = "us-east-1"


def _env(*names: str) -> AliasChoices:
    # Only the upper-case environment names: a bare field name here ("home", "region") would also
    # be read from the environment, and HOME is always set. Init kwargs still work by field name
    # (populate_by_name), and env_prefix keeps that field-name lookup off bare HOME/REGION/LAB.
    return AliasChoices(*[n for n in names if not n.islower()])


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
        env_prefix="STREAMLAB_",
    )

    # --- AWS -------------------------------------------------------------------------------
    endpoint_url: Optional[str] = Field(None, validation_alias=_env("endpoint_url", "STREAMLAB_ENDPOINT_URL"))
    region: Optional[str] = Field(
        None, validation_alias=_env("region", "STREAMLAB_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")
    )
    profile: Optional[str] = Field(None, validation_alias=_env("profile", "STREAMLAB_PROFILE", "AWS_PROFILE"))
    aws_access_key_id: Optional[SecretStr] = Field(None, validation_alias=_env("aws_access_key_id", "AWS_ACCESS_KEY_ID"))
    aws_secret_access_key: Optional[SecretStr] = Field(
        None, validation_alias=_env("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY")
    )
    aws_session_token: Optional[SecretStr] = Field(None, validation_alias=_env("aws_session_token", "AWS_SESSION_TOKEN"))
    local: bool = Field(False, validation_alias=_env("local", "STREAMLAB_LOCAL"))

    # --- feeds -----------------------------------------------------------------------------
    finnhub_api_key: Optional[SecretStr] = Field(
        None, validation_alias=_env("finnhub_api_key", "FINNHUB_API_KEY", "STREAMLAB_FINNHUB_API_KEY")
    )
    finnhub_symbols: Optional[str] = Field(
        None, validation_alias=_env("finnhub_symbols", "STREAMLAB_FINNHUB_SYMBOLS")
    )

    # --- Kafka (the course's names first) ------------------------------------------------------
    kafka_bootstrap: Optional[str] = Field(
        None, validation_alias=_env("kafka_bootstrap", "STREAMLAB_KAFKA_BOOTSTRAP", "HWE_BOOTSTRAP")
    )
    kafka_username: Optional[str] = Field(
        None, validation_alias=_env("kafka_username", "STREAMLAB_KAFKA_USERNAME", "HWE_USERNAME")
    )
    kafka_password: Optional[SecretStr] = Field(
        None, validation_alias=_env("kafka_password", "STREAMLAB_KAFKA_PASSWORD", "HWE_PASSWORD")
    )
    kafka_security_protocol: Optional[str] = Field(
        None, validation_alias=_env("kafka_security_protocol", "STREAMLAB_KAFKA_SECURITY_PROTOCOL")
    )
    kafka_sasl_mechanism: Optional[str] = Field(
        None, validation_alias=_env("kafka_sasl_mechanism", "STREAMLAB_KAFKA_SASL_MECHANISM")
    )
    kafka_ca_file: Optional[str] = Field(None, validation_alias=_env("kafka_ca_file", "STREAMLAB_KAFKA_CA_FILE"))

    # --- alerts ----------------------------------------------------------------------------
    # the Slack incoming-webhook URL is the credential itself: a secret, never a flag
    slack_webhook_url: Optional[SecretStr] = Field(
        None, validation_alias=_env("slack_webhook_url", "SLACK_WEBHOOK_URL", "STREAMLAB_SLACK_WEBHOOK_URL")
    )

    # --- latest-price cache (Redis) ----------------------------------------------------------
    cache_url: Optional[str] = Field(None, validation_alias=_env("cache_url", "STREAMLAB_CACHE_URL"))
    # a password is a secret: from the environment or .env only, never inside a --cache URL
    redis_password: Optional[SecretStr] = Field(
        None, validation_alias=_env("redis_password", "REDIS_PASSWORD", "STREAMLAB_REDIS_PASSWORD")
    )

    # --- streamlab itself ------------------------------------------------------------------
    home: Optional[Path] = Field(None, validation_alias=_env("home", "STREAMLAB_HOME"))
    lab: str = Field("default", validation_alias=_env("lab", "STREAMLAB_LAB"))

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint_is_a_url(cls, value: Optional[str]) -> Optional[str]:
        if value is None or value == "":
            return None
        check_endpoint_url(value)
        return value

    @property
    def state_dir(self) -> Path:
        """Where the ledger and local emulator state live: `$STREAMLAB_HOME` or `./.streamlab`."""
        return Path(self.home) if self.home else Path.cwd() / ".streamlab"

    @property
    def effective_region(self) -> str:
        return self.region or DEFAULT_REGION


def check_endpoint_url(value: str) -> None:
    """Raise ValueError unless `value` is an http(s) URL with a host (boto3 would say 'Invalid endpoint')."""
    try:
        u = urlparse(value)
        u.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a URL ({exc})") from None
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host")


#: what a setting accepts, said the way a user writes it: by field first, then by kind of error
_FIELD_HINTS = {"endpoint_url": "give scheme and host, e.g. http://127.0.0.1:5000"}
_TYPE_HINTS = {
    "bool_parsing": "use true or false (also 1/0, yes/no, on/off)",
    "bool_type": "use true or false (also 1/0, yes/no, on/off)",
}
_FLAGS = {"endpoint_url": "--endpoint-url", "region": "--region", "profile": "--profile", "local": "--local"}


def _field(loc: str) -> tuple[Optional[str], str]:
    """'AWS_REGION' or 'region' -> ('region', '--region / AWS_REGION'): the field and the names a
    user set it by (its flag, and the variable that was read, else the field's first one)."""
    for name, f in Settings.model_fields.items():
        aliases = [a for a in getattr(f.validation_alias, "choices", []) or [] if isinstance(a, str)]
        if loc == name or loc.upper() in aliases:
            env = loc.upper() if loc.upper() in aliases else (aliases[0] if aliases else name)
            return name, " / ".join(([_FLAGS[name]] if name in _FLAGS else []) + [env])
    return None, loc


def settings_error(exc: ValidationError) -> ConfigError:
    """pydantic's multi-line ValidationError as one line: which variable, what it holds, what it accepts."""
    err = exc.errors()[0]
    field, where = _field(str(err["loc"][0])) if err.get("loc") else (None, "a setting")
    if err["type"] == "value_error":
        what = str(err.get("ctx", {}).get("error") or err["msg"])
    else:
        what = f"{err.get('input')!r} is not valid ({err['msg'].lower()})"
    hint = _FIELD_HINTS.get(field or "") or _TYPE_HINTS.get(err["type"], "fix or unset it (environment or .env)")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return ConfigError(f"{where}: {what}{more}", hint)


def load_settings(**flags: Any) -> Settings:
    """Build settings with the command's flags on top; flags left at None do not override anything.
    A value that does not parse (STREAMLAB_LOCAL=maybe, an endpoint without a scheme) is a ConfigError."""
    given = {k: v for k, v in flags.items() if v is not None}
    env_file = os.environ.get("STREAMLAB_ENV_FILE", ".env")
    try:
        settings = Settings(_env_file=env_file, **given)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise settings_error(exc) from None
    redact.register_settings(settings)  # from here on no output shows these values
    return settings
