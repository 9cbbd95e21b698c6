"""The local AWS emulator: moto in server mode, on 127.0.0.1 only.

`Emulator` runs it either in a thread of this process (tests, quick scripts) or as a child process
(`streamlab local up`, the demo: keeps the GIL free for Spark and the producer). Managed IAM policies
are loaded (MOTO_IAM_LOAD_MANAGED_POLICIES=true) so `provision iam` can attach AWS's own policies.

Run as a module (`python -m streamlab.local.emulator --port N`) it serves until SIGTERM/Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

from streamlab.errors import MissingDependency
from streamlab.local.processes import HOST, free_port, spawn, stop_child, wait_port

MODULE = "streamlab.local.emulator"
START_TIMEOUT_S = 20.0


def require_moto() -> None:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        raise MissingDependency.extra("moto (the local AWS emulator)", "local") from None


def emulator_env() -> dict:
    return dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")


def spawn_server(port: int, *, detach: bool, log: Optional[Path] = None, quiet: bool = True,
                 time_scale: Optional[float] = None) -> subprocess.Popen:
    """`python -m streamlab.local.emulator` as a child. Not detached, it is told our pid and exits
    when we are gone (a test run or demo killed hard must not leave an emulator behind)."""
    cmd = [sys.executable, "-m", MODULE, "--port", str(port)]
    if not detach:
        cmd += ["--parent", str(os.getpid())]
    if time_scale:
        cmd += ["--time-scale", f"{time_scale:g}"]
    return spawn(cmd, log=log, detach=detach, quiet=quiet, env=emulator_env())


class Emulator:
    def __init__(self, port: int = 0, *, in_process: bool = False, quiet: bool = True,
                 scheduler_time_scale: Optional[float] = None):
        self.port = port or free_port()
        self.in_process = in_process
        self.quiet = quiet
        #: run the local Lambda scheduler (streamlab.local.scheduler) at this time scale; None = off
        self.scheduler_time_scale = scheduler_time_scale
        self._scheduler = None
        self.proc: Optional[subprocess.Popen] = None
        self._server = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, detach: bool = False) -> "Emulator":
        require_moto()
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        if self.in_process:
            from streamlab.local.local_api import StreamlabMotoServer

            self._server = StreamlabMotoServer(ip_address=HOST, port=self.port, verbose=False)
            self._server.start()
            if self.scheduler_time_scale:
                from streamlab.local.scheduler import Scheduler

                self._scheduler = Scheduler(self.url, time_scale=self.scheduler_time_scale).start()
        else:
            self.proc = spawn_server(self.port, detach=detach, quiet=self.quiet, time_scale=self.scheduler_time_scale)
        wait_port(self.port, START_TIMEOUT_S, self.proc)
        return self

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.proc is not None:
            stop_child(self.proc, timeout=10)
        self.proc = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(port: int, parent: Optional[int] = None, time_scale: Optional[float] = None) -> None:
    """Serve in the foreground until SIGTERM or Ctrl-C (or, with `parent`, until that process is gone).
    With `time_scale`, the local Lambda scheduler runs in this process too (it reads the deployed
    code from the emulator's memory)."""
    require_moto()
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from streamlab.local.local_api import StreamlabMotoServer

    server = StreamlabMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    scheduler = None
    if time_scale:
        from streamlab.local.scheduler import Scheduler

        scheduler = Scheduler(f"http://{HOST}:{port}", time_scale=time_scale, say=lambda line: print(line, flush=True)).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(1.0):
            if parent is not None and os.getppid() != parent:
                break  # our parent died without stopping us
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.stop()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="streamlab's local AWS emulator (moto server on 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--parent", type=int, default=None, help="exit when this parent process is gone")
    parser.add_argument("--time-scale", type=float, default=None, help="run the local Lambda scheduler, time sped up this much")
    args = parser.parse_args()
    serve(args.port, args.parent, args.time_scale)
