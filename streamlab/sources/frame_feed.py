"""Frames to records: the part of a live feed that does not care where the frames come from.

`FrameFeed.handle(text, ingest_ms)` runs a provider's `parse()` over one text frame and keeps the
books: frames, records, in-band errors (each distinct one shown once), malformed frames (counted and
set aside in a JSON-lines file, see `streamlab.jsonl`; they never stop the stream). The live
websocket sources (`websocket_base.WebSocketSource`) and `replay` both call it, so a replay of a
capture reproduces the live run exactly.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

from streamlab import console
from streamlab.errors import ConfigError
from streamlab.jsonl import SetAside
from streamlab.records import Record
from streamlab.sources.base import Source


class Malformed(Exception):
    """A frame that cannot be parsed; counted and set aside."""


class FeedError(Exception):
    """The provider reported an error in-band (e.g. Finnhub's invalid symbol); shown and counted."""


class Reconnect(Exception):
    """The provider asked us to reconnect (e.g. Binance `serverShutdown`)."""


class FrameFeed(Source):
    """Turns text frames into records: shared by the live websocket sources and `replay`."""

    #: provider-level in-band control frames are handled by parse(); these are the counters shown
    def __init__(self, settings, **kw):
        super().__init__(settings, **kw)
        self.raw = bool(self.opts.get("raw"))
        self.n_frames = 0
        self.n_records = 0
        self.n_reconnects = 0
        self.n_malformed = 0
        self.n_errors = 0
        #: set by `replay`: an error frame is then one the capture recorded (the shipped captures hold
        #: one on purpose), shown as a note and counted as `recorded provider errors`, not a warning
        self.replaying = False
        self._shown_errors: set[str] = set()
        self._malformed: Optional[SetAside] = None
        #: where malformed frames go (created on the first one)
        self.malformed_path = Path(self.opts.get("malformed_file") or (
            self.settings.state_dir / "dead-letter" / f"{self.name}-malformed-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        ))

    # -- the provider-specific part -------------------------------------------------------------
    def parse(self, text: str, ingest_ms: int) -> list[Record]:
        """Records in one text frame ([] for heartbeats). Raise Malformed, FeedError or Reconnect."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------
    def handle(self, text: str, ingest_ms: int) -> list[Record]:
        """parse() plus the bookkeeping; Reconnect propagates, everything else is absorbed."""
        self.n_frames += 1
        try:
            out = self.parse(text, ingest_ms)
        except Malformed as exc:
            self.set_aside(text, str(exc))
            return []
        except FeedError as exc:
            self.n_errors += 1
            msg = str(exc)
            if msg not in self._shown_errors:  # show each distinct error once, count all
                self._shown_errors.add(msg)
                if self.replaying:
                    console.info(f"{self.name} error frame recorded in the capture, replayed as recorded: {msg}")
                else:
                    console.warn(f"{self.name} says: {msg}")
            return []
        self.n_records += len(out)
        return out

    def set_aside(self, text: str, reason: str) -> None:
        """Keep a frame that could not become records: `{"reason", "frame", "time"}` per line."""
        self.n_malformed += 1
        if self._malformed is None:
            self._malformed = SetAside(self.malformed_path, flush_each=True, clock=self.clock)
        self._malformed.add(reason, frame=text)

    def counters(self) -> dict[str, int]:
        out = {
            "frames": self.n_frames,
            "records": self.n_records,
            "reconnects": self.n_reconnects,
            "malformed": self.n_malformed,
        }
        if self.n_errors:
            out["recorded provider errors" if self.replaying else "errors"] = self.n_errors
        return out

    def close(self) -> None:
        if self._malformed is not None:
            self._malformed.close()
            self._malformed = None
            console.warn(f"{self.n_malformed:,} malformed frames set aside in {self.malformed_path}")


def split_symbols(text: Optional[str], *, lower: bool = False, default: str) -> list[str]:
    """`A, B,,c` -> ['A', 'B', 'c'] (order kept, duplicates dropped); ConfigError when empty."""
    items = []
    for part in (text if text is not None else default).split(","):
        part = part.strip()
        if lower:
            part = part.lower()
        if part and part not in items:
            items.append(part)
    if not items:
        raise ConfigError("--symbols is empty", f"give at least one symbol, e.g. --symbols {default}")
    return items


_scan = json.JSONDecoder().scan_once  # the C scanner json.loads ends in


def loads(text: str) -> Any:
    """json.loads that raises Malformed.

    A frame that is one JSON value with nothing around it (every frame a provider sends) is scanned
    directly: json.loads adds two whitespace regex matches and three Python calls, ~40 % of its
    cost on a 200-byte trade. Anything else (surrounding whitespace, extra data, errors) goes
    through json.loads itself, so what is accepted and the error messages stay json.loads'."""
    try:
        obj, end = _scan(text, 0)
        if end == len(text):
            return obj
    except (StopIteration, ValueError):
        pass
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Malformed(f"not JSON: {exc}") from None
