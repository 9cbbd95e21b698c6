"""Folders streamlab writes into, made in one place so a folder that cannot be made is one line.

`make_dir(path, hint)` creates `path` (and its parents) or raises ConfigError saying which folder
and why, with `hint` as the fix: a bad STREAMLAB_HOME, an output path under a file or in a
read-only place fail before anything starts, never as an unexpected OSError.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Union

from streamlab.errors import ConfigError

#: the fix for a state folder (ledger, local.json, dead letters, logs) that cannot be written
HOME_HINT = "set STREAMLAB_HOME to a folder you can write to (default: ./.streamlab)"
PATH_HINT = "choose a path in a folder you can write to"


def describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def make_dir(path: Union[str, Path], hint: str = PATH_HINT) -> Path:
    """`path` as a folder that exists (made with its parents); ConfigError when it cannot be."""
    p = Path(path)
    clash = next((a for a in (p, *p.parents) if a.exists() and not a.is_dir()), None)
    if clash is not None:
        raise ConfigError(f"cannot create folder {p}: {clash} is a file", hint)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create folder {p}: {describe(exc)}", hint) from None
    return p


def cannot_write(path: Union[str, Path], exc: OSError, hint: str = PATH_HINT) -> ConfigError:
    """The one line for a file that could not be opened for writing."""
    return ConfigError(f"cannot write {path}: {describe(exc)}", hint)


def check_writable_dir(path: Union[str, Path], flag: str) -> None:
    """Raise ConfigError (naming `flag`) unless files can be made in folder `path`. Leaves the
    file system as it found it: folders it had to make for the probe are removed again."""
    p = Path(path)
    hint = f"give {flag} a folder you can write to"
    missing = [a for a in (p, *p.parents) if not a.exists()]
    existing = p.parents[len(missing) - 1] if missing else p
    if not existing.is_dir():
        raise ConfigError(f"{flag} {p}: {existing} is a file, not a folder", hint)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".streamlab-probe-", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"cannot write in {flag} {p}: {describe(exc)}", hint) from None
    finally:
        for made in missing:  # deepest first; Spark makes them again when it writes
            with contextlib.suppress(OSError):
                made.rmdir()
