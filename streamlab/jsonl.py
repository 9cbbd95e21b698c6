"""The one writer of JSON-lines files that hold record payloads: dead letters, set-aside frames, captures.

`JsonLinesFile` opens a file for JSON lines (gzip when the name ends in `.gz`), creating its
folder, and creating the file itself with mode 0600: like the ledger, these files carry what the
records carried (trades, reviews, a feed's frames), which is nobody else's to read on a shared
machine. A file appended to keeps its mode (someone chose it); one written afresh becomes 0600. `check()` answers, before a run starts,
whether the file could be written, so a bad path fails in the first second rather than after
an hour of producing (and without leaving an empty file behind).

`SetAside` is the lazy kind used for records that could not go where they were meant to: nothing
is created until the first record is set aside, and each line says why:

    {"reason": "ProvisionedThroughputExceededException", ...fields of the caller..., "time": 1764000000.1}

`reason` comes first and `time` (seconds since the epoch) last; the fields between are the caller's
(`sinks.base.DeadLetter`: message, key, data; a live feed's malformed frames: frame).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import time
from pathlib import Path
from typing import IO, Any, Callable, Optional, Union

from streamlab.paths import cannot_write, make_dir
from streamlab.redact import scrub_obj

FILE_MODE = 0o600


class JsonLinesFile:
    """JSON lines appended (or, with `truncate=True`, written afresh) to `path`, created 0600."""

    def __init__(self, path: Union[str, Path], *, truncate: bool = False):
        self.path = Path(path)
        self.truncate = truncate
        self._fh: Optional[IO[str]] = None
        self._raw: Optional[IO[bytes]] = None

    def check(self) -> None:
        """Raise ConfigError (one line, with the fix) when the file could not be written; create nothing."""
        existed = self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise cannot_write(self.path, exc) from None
        os.close(fd)
        if not existed:
            self.path.unlink(missing_ok=True)

    def open(self) -> "JsonLinesFile":
        if self._fh is None:
            make_dir(self.path.parent)
            flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if self.truncate else os.O_APPEND)
            try:
                fd = os.open(self.path, flags, FILE_MODE)
            except OSError as exc:
                raise cannot_write(self.path, exc) from None
            if self.truncate:
                os.fchmod(fd, FILE_MODE)  # all-new content: as private as a new file
            self._raw = os.fdopen(fd, "wb")
            stream: IO[bytes] = self._raw
            if self.path.suffix == ".gz":
                # GzipFile does not close a file object it was given: close() closes both
                stream = gzip.GzipFile(filename=self.path.stem, fileobj=self._raw, mode="wb")  # type: ignore[assignment]
            self._fh = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        return self

    @property
    def is_open(self) -> bool:
        return self._fh is not None

    def write(self, obj: Any) -> None:
        if self._fh is None:
            self.open()
        # no configured secret (nor a token= value) reaches a file: see streamlab.redact
        self._fh.write(json.dumps(scrub_obj(obj)) + "\n")  # type: ignore[union-attr]

    def flush(self) -> None:
        """Push what was written to the OS. For gzip this is a sync flush: a reader decompresses
        up to here even if the writer is killed before close() writes the trailer."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()  # a gzip stream writes its trailer here
            finally:
                self._raw.close()


class SetAside:
    """Records set aside with a reason, one JSON line each; the file is created on first use.

    `flush_each`: push every line to the OS at once (a live feed's malformed frames are rare and
    worth keeping if the process dies); the dead-letter file of a sink is flushed at close().
    """

    def __init__(self, path: Union[str, Path], *, flush_each: bool = False, clock: Callable[[], float] = time.time):
        self.file = JsonLinesFile(path)
        self.flush_each = flush_each
        self.clock = clock
        self.count = 0

    @property
    def path(self) -> Path:
        return self.file.path

    def check(self) -> None:
        """Before a run: raise ConfigError if the file could not be written (nothing is created)."""
        self.file.check()

    def add(self, reason: str, **fields: Any) -> None:
        self.file.write({"reason": reason, **fields, "time": self.clock()})
        self.count += 1
        if self.flush_each:
            self.file.flush()

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()
