"""`streamlab local up/down/status` for the AWS emulator (moto, 127.0.0.1): start, stop, inspect.

- up, foreground: serves in this process until Ctrl-C/SIGTERM, then removes its state.
- up --detach: starts `python -m streamlab.local.emulator` in a new session (it survives this
  command and the terminal), output to `<state_dir>/local-aws.log`, and records pid/port/url.
- down: SIGTERM, then SIGKILL after a timeout; clears the state. Safe to run when nothing runs.
  It only signals a pid whose command line mentions streamlab, so a stale state file whose pid was
  reused by another program never gets that program killed.
State lives in the "aws" section of `local.json` (see `streamlab.local.state`).
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from streamlab.errors import ConfigError, StreamlabError
from streamlab.local import processes, state
from streamlab.local.processes import HOST

SECTION = "aws"
DEFAULT_PORT = 4566
LOG_FILE = "local-aws.log"


def url_for(port: int) -> str:
    return f"http://{HOST}:{port}"


def current(settings) -> dict:
    """{"running": bool, "url", "pid", "port", "started", "mode", "log", "stale": bool}."""
    st = state.read(settings.state_dir, SECTION)
    if not st or "port" not in st:
        return {"running": False, "stale": False}
    port = int(st["port"])
    pid = int(st.get("pid") or 0)
    running = (not pid or processes.pid_alive(pid)) and processes.port_open(HOST, port)
    return {**st, "url": st.get("url") or url_for(port), "running": running, "stale": not running}


def running_emulator_url(settings) -> Optional[str]:
    """The URL of the emulator from `streamlab local up` if it is up, else None."""
    now = current(settings)
    return url_for(int(now["port"])) if now["running"] else None


def _refuse_if_busy(settings, port: int) -> None:
    now = current(settings)
    if now["running"]:
        raise ConfigError(
            f"a local emulator is already running at {now['url']} (pid {now.get('pid')})",
            "use it with --local, or stop it with `streamlab local down`",
        )
    if now["stale"]:
        state.clear(settings.state_dir, SECTION)
    if not processes.port_free(port):
        raise ConfigError(
            f"port {port} on {HOST} is already in use",
            f"pick another with --port (e.g. --port {port + 1}) or stop what uses it",
        )


def _record(port: int, pid: int, mode: str, log: Optional[Path] = None, time_scale: Optional[float] = None) -> dict:
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
    from streamlab.local.emulator import require_moto, spawn_server

    require_moto()
    _refuse_if_busy(settings, port)
    log_path = settings.state_dir / LOG_FILE
    proc = spawn_server(port, detach=True, log=log_path, time_scale=time_scale)
    processes.wait_port(port, timeout, proc)  # kills it if it does not come up
    st = _record(port, proc.pid, "detached", log_path, time_scale)
    state.write(settings.state_dir, SECTION, st)
    return st


def serve_foreground(settings, port: int = DEFAULT_PORT, on_ready: Optional[Callable[[dict], None]] = None,
                     time_scale: Optional[float] = 1.0) -> None:
    """Serve in this process until Ctrl-C or SIGTERM; the state file is removed on the way out."""
    from streamlab.local.emulator import Emulator

    _refuse_if_busy(settings, port)
    emu = Emulator(port, in_process=True, scheduler_time_scale=time_scale).start()
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        st = _record(port, os.getpid(), "foreground", time_scale=time_scale)
        state.write(settings.state_dir, SECTION, st)
        if on_ready is not None:
            on_ready(st)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emu.stop()
        state.clear(settings.state_dir, SECTION)


def stop(settings, timeout: float = 10.0) -> dict:
    """Stop the recorded emulator. Returns {"stopped": bool, "was": state or None, "note": str}."""
    st = state.read(settings.state_dir, SECTION)
    if not st:
        return {"stopped": False, "was": None, "note": "no local emulator is running"}
    pid = int(st.get("pid") or 0)
    note = ""
    stopped = False
    if pid and processes.pid_alive(pid):
        if not processes.cmdline_mentions(pid, "streamlab"):
            note = f"pid {pid} is no longer the emulator (another program now): left alone, state cleared"
        else:
            stopped = processes.terminate(pid, timeout)
            if not stopped:
                raise StreamlabError(f"could not stop the local emulator (pid {pid})", f"stop it by hand: kill -9 {pid}")
    else:
        note = "the recorded emulator had already exited: state cleared"
    state.clear(settings.state_dir, SECTION)
    return {"stopped": stopped, "was": st, "note": note}
