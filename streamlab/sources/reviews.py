"""Amazon-review TSV lines, sent raw, as the Kafka lab's file producer sends them.

Each record is one line of the file, unchanged (a `TextLine` without key): the 15 standard columns
marketplace, customer_id, review_id, product_id, product_parent, product_title, product_category,
star_rating, helpful_votes, total_votes, vine, verified_purchase, review_headline, review_body,
review_date, tab-separated, no quoting. The header row is skipped. Default data: the generated
sample shipped in the package (5,000 reviews, see scripts/make_reviews_sample.py); `--file` reads
your own (gzip or plain, detected by content), `--loop` starts over at the end.

Lines that do not have exactly 15 fields would break the consumer's split: they are counted
(`malformed`) and set aside, never sent. Blank lines are skipped.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO, Iterator, Optional

import click

from streamlab.errors import ConfigError
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

    def records(self) -> Iterator[TextLine]:
        while not self.stopped:
            sent_this_pass = 0
            with open_text(self.path) as fh:
                self.passes += 1
                for n, line in enumerate(fh):
                    if self.stopped:
                        return
                    line = line.rstrip("\r\n")
                    if not line:
                        continue
                    if n == 0 and line.split("\t", 1)[0] == "marketplace":
                        continue  # header
                    if line.count("\t") != 14:
                        self.malformed += 1
                        continue
                    self.lines += 1
                    sent_this_pass += 1
                    yield TextLine(line, source="reviews")
            if not self.loop or sent_this_pass == 0:
                return

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
