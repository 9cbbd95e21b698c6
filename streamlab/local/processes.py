"""Ports and processes of the local services: written once, used by every service module.

Everything binds and probes 127.0.0.1 (`HOST`) only. Pid checks are zombie-aware (a detached child
nobody has reaped yet counts as gone), and `cmdline_mentions` guards against a pid that the system
has since given to another program, so a stale state file never gets that program killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional, Sequence

from streamlab.errors import ConnectionFailed
from streamlab.paths import HOME_HINT, make_dir

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """Something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int, host: str = HOST) -> bool:
    """Nothing is bound to host:port (stricter than `not port_open`: a bound, silent socket counts)."""
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pid_alive(pid: int) -> bool:
    """The process exists and is not a zombie. A process of another user counts as alive."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return "Z" not in line.split()[1]
    except OSError:
        pass  # no /proc (macOS): signal 0 is all we know
    return True


def cmdline_mentions(pid: int, word: str) -> bool:
    """The command line of `pid` contains `word`. Without /proc (macOS) the caller's record is trusted."""
    if not Path("/proc/self").exists():
        return True
    try:
        return word.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False  # gone meanwhile, or not ours to read


def _reap(pid: int) -> None:
    try:  # a child of ours stays a zombie until waited for
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def terminate(pid: int, timeout: float = 10.0, kill_after: float = 5.0) -> bool:
    """SIGTERM, then SIGKILL if still there after `timeout`; True once the process is gone."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, kill_after)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not pid_alive(pid):
                return True
            time.sleep(0.05)
    return not pid_alive(pid)


def stop_child(proc: subprocess.Popen, timeout: float = 10.0) -> bool:
    """Stop a child this process started (timeout 0: kill at once, like a crash); True if it ran."""
    if proc.poll() is not None:
        return False
    if timeout > 0:
        proc.terminate()
    else:
        proc.kill()
    try:
        proc.wait(timeout=timeout if timeout > 0 else 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return True


def spawn(
    cmd: Sequence[str],
    *,
    log: Optional[Path] = None,
    detach: bool = False,
    quiet: bool = True,
    env: Optional[dict] = None,
) -> subprocess.Popen:
    """Start `cmd` with stdin closed and output appended to `log` (else discarded, or inherited
    when not `quiet`). `detach` gives it its own session: Ctrl-C in, or closing of, this terminal
    does not reach it, so it outlives the command that started it."""
    if log is not None:
        make_dir(log.parent, HOME_HINT)
        out = open(log, "ab")
    else:
        out = subprocess.DEVNULL if quiet else None
    try:
        return subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if log is not None else out,
            env=env,
            start_new_session=detach,
            close_fds=True,
        )
    finally:
        if log is not None:
            out.close()  # the child holds its own copy


def log_tail(path: Optional[str], lines: int = 3) -> str:
    """The last lines of a log, joined on one line (for a one-line error)."""
    if not path:
        return ""
    try:
        text = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def wait_port(
    port: int,
    timeout: float,
    proc: Optional[subprocess.Popen] = None,
    *,
    what: str = "the local emulator",
    retry: str = "try another --port",
    log: Optional[str] = None,
) -> None:
    """Return once 127.0.0.1:`port` accepts connections. Raises ConnectionFailed (naming `what`)
    if `proc` exits first (with the tail of `log`), or after `timeout`; then `proc` is killed so a
    half-started service never lingers."""
    deadline = time.monotonic() + timeout
    while not port_open(HOST, port, timeout=0.2):
        if proc is not None and proc.poll() is not None:
            tail = log_tail(log)
            raise ConnectionFailed(
                f"{what} exited at start (code {proc.returncode})" + (f": {tail}" if tail else ""),
                f"is port {port} already in use? {retry}",
            )
        if time.monotonic() > deadline:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            raise ConnectionFailed(f"{what} did not open port {port} within {timeout:.0f}s", retry)
        time.sleep(0.05)
