"""Captures: every text frame a live feed received, with its receive time, for `produce replay`.

Format (JSON lines, gzip when the name ends in .gz):

    {"streamlab_capture": 1, "source": "binance", "started": 1764000000.123, "endpoint": "wss://..."}
    {"t": 1764000000.456, "frame": "{\"stream\":\"btcusdt@trade\",\"data\":{...}}"}
    ...

`t` is the receive time in seconds (the same clock reading that became the live records'
`ingest_time`), so a replay through the same parser reproduces the live records exactly. The
endpoint is stored masked (no token). The file is flushed about once a second, so a crash loses at
most the last second (a gzip file cut short still decompresses up to its last flush).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from streamlab.errors import ConfigError
from streamlab.jsonl import JsonLinesFile

FORMAT_VERSION = 1


def _open(path: Path, mode: str):
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


class CaptureWriter:
    """Writes a capture afresh (an existing file is replaced), created 0600 (see `streamlab.jsonl`)."""

    def __init__(self, path: Union[str, Path], source: str, clock: Callable[[], float], *, endpoint: Optional[str] = None):
        self.file = JsonLinesFile(path, truncate=True).open()
        self.path = self.file.path
        self.clock = clock
        self.count = 0
        header = {"streamlab_capture": FORMAT_VERSION, "source": source, "started": clock()}
        if endpoint:
            header["endpoint"] = endpoint
        self.file.write(header)
        self._flushed_at = clock()

    def write(self, t: float, frame: str) -> None:
        self.file.write({"t": t, "frame": frame})
        self.count += 1
        if t - self._flushed_at >= 1.0:
            self.file.flush()
            self._flushed_at = t

    def close(self) -> None:
        self.file.close()


class Capture:
    """A capture file opened for reading: `.source`, `.header`, and `frames()` -> (t, text)."""

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        if not self.path.is_file():
            raise ConfigError(f"no capture file at {self.path}", "record one with `streamlab produce binance --record FILE`, or use examples/captures/")
        try:
            with _open(self.path, "r") as fh:
                first = fh.readline()
            self.header = json.loads(first)
        except (OSError, EOFError, UnicodeDecodeError, ValueError):
            self.header = None
        if not isinstance(self.header, dict) or "streamlab_capture" not in self.header or "source" not in self.header:
            raise ConfigError(f"{self.path} is not a streamlab capture (no header line)", "record one with --record FILE on a live source")
        self.source = str(self.header["source"])

    def frames(self) -> Iterator[tuple[float, str]]:
        """(receive time, frame text); a damaged line or a cut-short gzip tail ends the capture."""
        with _open(self.path, "r") as fh:
            fh.readline()
            try:
                for line in fh:
                    try:
                        obj = json.loads(line)
                        yield float(obj["t"]), obj["frame"]
                    except (ValueError, KeyError, TypeError):
                        continue
            except (EOFError, OSError):
                return  # a capture whose writer was killed: keep what was flushed
