"""`streamlab local up/down/status`: start, stop and inspect the local AWS emulator (moto, 127.0.0.1).

- up, foreground: serves in this process until Ctrl-C/SIGTERM, then removes its state.
- up --detach: starts `python -m streamlab.aws.emulator` in a new session (it survives this
  command and the terminal), output to `<state_dir>/local-aws.log`, and records pid/port/url.
- down: SIGTERM, then SIGKILL after a timeout; clears the state. Safe to run when nothing runs.
  It only signals a pid whose command line mentions streamlab, so a stale state file whose pid was
  reused by another program never gets that program killed.
State lives in the "aws" section of `local.json` (see `localstate`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from streamlab.aws import localstate
from streamlab.aws.emulator import HOST
from streamlab.errors import ConfigError, StreamlabError

SECTION = "aws"
DEFAULT_PORT = 4566


def url_for(port: int) -> str:
    return f"http://{HOST}:{port}"


def _pid_running(pid: int) -> bool:
    """Alive and not a zombie (a detached child nobody has reaped yet counts as gone)."""
    if not localstate.pid_alive(pid):
        return False
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return "Z" not in line.split()[1]
    except OSError:
        pass
    return True


def _looks_like_streamlab(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return True  # no /proc (macOS): trust the state file
    return b"streamlab" in cmdline


def current(settings) -> dict:
    """{"running": bool, "url", "pid", "port", "started", "mode", "log", "stale": bool}."""
    st = localstate.read_section(settings, SECTION)
    if not st or "port" not in st:
        return {"running": False, "stale": False}
    port = int(st["port"])
    pid = int(st.get("pid") or 0)
    running = (not pid or _pid_running(pid)) and localstate.port_open(HOST, port)
    return {**st, "url": st.get("url") or url_for(port), "running": running, "stale": not running}


def _refuse_if_busy(settings, port: int) -> None:
    now = current(settings)
    if now["running"]:
        raise ConfigError(
            f"a local emulator is already running at {now['url']} (pid {now.get('pid')})",
            "use it with --local, or stop it with `streamlab local down`",
        )
    if now["stale"]:
        localstate.clear_section(settings, SECTION)
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise ConfigError(
                f"port {port} on {HOST} is already in use",
                f"pick another with --port (e.g. --port {port + 1}) or stop what uses it",
            ) from None


def _state(port: int, pid: int, mode: str, log: Optional[Path] = None, time_scale: Optional[float] = None) -> dict:
    st = {
        "pid": pid,
        "port": port,
        "url": url_for(port),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": mode,
    }
    if log is not None:
        st["log"] = str(log)
    st["scheduler"] = f"x{time_scale:g}" if time_scale else "off"
    return st


def start_detached(settings, port: int = DEFAULT_PORT, timeout: float = 20.0, time_scale: Optional[float] = 1.0) -> dict:
    """Start the emulator as a detached process and record it; returns the state."""
    from streamlab.aws.emulator import _require_moto, _wait_port

    _require_moto()
    _refuse_if_busy(settings, port)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.state_dir / "local-aws.log"
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlab.aws.emulator", "--port", str(port),
             *(["--time-scale", f"{time_scale:g}"] if time_scale else [])],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # not killed by Ctrl-C in, or closing of, this terminal
            close_fds=True,
        )
    try:
        _wait_port(port, timeout, proc)
    except StreamlabError:
        if proc.poll() is None:
            proc.kill()
        raise
    state = _state(port, proc.pid, "detached", log_path, time_scale)
    localstate.write_section(settings, SECTION, state)
    return state


def serve_foreground(settings, port: int = DEFAULT_PORT, on_ready: Optional[Callable[[dict], None]] = None,
                     time_scale: Optional[float] = 1.0) -> None:
    """Serve in this process until Ctrl-C or SIGTERM; the state file is removed on the way out."""
    from streamlab.aws.emulator import Emulator

    _refuse_if_busy(settings, port)
    emu = Emulator(port, in_process=True, scheduler_time_scale=time_scale).start()
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        state = _state(port, os.getpid(), "foreground", time_scale=time_scale)
        localstate.write_section(settings, SECTION, state)
        if on_ready is not None:
            on_ready(state)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emu.stop()
        localstate.clear_section(settings, SECTION)


def stop(settings, timeout: float = 10.0) -> dict:
    """Stop the recorded emulator. Returns {"stopped": bool, "was": state or None, "note": str}."""
    st = localstate.read_section(settings, SECTION)
    if not st:
        return {"stopped": False, "was": None, "note": "no local emulator is running"}
    pid = int(st.get("pid") or 0)
    note = ""
    stopped = False
    if pid and _pid_running(pid):
        if not _looks_like_streamlab(pid):
            note = f"pid {pid} is no longer the emulator (another program now): left alone, state cleared"
        else:
            stopped = _terminate(pid, timeout)
            if not stopped:
                raise StreamlabError(f"could not stop the local emulator (pid {pid})", f"stop it by hand: kill -9 {pid}")
    else:
        note = "the recorded emulator had already exited: state cleared"
    localstate.clear_section(settings, SECTION)
    return {"stopped": stopped, "was": st, "note": note}


def _terminate(pid: int, timeout: float) -> bool:
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _pid_running(pid):
                return True
            time.sleep(0.05)
    return not _pid_running(pid)
