"""The one record of the local services that `streamlab local up` started: `<state_dir>/local.json`.

One section per service, so more can join (a Redis server, a scheduler) without a file each:

    {"aws":   {"pid": 1234, "port": 4566, "url": "http://127.0.0.1:4566", "mode": "detached", ...},
     "kafka": {"pid": 1240, "port": 9092, "binary": ".../tansu", "log": ".../kafka.log", ...}}

Guarantees: writes are atomic (a temp file renamed over the old one: a reader sees the old or the
new file, never half of one), the file is mode 0600 (it names pids and log paths of this user), a
read-modify-write holds a lock so two commands updating different sections lose neither, and the
file goes away with its last section.
Compatibility: a file from before the sections (top-level "port"/"pid") is read as the "aws"
section, and an old `<state_dir>/kafka.json` as the "kafka" section; the next write folds both
into the sectioned layout and removes `kafka.json`.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator, Optional

from streamlab.paths import HOME_HINT, make_dir

FILE = "local.json"
LEGACY_KAFKA_FILE = "kafka.json"  # written by streamlab before the kafka section existed


def state_path(state_dir: Path) -> Path:
    return Path(state_dir) / FILE


def _read_json(path: Path) -> Optional[dict]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def read_all(state_dir: Path) -> dict:
    """Every recorded section ({} when nothing is recorded), old layouts folded in."""
    doc = _read_json(state_path(state_dir)) or {}
    if "port" in doc and "aws" not in doc:
        doc = {"aws": doc}  # the flat layout written before sections existed
    if "kafka" not in doc:
        legacy = _read_json(Path(state_dir) / LEGACY_KAFKA_FILE)
        if legacy:
            doc["kafka"] = legacy
    return {k: v for k, v in doc.items() if isinstance(v, dict)}


def read(state_dir: Path, name: str) -> Optional[dict]:
    """One service's section, or None."""
    return read_all(state_dir).get(name)


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; writes are still atomic
        yield
        return
    fd = os.open(state_dir, os.O_RDONLY)  # the directory itself: no lock file left behind
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _replace(state_dir: Path, doc: dict) -> None:
    path = state_path(state_dir)
    if doc:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # O_CREAT's mode only applies to a new file (a stale temp file): before a byte is written
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(doc, indent=2))
        os.replace(tmp, path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    with contextlib.suppress(FileNotFoundError):  # folded into local.json (or cleared) by now
        (Path(state_dir) / LEGACY_KAFKA_FILE).unlink()


def write(state_dir: Path, name: str, data: dict) -> None:
    """Record (or replace) one service's section; the other sections are kept."""
    make_dir(state_dir, HOME_HINT)
    with _locked(state_dir):
        doc = read_all(state_dir)
        doc[name] = data
        _replace(state_dir, doc)


def clear(state_dir: Path, name: str) -> None:
    """Forget one service; the file goes away with the last one. Nothing recorded is fine."""
    if not Path(state_dir).is_dir():
        return
    with _locked(state_dir):
        doc = read_all(state_dir)
        doc.pop(name, None)
        _replace(state_dir, doc)
