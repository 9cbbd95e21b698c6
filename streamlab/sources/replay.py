"""Play a capture back through the parser of the feed that recorded it.

A capture (`--record FILE` on finnhub/binance, or the samples in `examples/captures/`) holds every
text frame with its receive time. Replay hands each frame to the same `handle()` the live source
uses, with the recorded receive time as `ingest_time`, so it yields exactly the records the live run
yielded (heartbeats, error frames and malformed frames are handled and counted the same way; a
recorded `serverShutdown` is counted as a reconnect). Pacing: the recorded gaps (`--speed 1`),
N times faster (`--speed 10`), or no waiting at all (`--speed max`). No network, no API key.
"""

from __future__ import annotations

import time
from typing import Iterator, Optional

import click

from streamlab.capture import Capture
from streamlab.errors import ConfigError, DamagedInput
from streamlab.records import Record
from streamlab.sources.base import Source


def parse_speed(text: Optional[str]) -> Optional[float]:
    """'max' -> None (no pacing); a positive number -> that factor."""
    if text is None or str(text).strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = 0.0
    if not speed > 0 or speed == float("inf"):
        raise ConfigError(f"bad --speed {text!r}", "give a positive number (1 = as recorded, 10 = ten times faster) or max")
    return speed


class ReplaySource(Source):
    name = "replay"
    summary = "Replay a recorded feed capture (examples/captures/*.jsonl.gz or --record FILE) through the same parser, offline."
    options = (
        click.Argument(["capture"], type=click.Path(dir_okay=False)),
        click.Option(["--speed"], default="1", show_default=True, help="1 = the recorded pacing, N = N times faster, max = as fast as possible."),
        click.Option(["--raw"], is_flag=True, help="Forward the provider's own JSON payload unchanged instead of the canonical trade record."),
    )

    def __init__(self, settings, **kw):
        super().__init__(settings, **kw)
        self.capture = Capture(self.opts["capture"])
        self.speed = parse_speed(self.opts.get("speed"))
        from streamlab.sources import SOURCES  # late: the registry imports this module
        from streamlab.sources.frame_feed import FrameFeed

        cls = SOURCES.get(self.capture.source)
        if cls is None or not issubclass(cls, FrameFeed):
            raise ConfigError(f"{self.capture.path} was recorded from {self.capture.source!r}, which replay cannot parse",
                              "replay captures of: " + ", ".join(n for n, c in SOURCES.items() if issubclass(c, FrameFeed)))
        self.feed = cls(settings, for_replay=True, raw=bool(self.opts.get("raw")), clock=self.clock)
        self.feed.replaying = True

    def records(self) -> Iterator[Record]:
        from streamlab.sources.frame_feed import Reconnect

        handle, speed = self.feed.handle, self.speed
        first: Optional[float] = None
        started = time.monotonic()
        for t, text in self.capture.frames(self.feed.set_aside):
            if self.stopped:
                return
            if speed is not None:
                if first is None:
                    first = t
                delay = started + (t - first) / speed - time.monotonic()
                if delay > 0 and self.wait(delay):
                    return
            try:
                out = handle(text, int(t * 1000))
            except Reconnect:
                self.feed.n_reconnects += 1
                continue
            yield from out
        self._damaged()

    def _damaged(self) -> None:
        """After sending what was readable: a damaged capture is an error a script must see."""
        cap = self.capture
        if cap.damage is None and not cap.unreadable:
            return
        what = "; ".join(x for x in (cap.damage, f"{cap.unreadable:,} unreadable lines set aside in {self.feed.malformed_path}" if cap.unreadable else None) if x)
        raise DamagedInput(f"capture {cap.path} is damaged: {what}", "the readable frames were sent; re-record it, or replay the records you have")

    def counters(self) -> dict[str, int]:
        return self.feed.counters()

    def close(self) -> None:
        self.feed.close()

    def describe(self) -> str:
        pace = "as fast as possible" if self.speed is None else ("at the recorded pace" if self.speed == 1 else f"{self.speed:g}x faster")
        return f"replay of a {self.capture.source} capture {self.capture.path} {pace}"
