"""The only place boto3 sessions and clients are built.

Endpoint: `--endpoint-url`/STREAMLAB_ENDPOINT_URL wins; `--local`/STREAMLAB_LOCAL=1 uses the
emulator from `streamlab local up`. If that emulator runs but neither was given, we say so once and
talk to real AWS: lab traffic never goes somewhere the user did not ask for.
Region: flag > AWS_REGION > AWS_DEFAULT_REGION > the profile's region > us-east-1.
Against a loopback endpoint with no credentials configured, dummy credentials are used (the
emulator accepts any).

One `AWS` handle is built where a command starts and passed down to sinks, readers, writers and the
plan. Spark executors cannot receive it (a session holds locks): they get `worker_options()`, plain
strings, and rebuild a handle with `AWS.from_worker_options`. Credentials are read here and nowhere else.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any, Optional
from urllib.parse import urlparse

from streamlab import console
from streamlab.local.aws import running_emulator_url
from streamlab.errors import ConfigError, ConnectionFailed, StreamlabError
from streamlab.settings import DEFAULT_REGION, Settings

def is_loopback(url: Optional[str]) -> bool:
    host = urlparse(url).hostname if url else None
    return host in ("127.0.0.1", "localhost", "::1")


def resolve_endpoint(settings: Settings, *, note: bool = True) -> Optional[str]:
    """The endpoint to talk to (None = real AWS). With `note`, says once (per handle, so once per
    command) that an emulator runs but is not used."""
    if settings.endpoint_url:
        return settings.endpoint_url
    running = running_emulator_url(settings)
    if settings.local:
        if not running:
            raise ConfigError(
                "--local was given but no local emulator is running",
                "start it with `streamlab local up --detach`, or pass --endpoint-url",
            )
        return running
    if running and note:
        console.info(
            f"note: a local emulator is running at {running}, but this command talks to real AWS; "
            "pass --local (or STREAMLAB_LOCAL=1) to use the emulator"
        )
    return None


def explicit_credentials(s: Settings) -> dict[str, str]:
    """The keys set in the settings (flags/env/.env), as boto3 names them; empty when none are."""
    if not (s.aws_access_key_id and s.aws_secret_access_key):
        return {}
    out = {"aws_access_key_id": s.aws_access_key_id.get_secret_value(),
           "aws_secret_access_key": s.aws_secret_access_key.get_secret_value()}
    if s.aws_session_token:
        out["aws_session_token"] = s.aws_session_token.get_secret_value()
    return out


class AWS:
    """A boto3 session plus cached clients for one command. Pass it in; never build clients per record."""

    def __init__(self, settings: Settings, *, note: bool = True):
        self.settings = settings
        self._note = note
        self._endpoint: Optional[tuple[Optional[str]]] = None
        self._clients: dict[tuple[str, bool, bool], Any] = {}
        self._lock = threading.RLock()  # clients are thread-safe, a boto3 session making them is not

    @property
    def endpoint_url(self) -> Optional[str]:
        """Resolved on first use, once per handle: a command can build its handle at the start for
        free, and one that never talks to AWS (produce to stdout) neither checks for the emulator
        nor prints the note; `--local` without an emulator raises here."""
        if self._endpoint is None:
            with self._lock:
                if self._endpoint is None:
                    self._endpoint = (resolve_endpoint(self.settings, note=self._note),)
        return self._endpoint[0]

    @cached_property
    def session(self):
        try:
            import boto3
        except ImportError:  # pragma: no cover - boto3 is a core dependency
            raise StreamlabError("boto3 is not installed", 'reinstall streamlab: pip install "streamlab"') from None
        s = self.settings
        kwargs: dict[str, Any] = {"profile_name": s.profile} if s.profile else {}
        kwargs.update(explicit_credentials(s))
        try:
            session = boto3.Session(region_name=s.region, **kwargs)
        except Exception as exc:  # ProfileNotFound and friends
            raise ConfigError(f"AWS profile problem: {exc}", "check --profile / AWS_PROFILE and ~/.aws/config") from None
        if is_loopback(self.endpoint_url) and session.get_credentials() is None:
            session = boto3.Session(
                region_name=s.region, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
        return session

    @property
    def region(self) -> str:
        return self.settings.region or self.session.region_name or DEFAULT_REGION

    def client(self, service: str, *, validate: bool = True, sdk_retries: bool = True):
        """A client for `service`, made once. `validate=False` skips botocore's parameter
        validation, for hot batch calls whose parameters the caller already guarantees (the
        Kinesis and Firehose sinks check counts, sizes and keys before each call): on a
        500-record PutRecords it is ~13% of the call against the local emulator.
        `sdk_retries=False` makes every call one attempt: the producing sinks' Batcher retries
        itself (backoff, riding out an outage, each resend counted in the summary's `retried`),
        so botocore's hidden retries would only make that count wrong and the waits longer."""
        key = (service, validate, sdk_retries)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    from botocore.config import Config

                    retries = {"max_attempts": 3, "mode": "standard"} if sdk_retries else {"total_max_attempts": 1, "mode": "standard"}
                    cfg = Config(retries=retries, connect_timeout=5, read_timeout=30,
                                 parameter_validation=validate, max_pool_connections=20)  # see resources.common.MAX_WORKERS
                    client = self._clients[key] = self.session.client(
                        service, region_name=self.region, endpoint_url=self.endpoint_url, config=cfg
                    )
        return client

    def where(self) -> str:
        """'region us-east-1 at endpoint http://...' for messages."""
        at = self.endpoint_url or "AWS"
        return f"region {self.region} at endpoint {at}"

    def credentials_available(self) -> bool:
        return self.session.get_credentials() is not None

    def frozen_credentials(self):
        """botocore's frozen credentials (access_key, secret_key, token), or None."""
        creds = self.session.get_credentials()
        return creds.get_frozen_credentials() if creds is not None else None

    def arrow_s3_filesystem(self):
        """`pyarrow.fs.S3FileSystem` with this handle's endpoint, region and credentials (incl. the
        session token): what the S3 output of consume and the chart/dashboard readers use."""
        from pyarrow import fs

        kw: dict[str, Any] = {"region": self.region}
        if self.endpoint_url:
            u = urlparse(self.endpoint_url)
            kw["endpoint_override"] = u.netloc or u.path
            kw["scheme"] = u.scheme or "https"
        frozen = self.frozen_credentials()
        if frozen is not None:
            kw["access_key"], kw["secret_key"] = frozen.access_key, frozen.secret_key
            if frozen.token:
                kw["session_token"] = frozen.token
        return fs.S3FileSystem(**kw)

    def worker_options(self) -> dict[str, str]:
        """Endpoint, region, profile and explicitly configured credentials as plain strings, for code
        running on Spark executors (a reader's options). The names contain "accesskey"/"secret"/
        "token", so Spark redacts them in plans and logs. Read back by `from_worker_options`."""
        s = self.settings
        opts = {"region": self.region}
        if self.endpoint_url:
            opts["endpointUrl"] = self.endpoint_url
        if s.profile:
            opts["profile"] = s.profile
        names = {"aws_access_key_id": "awsAccessKeyId", "aws_secret_access_key": "awsSecretAccessKey",
                 "aws_session_token": "awsSessionToken"}
        opts.update({names[k]: v for k, v in explicit_credentials(s).items()})
        return opts

    @classmethod
    def from_worker_options(cls, options) -> "AWS":
        """A handle from `worker_options()` (keys compared case-insensitively: Spark lower-cases them)."""
        from pydantic import SecretStr

        opts = {str(k).lower(): v for k, v in dict(options).items()}

        def secret(name: str) -> Optional[SecretStr]:
            value = opts.get(name.lower())
            return SecretStr(value) if value else None

        settings = Settings.model_construct(
            endpoint_url=opts.get("endpointurl") or None,
            region=opts.get("region") or None,
            profile=opts.get("profile") or None,
            aws_access_key_id=secret("awsAccessKeyId"),
            aws_secret_access_key=secret("awsSecretAccessKey"),
            aws_session_token=secret("awsSessionToken"),
            local=False,
        )
        return cls(settings, note=False)


def explain_aws_error(exc: BaseException) -> StreamlabError:
    """One line for botocore failures that escaped the commands' own handling."""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return ConfigError(
            "no AWS credentials found",
            "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or use --local for the emulator",
        )
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        return ConnectionFailed(f"cannot reach the AWS endpoint ({exc})", "check --endpoint-url / your network; for the emulator run `streamlab local up`")
    if name == "NoRegionError":
        return ConfigError("no AWS region set", "pass --region or set AWS_REGION")
    if name == "ClientError":
        err = getattr(exc, "response", {}).get("Error", {})
        code, msg = err.get("Code", "ClientError"), err.get("Message", "")
        if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException"):
            return ConfigError(f"AWS rejected the credentials ({code})", "refresh them (lab sessions expire) or check AWS_PROFILE")
        if code in ("AccessDenied", "AccessDeniedException"):
            return StreamlabError(f"AWS denied access: {msg}", "attach the needed policy, e.g. `streamlab provision iam`")
        return StreamlabError(f"AWS error {code}: {msg}")
    return StreamlabError(f"AWS error: {name}: {exc}")
