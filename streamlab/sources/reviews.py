"""Amazon-review TSV lines, sent raw, as the Kafka lab's file producer sends them.

Each record is one line of the file, unchanged (a `TextLine` without key): the 15 standard columns
marketplace, customer_id, review_id, product_id, product_parent, product_title, product_category,
star_rating, helpful_votes, total_votes, vine, verified_purchase, review_headline, review_body,
review_date, tab-separated, no quoting. The header row is skipped. Default data: the generated
sample shipped in the package (5,000 reviews, see scripts/make_reviews_sample.py); `--file` reads
your own (gzip or plain, detected by content), `--loop` starts over at the end.

Lines that do not have exactly 15 fields would break the consumer's split: they are counted
(`malformed`), never sent, and set aside with the reason in
`.streamlab/dead-letter/reviews-malformed-<time>.jsonl` (`{"reason", "line", "line_no", "time"}`,
see `streamlab.jsonl`), named at the end of the run. A review cut in two by a newline inside a
field (two fragments whose fields add up to 15) is set aside once, whole, with that reason.
Blank lines are skipped.
"""

from __future__ import annotations

import gzip
import io
import time
from pathlib import Path
from typing import IO, Iterator, Optional

import click

from streamlab import console
from streamlab.errors import ConfigError
from streamlab.jsonl import SetAside
from streamlab.records import REVIEW_COLUMNS as COLUMNS
from streamlab.records import TextLine
from streamlab.sources.base import Source

SAMPLE = "reviews_sample.tsv.gz"


def sample_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / SAMPLE


def open_text(path: Path) -> IO[str]:
    """Gzip or plain UTF-8, decided by the first two bytes rather than the file name."""
    raw = open(path, "rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", errors="replace", newline="")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


class ReviewsSource(Source):
    name = "reviews"
    summary = "Amazon-review TSV lines (15 columns, raw), from the packaged 5,000-review sample or --file."
    options = (
        click.Option(["--file", "reviews_file"], type=click.Path(dir_okay=False), default=None,
                     help="Reviews TSV to send (gzip or plain, header row skipped). [default: the packaged sample]"),
        click.Option(["--loop"], is_flag=True, default=False, help="Start over at the end of the file (until --count/--duration/Ctrl-C)."),
    )

    def __init__(self, settings, **kw):
        super().__init__(settings, **kw)
        given = self.opts.get("reviews_file")
        self.path = Path(given) if given else sample_path()
        if not self.path.is_file():
            if given:
                raise ConfigError(f"reviews file {given} does not exist", "pass --file PATH to a reviews TSV (gzip or plain), or leave it out to use the sample")
            raise ConfigError(f"the packaged reviews sample is missing ({self.path})", "reinstall streamlab, or pass --file PATH")
        self.loop = bool(self.opts.get("loop"))
        self.lines = 0
        self.malformed = 0
        self.passes = 0
        self.set_aside = SetAside(self.opts.get("malformed_file") or (
            self.settings.state_dir / "dead-letter" / f"reviews-malformed-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        ), flush_each=True, clock=self.clock)

    def records(self) -> Iterator[TextLine]:
        while not self.stopped:
            sent_this_pass = 0
            with open_text(self.path) as fh:
                self.passes += 1
                held: Optional[tuple[int, str]] = None  # a short line that may continue on the next
                for n, line in enumerate(fh):
                    if self.stopped:
                        return
                    line = line.rstrip("\r\n")
                    if not line:
                        continue
                    if n == 0 and line.split("\t", 1)[0] == "marketplace":
                        continue  # header
                    tabs = line.count("\t")
                    if held is not None:
                        held_no, held_line = held
                        held = None
                        if held_line.count("\t") + tabs == 14:
                            self._malformed(held_no, held_line + "\n" + line, "a newline inside a field split this review over 2 lines")
                            continue
                        self._malformed(held_no, held_line, f"{held_line.count(chr(9)) + 1} fields, expected 15")
                    if tabs < 14:
                        held = (n + 1, line)
                        continue
                    if tabs > 14:
                        self._malformed(n + 1, line, f"{tabs + 1} fields, expected 15")
                        continue
                    self.lines += 1
                    sent_this_pass += 1
                    yield TextLine(line, source="reviews")
                if held is not None:
                    self._malformed(held[0], held[1], f"{held[1].count(chr(9)) + 1} fields, expected 15")
            if not self.loop or sent_this_pass == 0:
                return

    def _malformed(self, line_no: int, text: str, reason: str) -> None:
        self.malformed += 1
        if self.passes == 1:  # a looping run sees the same bad lines again: keep them once
            self.set_aside.add(reason, line=text, line_no=line_no)

    def close(self) -> None:
        self.set_aside.close()
        if self.set_aside.count:
            console.warn(f"{self.set_aside.count:,} malformed review lines set aside in {self.set_aside.path}")

    def counters(self) -> dict[str, int]:
        out = {"lines": self.lines}
        if self.malformed:
            out["malformed"] = self.malformed
        if self.loop:
            out["passes"] = self.passes
        return out

    def describe(self) -> str:
        where = "the packaged sample" if self.path == sample_path() else str(self.path)
        return f"reviews from {where}" + (" (looping)" if self.loop else "")
