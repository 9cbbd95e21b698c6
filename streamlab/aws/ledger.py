"""The ledger: a JSON file listing every AWS resource streamlab created, so teardown can find them.

File: `<state_dir>/ledger.json` (`./.streamlab/` or `$STREAMLAB_HOME`). Shape:

    {"version": 1, "entries": [{"kind", "name", "arn", "region", "endpoint", "account",
                                "lab", "created", "extra"}, ...]}

Guarantees:
- Each write goes to a temporary file in the same directory, is fsynced, then renamed over the old
  one: a crash leaves either the old or the new ledger, never half of one.
- Read-modify-write happens under an advisory lock (`ledger.lock`), so two streamlab processes in
  the same directory do not drop each other's entries.
- Entries are scoped by endpoint + region (+ account when known): emulator resources and real AWS
  resources never mix, and a ledger entry is never matched against another account's resource.
Provisioning records a resource right after the create call returns, before anything else is
created, so a crash half-way leaves every created resource in the ledger.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional

from streamlab.errors import ConfigError
from streamlab.paths import HOME_HINT, cannot_write, make_dir

VERSION = 1


@dataclass(frozen=True)
class Scope:
    """Where resources live: endpoint (None = real AWS), region, and the account when known."""

    endpoint: Optional[str]
    region: str
    account: Optional[str] = None

    def matches(self, entry: "Entry") -> bool:
        if (entry.endpoint or None) != (self.endpoint or None) or entry.region != self.region:
            return False
        # An entry from another account is not ours to judge from here; unknown accounts match.
        return not (self.account and entry.account and entry.account != self.account)

    def describe(self) -> str:
        return f"region {self.region} at endpoint {self.endpoint or 'AWS'}"


@dataclass
class Entry:
    kind: str
    name: str
    region: str
    endpoint: Optional[str] = None
    arn: Optional[str] = None
    account: Optional[str] = None
    lab: str = "default"
    created: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.kind, self.name, self.endpoint or None, self.region, self.account)

    @classmethod
    def from_dict(cls, d: dict) -> "Entry":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


#: the one schema of a ledger entry: field -> allowed types; the first three are required
ENTRY_SCHEMA: dict[str, tuple[type, ...]] = {
    "kind": (str,), "name": (str,), "region": (str,),
    "endpoint": (str, type(None)), "arn": (str, type(None)), "account": (str, type(None)),
    "lab": (str,), "created": (str,), "extra": (dict,),
}
REQUIRED = ("kind", "name", "region")


def schema_problem(data: object) -> Optional[str]:
    """What is wrong with a parsed ledger, said about the first bad entry (1-based), or None.
    Fields this version does not know are allowed (a newer streamlab may add some)."""
    if not isinstance(data, dict):
        return f"is a JSON {type(data).__name__}, not an object with \"entries\""
    entries = data.get("entries", [])
    if not isinstance(entries, list):
        return f"has \"entries\" as a {type(entries).__name__}, not a list"
    for i, entry in enumerate(entries, 1):
        where = f"entry {i} of {len(entries)}"
        if not isinstance(entry, dict):
            return f"{where} is {json.dumps(entry)[:40]}, not an object"
        missing = [f for f in REQUIRED if f not in entry]
        if missing:
            return f"{where} ({_label(entry)}) has no {', '.join(missing)}"
        for name, types in ENTRY_SCHEMA.items():
            if name in entry and not isinstance(entry[name], types) or (name in REQUIRED and entry.get(name) == ""):
                return f"{where} ({_label(entry)}) has {name} {json.dumps(entry.get(name))[:40]}, not a {'non-empty ' if name in REQUIRED else ''}{types[0].__name__}"
    return None


def _label(entry: dict) -> str:
    return " ".join(f"{k} {json.dumps(entry[k])[:40]}" for k in ("kind", "name") if k in entry) or "no kind or name"


def now_iso(clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> str:
    return clock().isoformat(timespec="seconds")


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def for_settings(cls, settings) -> "Ledger":
        return cls(settings.state_dir / "ledger.json")

    # --- reading -----------------------------------------------------------------------------
    def entries(self, scope: Optional[Scope] = None, lab: Optional[str] = None) -> list[Entry]:
        out = [Entry.from_dict(d) for d in self._read().get("entries", [])]
        if scope is not None:
            out = [e for e in out if scope.matches(e)]
        if lab is not None:
            out = [e for e in out if e.lab == lab]
        return out

    def find(self, scope: Scope, kind: str, name: str) -> Optional[Entry]:
        for e in self.entries(scope):
            if e.kind == kind and e.name == name:
                return e
        return None

    # --- writing (each call is one atomic read-modify-write) ---------------------------------
    def record(self, entry: Entry) -> None:
        """Add or replace the entry for (kind, name, endpoint, region, account)."""
        if not entry.created:
            entry.created = now_iso()
        with self._locked() as data:
            rows = [d for d in data["entries"] if Entry.from_dict(d).key != entry.key]
            rows.append(asdict(entry))
            data["entries"] = rows

    def remove(self, entry: Entry) -> None:
        with self._locked() as data:
            data["entries"] = [d for d in data["entries"] if Entry.from_dict(d).key != entry.key]

    # --- file handling -----------------------------------------------------------------------
    def _read(self) -> dict:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {"version": VERSION, "entries": []}
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as exc:  # UnicodeDecodeError (binary garbage) is a ValueError too
            raise self._damaged(f"is not valid JSON ({type(exc).__name__}: {str(exc)[:80]})") from None
        problem = schema_problem(data)
        if problem is not None:
            raise self._damaged(problem)
        data.setdefault("entries", [])
        return data

    def _damaged(self, problem: str) -> ConfigError:
        """A ledger that cannot be read refuses every command that needs it (teardown included),
        so the hint says what works: fix it, or move it aside, after which teardown finds
        streamlab's resources by their tags (attachments AWS cannot tag go with their role)."""
        return ConfigError(
            f"the ledger {self.path} {problem}",
            f"fix that, or move the file aside (mv {self.path} {self.path}.bad): without a ledger "
            "`streamlab teardown` finds what streamlab created by its streamlab:created-by tags",
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        make_dir(self.path.parent, HOME_HINT)
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_file = open(lock_path, "a+")
        except OSError as exc:
            raise cannot_write(lock_path, exc, HOME_HINT) from None
        with lock_file as lock:
            try:
                import fcntl

                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - Windows: no advisory lock, still atomic writes
                pass
            data = self._read()
            data["version"] = VERSION
            yield data
            self._write(data)

    def _write(self, data: dict) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".ledger-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=2, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
