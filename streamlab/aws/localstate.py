"""Where `streamlab local up` records the emulator it started (pid, port), and whether it still runs."""

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
    path.write_text(json.dumps(state, indent=2))


def clear_state(settings: Settings) -> None:
    try:
        state_path(settings).unlink()
    except FileNotFoundError:
        pass


def running_emulator_url(settings: Settings) -> Optional[str]:
    """The URL of the emulator from `streamlab local up` if it is up, else None."""
    state = read_state(settings)
    if not state or "port" not in state:
        return None
    if state.get("pid") and not pid_alive(int(state["pid"])):
        return None
    if not port_open("127.0.0.1", int(state["port"])):
        return None
    return f"http://127.0.0.1:{state['port']}"
