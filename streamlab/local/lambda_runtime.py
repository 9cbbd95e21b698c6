"""Run a deployed Lambda function's code locally, the way the Python runtime would.

The emulator stores a function's zip but cannot run it (that needs Docker). This module does what
the runtime does for one invocation: the zip unpacked into a cache folder (by its SHA-256, so an
updated function gets a fresh copy), a new `python` process with the function's configured
environment plus the runtime's own variables (`AWS_LAMBDA_FUNCTION_NAME`, `..._MEMORY_SIZE`,
`LAMBDA_TASK_ROOT`, region) and credentials pointing at the emulator (`AWS_ENDPOINT_URL`, dummy
keys: nothing the code does can reach real AWS), the handler called with the event and a context
object, killed after the configured timeout. Output and errors become CloudWatch Logs lines
(`START` / output / `END` / `REPORT`, as the runtime writes them) in `/aws/lambda/NAME`.

The configured memory is passed on and logged, not enforced.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

# Runs in the child: import the handler from LAMBDA_TASK_ROOT (first on sys.path, so the zip's
# own `streamlab` wins over any installed one), call it, write the result or the error as JSON.
_BOOTSTRAP = r"""
import importlib, json, os, sys, time, traceback
root, handler, result_path, deadline = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
sys.path.insert(0, root)
class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    invoked_function_arn = os.environ.get("STREAMLAB_FUNCTION_ARN", "")
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    aws_request_id = os.environ["STREAMLAB_REQUEST_ID"]
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
    def get_remaining_time_in_millis(self):
        return max(0, int((deadline - time.time()) * 1000))
try:
    module, _, name = handler.rpartition(".")
    fn = getattr(importlib.import_module(module), name)
    out = {"ok": True, "payload": fn(json.loads(sys.stdin.read() or "null"), Context())}
except BaseException as exc:
    traceback.print_exc()
    out = {"ok": False, "payload": {"errorType": type(exc).__name__, "errorMessage": str(exc),
                                    "stackTrace": traceback.format_tb(exc.__traceback__)}}
with open(result_path, "w") as f:
    json.dump(out, f, default=str)
"""


@dataclass
class Invocation:
    function: str
    request_id: str
    ok: bool
    payload: Any  # the handler's return value, or {"errorType", "errorMessage", "stackTrace"}
    duration_ms: float
    output: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def error_line(self) -> str:
        p = self.payload if isinstance(self.payload, dict) else {}
        return f"{p.get('errorType', 'Error')}: {p.get('errorMessage', '')}"


def unpack(code: bytes, cache: Path) -> Path:
    """The zip unpacked under `cache/<sha256>` (once per distinct zip)."""
    digest = hashlib.sha256(code).hexdigest()[:16]
    target = cache / digest
    if not target.exists():
        temp = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=cache))
        with zipfile.ZipFile(io.BytesIO(code)) as zf:
            zf.extractall(temp)
        try:
            os.replace(temp, target)
        except OSError:  # another thread unpacked it meanwhile
            pass
    return target


def environment(config: dict, *, endpoint_url: str, region: str, request_id: str, stream: str) -> dict[str, str]:
    """What the function's process sees: its configured variables plus the runtime's."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR")}
    env.update((config.get("Environment") or {}).get("Variables") or {})
    env.update({
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize") or 128),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config['FunctionName']}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "STREAMLAB_FUNCTION_ARN": config.get("FunctionArn", ""),
        "STREAMLAB_REQUEST_ID": request_id,
    })
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def log_stream_name(request_id: str) -> str:
    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{request_id.replace('-', '')}"


def run(config: dict, code_dir: Path, event: Any, *, endpoint_url: str, region: str,
        timeout: Optional[float] = None) -> Invocation:
    """One invocation in a new process. `timeout` defaults to the function's configured Timeout."""
    request_id = str(uuid.uuid4())
    limit = float(timeout if timeout is not None else config.get("Timeout") or 3)
    env = environment(config, endpoint_url=endpoint_url, region=region, request_id=request_id,
                      stream=log_stream_name(request_id))
    fd, result_path = tempfile.mkstemp(prefix="streamlab-lambda-", suffix=".json")
    os.close(fd)
    started = time.monotonic()
    timed_out = False
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOTSTRAP, str(code_dir), config["Handler"], result_path, str(time.time() + limit)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=str(code_dir),
        )
        try:
            text, _ = proc.communicate(json.dumps(event).encode(), timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            text, _ = proc.communicate()
            timed_out = True
        duration = (time.monotonic() - started) * 1000
        output = text.decode("utf-8", "replace").splitlines()
        if timed_out:
            payload = {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {limit:.2f} seconds"}
            return Invocation(config["FunctionName"], request_id, False, payload, duration, output, True)
        try:
            result = json.loads(Path(result_path).read_text() or "{}")
        except ValueError:
            result = {}
        if "ok" not in result:  # the process died before writing its result
            result = {"ok": False, "payload": {"errorType": "Runtime.ExitError",
                                               "errorMessage": f"the function's process exited with code {proc.returncode}"}}
        return Invocation(config["FunctionName"], request_id, bool(result["ok"]), result["payload"], duration, output)
    finally:
        os.unlink(result_path)


def log_lines(inv: Invocation, memory_mb: int) -> list[str]:
    """The invocation as the runtime logs it."""
    lines = [f"START RequestId: {inv.request_id} Version: $LATEST", *inv.output]
    if inv.timed_out:
        lines.append(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {inv.request_id} {inv.payload['errorMessage']}")
    elif not inv.ok:
        lines.append(f"[ERROR] {inv.error_line}")
    lines.append(f"END RequestId: {inv.request_id}")
    lines.append(f"REPORT RequestId: {inv.request_id}\tDuration: {inv.duration_ms:.2f} ms\t"
                 f"Billed Duration: {int(inv.duration_ms) + 1} ms\tMemory Size: {memory_mb} MB")
    return lines


def write_logs(logs, inv: Invocation, memory_mb: int) -> None:
    """Append the invocation to `/aws/lambda/NAME` on the emulator (group made when missing)."""
    group = f"/aws/lambda/{inv.function}"
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    stream = log_stream_name(inv.request_id)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in log_lines(inv, memory_mb)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
