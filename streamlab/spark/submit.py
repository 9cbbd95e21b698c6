"""The `spark-submit` command equivalent to a `streamlab consume` run (`--print-spark-submit`).

    spark_submit_command(["--source", "kinesis", "--stream", "trades", ...], source="kinesis")
    -> ["spark-submit", "--master", "yarn", "--deploy-mode", "cluster", ..., ENTRY, "consume", ...]
    format_command(cmd) -> the text to paste into a shell on the cluster's primary node

How the job reaches the cluster: streamlab is installed on every node (examples/emr/bootstrap.sh,
into python3.11, since Amazon Linux 2023's python3 is 3.9 and streamlab needs 3.10+), and the main
resource is `streamlab/spark/entry.py`, found on the node by a command substitution. A `--py-files`
zip of streamlab was the alternative and is not used: streamlab's dependencies (pydantic-core,
pyarrow) are compiled wheels a zip cannot carry, so the nodes need an install anyway, and then the
zip adds nothing but a second copy that can drift.

What the command sets, and why:
  - `spark.pyspark.python`: driver and executors run the interpreter that has streamlab installed.
  - `spark.speculation=false`: a speculative duplicate task would read the same shard/partition
    twice (the aws-kinesis connector lists speculation as unsupported; EMR's default is off).
  - `--packages` (when asked): Spark's Kafka connector matching the cluster's Spark and Scala.
    EMR 7.1+ has `aws-kinesis` on the classpath already, so Kinesis needs nothing.
  - cluster mode only (the driver then runs on a core node without your shell's environment):
    `spark.yarn.appMasterEnv.<NAME>="${NAME}"` for each non-secret setting read from the
    environment (Kafka bootstrap and user, region), and `--files <your .env>#.env` when a secret
    (the Kafka password) is needed: the driver's working folder is the YARN container's, where
    streamlab reads `.env` as it does on a laptop. A secret is never put on a command line, not even
    as a `${NAME}` your shell would expand into spark-submit's argv (visible to `ps`).
Nothing about S3: on EMR, `s3://` is EMRFS and uses the instance role.

Client mode (the default) forwards nothing: the driver is spark-submit's own process on the primary
node, with your shell's environment and `.env`; its log is on your terminal and Ctrl-C stops it.
"""

from __future__ import annotations

import re
import shlex
from typing import Iterable, Mapping, Optional, Sequence

from streamlab.errors import ConfigError
from streamlab.spark import compat

#: Spark of the newest EMR 7.x releases (Scala 2.12); emr-spark-8.0.0 runs 4.0.2 (Scala 2.13).
EMR7_SPARK = "3.5.6"
EMR8_SPARK = "4.0.2"
#: Amazon Linux 2023 (EMR 7.x) ships python3.9 as python3; bootstrap.sh installs 3.11 beside it.
DEFAULT_PYTHON = "/usr/bin/python3.11"
DEPLOY_MODES = ("cluster", "client")

#: Environment settings a consume run may read, forwarded to a cluster-mode driver by reference:
#: the AWS ones (Kinesis, S3 output) for every source, the Kafka ones for a Kafka source only.
AWS_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION", "STREAMLAB_REGION", "STREAMLAB_ENDPOINT_URL")
KAFKA_ENV = (
    "HWE_BOOTSTRAP",
    "HWE_USERNAME",
    "HWE_PASSWORD",
    "STREAMLAB_KAFKA_BOOTSTRAP",
    "STREAMLAB_KAFKA_USERNAME",
    "STREAMLAB_KAFKA_PASSWORD",
    "STREAMLAB_KAFKA_SECURITY_PROTOCOL",
    "STREAMLAB_KAFKA_SASL_MECHANISM",
)
FORWARDED_ENV = AWS_ENV + KAFKA_ENV
KAFKA_PASSWORDS = ("HWE_PASSWORD", "STREAMLAB_KAFKA_PASSWORD")
KAFKA_USERNAMES = ("HWE_USERNAME", "STREAMLAB_KAFKA_USERNAME")

#: Spark's default `spark.redaction.regex`: conf names that hold secrets.
_SECRET_NAME = re.compile(r"(?i)secret|password|token|access[.]?key")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OWN_FLAGS = ("--print-spark-submit",)


class ShellText(str):
    """A token that is already shell text (a `$(...)` or `"${NAME}"`): printed as is, never quoted."""


def env_ref(name: str) -> ShellText:
    if not _ENV_NAME.match(name):
        raise ValueError(f"not an environment variable name: {name!r}")
    return ShellText(f'"${{{name}}}"')


def entry_token(python: str = DEFAULT_PYTHON) -> ShellText:
    """The path of streamlab/spark/entry.py as installed for `python` on the node running spark-submit."""
    code = "import streamlab.spark.entry as e; print(e.__file__)"
    return ShellText(f'"$({shlex.quote(python)} -c {shlex.quote(code)})"')


def forwardable_env(environ: Mapping[str, str], names: Optional[Iterable[str]] = None, *,
                    source: str = "kafka", security_protocol: Optional[str] = None) -> list[str]:
    """The names a cluster driver of a `source` consume needs that are set (non-empty) in `environ`.

    Only what the job reads counts: the Kafka settings for a Kafka source, and its password only
    when it authenticates (SASL: a `SASL_*` protocol, or a username with no protocol given, the
    course's SASL_SSL). A Kinesis job is not refused because HWE_PASSWORD happens to be set."""
    if names is None:
        names = AWS_ENV + (KAFKA_ENV if source == "kafka" else ())
    protocol = (security_protocol or environ.get("STREAMLAB_KAFKA_SECURITY_PROTOCOL") or "").strip().upper()
    sasl = protocol.startswith("SASL_") or (not protocol and any(environ.get(n) for n in KAFKA_USERNAMES))
    return [n for n in names if environ.get(n) and (sasl or n not in KAFKA_PASSWORDS)]


def spark_submit_command(
    consume_args: Sequence[str],
    *,
    source: str = "kinesis",
    spark_version: str = EMR7_SPARK,
    scala_version: Optional[str] = None,
    packages: bool = False,
    deploy_mode: str = "client",
    master: str = "yarn",
    python: str = DEFAULT_PYTHON,
    env_names: Iterable[str] = (),
    env_file: Optional[str] = None,
    conf: Optional[Mapping[str, str]] = None,
    app_name: Optional[str] = None,
) -> list[str]:
    """The spark-submit argv (ShellText tokens for the parts a shell must expand); see the module doc.

    `consume_args` are the `streamlab consume` flags as the user gave them (`--print-spark-submit`
    is dropped); `spark_version`/`scala_version` describe the *cluster's* Spark (the Kafka package
    must match it, not the laptop's); `env_names` are the settings a cluster-mode driver needs
    (use `forwardable_env(os.environ)`): non-secret ones are forwarded as `${NAME}` references, secret
    ones only through `env_file` (shipped as the driver's `.env`; ConfigError without it); `conf` adds
    `--conf` pairs and may not carry secrets.
    """
    if deploy_mode not in DEPLOY_MODES:
        raise ConfigError(f"unknown deploy mode {deploy_mode!r}", "use cluster or client")
    args = [a for a in consume_args if a not in _OWN_FLAGS]
    for key in conf or {}:
        if _SECRET_NAME.search(key):
            raise ConfigError(f"--conf {key} would print a secret", "pass it through the environment (.env or export) instead")
    cmd: list[str] = ["spark-submit", "--master", master, "--deploy-mode", deploy_mode]
    cmd += ["--name", app_name or f"streamlab consume {source}"]
    confs = {"spark.pyspark.python": python, "spark.speculation": "false", **(conf or {})}
    for key, value in confs.items():
        cmd += ["--conf", f"{key}={value}"]
    if deploy_mode == "cluster":
        names = list(dict.fromkeys(env_names))
        secrets = [n for n in names if _SECRET_NAME.search(n)]
        if secrets and not env_file:
            raise ConfigError(
                f"cluster mode needs {', '.join(secrets)} on the driver, and a secret never goes on a command line",
                "put it in a .env file (shipped to the driver with --files), or use --deploy-mode client",
            )
        for name in names:
            if name not in secrets:
                cmd += ["--conf", ShellText(f"spark.yarn.appMasterEnv.{name}={env_ref(name)}")]
        if env_file:
            cmd += ["--files", f"{env_file}#.env"]
    if packages:
        if source != "kafka":
            raise ConfigError(f"--packages is for --source kafka, not {source}", "leave it out (EMR 7.1+ ships aws-kinesis; socket and files need no connector)")
        cmd += ["--packages", compat.kafka_packages(spark_version, scala_version)]
    cmd.append(entry_token(python))
    cmd += ["consume", *args]
    return cmd


def _quote(token: str) -> str:
    return str(token) if isinstance(token, ShellText) else shlex.quote(token)


def format_command(cmd: Sequence[str], *, multiline: bool = True) -> str:
    """Shell text: every plain token quoted, ShellText kept; one spark-submit option per line."""
    if not multiline:
        return " ".join(_quote(t) for t in cmd)
    try:
        entry = next(i for i, t in enumerate(cmd) if isinstance(t, ShellText) and "$(" in t)
    except StopIteration:
        entry = len(cmd)
    lines, current = [], [_quote(cmd[0])]
    for token in cmd[1:entry]:
        if token.startswith("--"):
            lines.append(" ".join(current))
            current = []
        current.append(_quote(token))
    lines.append(" ".join(current))
    if entry < len(cmd):
        lines.append(_quote(cmd[entry]))
        if cmd[entry + 1 :]:
            lines.append(" ".join(_quote(t) for t in cmd[entry + 1 :]))
    return " \\\n  ".join(lines)
