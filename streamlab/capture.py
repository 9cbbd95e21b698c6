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
import zlib
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from streamlab.errors import ConfigError
from streamlab.jsonl import JsonLinesFile

FORMAT_VERSION = 1


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


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
            # bytes, decoded line by line: a text reader decodes a whole buffer at once, and a bad
            # byte further down must not make the header unreadable
            with _open_bytes(self.path) as fh:
                first = fh.readline()
            self.header = json.loads(first.decode("utf-8"))
        except (OSError, EOFError, UnicodeDecodeError, ValueError):
            self.header = None
        if not isinstance(self.header, dict) or "streamlab_capture" not in self.header or "source" not in self.header:
            raise ConfigError(f"{self.path} is not a streamlab capture (no header line)", "record one with --record FILE on a live source")
        self.source = str(self.header["source"])

    def frames(self, on_unreadable: Optional[Callable[[str, str], None]] = None) -> Iterator[tuple[float, str]]:
        """(receive time, frame text) for every readable line.

        A line that is not UTF-8 or not a capture line is passed to `on_unreadable(text, reason)`
        and counted in `unreadable`; a gzip stream cut short or failing its CRC ends the capture
        with `damage` saying where. Either way everything readable was yielded first.
        """
        self.unreadable = 0
        self.damage: Optional[str] = None
        n = 1
        with _open_bytes(self.path) as fh:
            fh.readline()
            try:
                for n, raw in enumerate(fh, start=2):
                    try:
                        obj = json.loads(raw.decode("utf-8"))
                        t, frame = float(obj["t"]), obj["frame"]
                        if not isinstance(frame, str):
                            raise TypeError("frame is not text")
                    except UnicodeDecodeError:
                        self._unreadable(on_unreadable, raw, f"line {n}: invalid UTF-8")
                        continue
                    except (ValueError, KeyError, TypeError) as exc:
                        self._unreadable(on_unreadable, raw, f"line {n}: not a capture line ({type(exc).__name__})")
                        continue
                    yield t, frame
            except (EOFError, OSError, zlib.error) as exc:
                # a capture whose writer was killed (cut short), or a corrupt one: keep what was read
                self.damage = f"unreadable after line {n} ({type(exc).__name__}: {exc})"

    def _unreadable(self, on_unreadable, raw: bytes, reason: str) -> None:
        self.unreadable += 1
        if on_unreadable is not None:
            on_unreadable(raw.decode("utf-8", "backslashreplace").rstrip("\n"), reason)
