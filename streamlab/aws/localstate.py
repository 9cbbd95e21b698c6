"""Where `streamlab local up` records the local services it started, and whether they still run.

State file `<state_dir>/local.json`, one section per service so more can join (a Kafka broker later):

    {"aws": {"pid": 1234, "port": 4566, "url": "http://127.0.0.1:4566", "started": "...",
             "mode": "detached", "log": ".../local-aws.log"}}

Writes are atomic (temp file + rename). Files from before the sections existed (top-level
"port"/"pid") are still read as the "aws" section.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Optional

from streamlab.settings import Settings


def state_path(settings: Settings) -> Path:
    return settings.state_dir / "local.json"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def read_state(settings: Settings) -> Optional[dict]:
    try:
        return json.loads(state_path(settings).read_text())
    except (OSError, ValueError):
        return None


def write_state(settings: Settings, state: dict) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def read_section(settings: Settings, name: str) -> Optional[dict]:
    state = read_state(settings) or {}
    if name == "aws" and "aws" not in state and "port" in state:
        return state  # the flat layout written before sections existed
    section = state.get(name)
    return section if isinstance(section, dict) else None


def write_section(settings: Settings, name: str, data: dict) -> None:
    state = read_state(settings) or {}
    if "port" in state and "aws" not in state:
        state = {"aws": state}
    state[name] = data
    write_state(settings, state)


def clear_section(settings: Settings, name: str) -> None:
    """Forget one service; the file goes away with the last one."""
    state = read_state(settings) or {}
    if "port" in state and "aws" not in state:
        state = {"aws": state}
    state.pop(name, None)
    if state:
        write_state(settings, state)
    else:
        clear_state(settings)


def clear_state(settings: Settings) -> None:
    try:
        state_path(settings).unlink()
    except FileNotFoundError:
        pass


def running_emulator_url(settings: Settings) -> Optional[str]:
    """The URL of the emulator from `streamlab local up` if it is up, else None."""
    state = read_section(settings, "aws")
    if not state or "port" not in state:
        return None
    if state.get("pid") and not pid_alive(int(state["pid"])):
        return None
    if not port_open("127.0.0.1", int(state["port"])):
        return None
    return f"http://127.0.0.1:{state['port']}"
