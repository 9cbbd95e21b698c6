"""The checks behind `streamlab doctor`. Each returns a Check with a fix when something is missing.

Required for the offline demo: Python >= 3.10, Java 17+, pyspark and pyarrow, moto. AWS credentials
and region matter only for real AWS, so their absence is a warning, not a failure.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.aws.session import AWS


MIN_JAVA = 17


@dataclass
class Check:
    name: str
    status: str  # ok | missing | warn | info
    detail: str
    fix: Optional[str] = None
    required: bool = True


def java_version(java: Optional[str] = None) -> tuple[Optional[int], str]:
    """(major version, the version line) of the java Spark will use, or (None, reason)."""
    java_home = os.environ.get("JAVA_HOME")
    exe = java or (os.path.join(java_home, "bin", "java") if java_home else shutil.which("java"))
    if not exe or not os.path.exists(exe):
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on PATH"
        return None, where
    try:
        p = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{exe} did not run: {exc}"
    line = (p.stderr or p.stdout).strip().splitlines()[0] if (p.stderr or p.stdout).strip() else ""
    m = re.search(r'version "(\d+)(?:\.(\d+))?', line)
    if not m:
        return None, f"cannot read the version from: {line!r}"
    major = int(m.group(1))
    if major == 1 and m.group(2):  # "1.8.0_392" style
        major = int(m.group(2))
    return major, line


def _module(name: str) -> Optional[str]:
    if importlib.util.find_spec(name) is None:
        return None
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "present"


def check_python() -> Check:
    v = sys.version_info
    ok = v >= (3, 10)
    return Check("python", "ok" if ok else "missing", f"{sys.version.split()[0]} at {sys.executable}",
                 None if ok else "install Python 3.10 or newer (3.11 recommended)")


def check_java() -> Check:
    major, detail = java_version()
    if major is None:
        return Check("java", "missing", detail, "install OpenJDK 17 (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME")
    if major < MIN_JAVA:
        return Check("java", "missing", detail, f"Spark 4 needs Java {MIN_JAVA}+: install OpenJDK 17 and set JAVA_HOME")
    return Check("java", "ok", detail)


def check_module(module: str, dist: str, extra: str, required: bool = True) -> Check:
    version = _module(module)
    if version is None:
        return Check(dist, "missing", "not installed", f'pip install "streamlab[{extra}]"', required)
    return Check(dist, "ok", version, None, required)


# Kafka compression codecs: (codec, module kafka-python imports, the package that provides it).
KAFKA_CODECS = (("snappy", "snappy", "python-snappy"), ("lz4", "lz4.frame", "lz4"), ("zstd", "zstandard", "zstandard"))


def missing_codec_package(codec: str) -> Optional[str]:
    """The package to install for a Kafka codec kafka-python cannot decode here (None: it can)."""
    for name, module, dist in KAFKA_CODECS:
        if name == codec:
            try:
                importlib.import_module(module)
            except ImportError:
                return dist
    return None


def check_kafka_codecs() -> list[Check]:
    """One check per compression codec a Kafka topic may use (gzip is Python's own)."""
    from importlib.metadata import PackageNotFoundError, version

    out = [Check("kafka codec gzip", "ok", "built into Python")]
    for name, _module_name, dist in KAFKA_CODECS:
        if missing_codec_package(name):
            out.append(Check(f"kafka codec {name}", "missing", f"{dist} is not installed: {name}-compressed topics cannot be read",
                             f"pip install {dist}"))
            continue
        try:
            found = version(dist)
        except PackageNotFoundError:  # importable, but from elsewhere than the named distribution
            found = "present"
        out.append(Check(f"kafka codec {name}", "ok", f"{dist} {found}"))
    return out


def check_aws(aws: AWS) -> list[Check]:
    """Endpoint, region, credentials and the emulator, through the command's AWS handle."""
    from streamlab.local.aws import running_emulator_url

    settings = aws.settings
    out: list[Check] = []
    try:
        endpoint = aws.endpoint_url  # resolved here: --local without an emulator raises
    except Exception as exc:
        msg = getattr(exc, "one_line", lambda: str(exc))()
        return [Check("aws endpoint", "warn", msg, None, required=False)]
    out.append(Check("aws endpoint", "info", endpoint or "real AWS (no endpoint override)", None, False))
    region_src = "flag/env" if settings.region else "default"
    out.append(Check("aws region", "ok", f"{aws.region} ({region_src})", None, False))
    try:
        creds = aws.credentials_available()
    except Exception as exc:
        creds = False
        out.append(Check("aws credentials", "warn", str(exc).splitlines()[0], "check AWS_PROFILE / ~/.aws/config", False))
    else:
        if creds:
            out.append(Check("aws credentials", "ok", "found (values not shown)", None, False))
        else:
            out.append(Check("aws credentials", "warn", "none found",
                             "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE; not needed for `streamlab demo`", False))
    running = running_emulator_url(settings)
    out.append(Check("local emulator", "info" if running else "warn",
                     f"running at {running}" if running else "not running",
                     None if running else "optional: `streamlab local up --detach`", False))
    return out


def run_checks(aws: AWS) -> list[Check]:
    checks = [
        check_python(),
        check_java(),
        check_module("pyspark", "pyspark", "spark"),
        check_module("pyarrow", "pyarrow", "spark"),
        check_module("moto", "moto", "local"),
        *check_kafka_codecs(),
    ]
    checks.extend(check_aws(aws))
    return checks


def failed(checks: list[Check]) -> bool:
    """True when a required check is missing: `streamlab doctor` then exits 1."""
    return any(c.status == "missing" and c.required for c in checks)


def show(checks: list[Check], output: str = "table") -> None:
    """The checks on stdout: a table for people, JSON for scripts."""
    if output == "json":
        import json

        print(json.dumps([c.__dict__ for c in checks], indent=2))
        return
    from rich.table import Table

    from streamlab.console import wide_console

    table = Table(title="streamlab doctor")
    for col in ("check", "status", "detail", "fix"):
        table.add_column(col, overflow="fold")  # a long path or command wraps, never ends in "…"
    style = {"ok": "green", "missing": "red", "warn": "yellow", "info": "cyan"}
    for c in checks:
        table.add_row(c.name, f"[{style[c.status]}]{c.status}[/]", c.detail, c.fix or "")
    wide_console().print(table)
