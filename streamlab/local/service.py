"""What the local servers run as child processes share (the Kafka broker, the Redis server): the
record of one (`ServiceInfo`, a section of `local.json`), the handle of one this process started
(`LocalService`), and the checks before signalling a recorded pid (`is_ours`: alive and its command
line still names the program, so a pid the system gave to another program is never signalled).
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional, TypeVar

from streamlab.local import processes, state
from streamlab.local.processes import HOST

Info = TypeVar("Info", bound="ServiceInfo")


@dataclass
class ServiceInfo:
    """What is needed to find, check and stop a server, also from another process."""

    port: int
    pid: int
    binary: str = ""
    log: Optional[str] = None
    started_at: float = 0.0

    #: a word the server's command line contains (checked before its recorded pid is signalled)
    WORD = ""

    @property
    def address(self) -> str:
        """Where clients connect (what `local down` names)."""
        return f"{HOST}:{self.port}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls: type[Info], data: dict) -> Info:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def is_ours(info: ServiceInfo) -> bool:
    return processes.pid_alive(info.pid) and processes.cmdline_mentions(info.pid, info.WORD)


def status(info: Optional[ServiceInfo]) -> str:
    """'running' when the recorded process is alive, is ours and its port answers, else 'stopped'."""
    if info is None:
        return "stopped"
    return "running" if is_ours(info) and processes.port_open(HOST, info.port, timeout=0.2) else "stopped"


def stop(info: ServiceInfo, section: str, *, timeout: float = 3.0, proc: Optional[subprocess.Popen] = None,
         state_dir: Optional[Path] = None) -> bool:
    """SIGTERM, then SIGKILL after `timeout` (0: at once); True if it was running. With
    `state_dir`, its section of local.json is cleared too."""
    if proc is not None:
        was_running = processes.stop_child(proc, timeout)
    else:
        was_running = is_ours(info)
        if was_running:
            processes.terminate(info.pid, timeout)
    if state_dir is not None:
        state.clear(Path(state_dir), section)
    return was_running


def load(state_dir: Path, section: str, cls: type[Info]) -> Optional[Info]:
    data = state.read(Path(state_dir), section)
    try:
        return cls.from_dict(data) if data else None
    except (TypeError, KeyError):
        return None


def running(state_dir: Path, section: str, cls: type[Info]) -> Optional[Info]:
    """The recorded server if it still runs, else None."""
    info = load(state_dir, section, cls)
    return info if info is not None and status(info) == "running" else None


class LocalService:
    """A running server started by this process (the handle a test fixture keeps)."""

    SECTION = ""

    def __init__(self, info: ServiceInfo, proc: subprocess.Popen):
        self.info, self.proc = info, proc

    @property
    def port(self) -> int:
        return self.info.port

    def stop(self, timeout: float = 3.0) -> None:
        stop(self.info, self.SECTION, timeout=timeout, proc=self.proc)

    def kill(self) -> None:
        """Stop at once, like a crash (tests: a server vanishing mid-run)."""
        stop(self.info, self.SECTION, timeout=0, proc=self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
