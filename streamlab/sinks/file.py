"""Append records as lines to a file (JSON lines for trades)."""

from __future__ import annotations

from pathlib import Path

import click

from streamlab.errors import ConfigError
from streamlab.paths import cannot_write, make_dir
from streamlab.sinks.base import Entry, Failure, Sink


class FileSink(Sink):
    name = "file"
    summary = "Append each record as one line to --path."
    options = (click.Option(["--path"], type=click.Path(dir_okay=False), default=None, help="Output file for --sink file (appended)."),)
    max_batch_records = 2000
    linger = 0.2

    def open(self) -> None:
        path = self.opts.get("path")
        if not path:
            raise ConfigError("--sink file needs --path", "add --path out.jsonl")
        self.path = Path(path)
        make_dir(self.path.parent)
        try:
            self._fh = open(self.path, "ab")
        except OSError as exc:
            raise cannot_write(self.path, exc) from None

    def send(self, batch: list[Entry]) -> list[Failure]:
        self._fh.write(b"".join(e.data + b"\n" for e in batch))
        self._fh.flush()
        return []

    def close(self) -> None:
        self._fh.close()

    def describe(self) -> str:
        return f"file {self.path}"
