"""Twitter-style posts for the socket lab (the real API is gone).

By default from the corpus shipped in `streamlab/data/tweets.jsonl.gz` (invented by
`scripts/make_tweets_corpus.py`: ~400 hashtags with a skewed popularity, so trends show), cycled in
a fresh shuffled order each pass until `--count`/`--duration`; or once through `--file` (JSON lines
with at least `text`, or plain text lines). Each post gets a new `id` and `created_at` = the moment
it is emitted, so windows in Spark line up with the clock. `--format text` (default) sends the
post's text as the line, which is what the lab's Spark socket job reads; `--format json` the post.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Iterator, Optional

import click

from streamlab.errors import ConfigError
from streamlab.records import TextLine
from streamlab.sources.base import Source

EPOCH_MS = 1288834974657  # the snowflake-style epoch: ids sort by time like the real ones


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def load_posts(path: Optional[Path]) -> list[dict]:
    """Posts from a JSON-lines or plain-text file (None: the shipped corpus)."""
    if path is None:
        with resources.files("streamlab").joinpath("data/tweets.jsonl.gz").open("rb") as raw, \
                gzip.open(raw, "rt", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    if not path.is_file():
        raise ConfigError(f"no such file: {path}", "give --file a JSON-lines file of posts or a plain text file")
    posts: list[dict] = []
    with _open_text(path) as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            post = None
            if line.lstrip().startswith("{"):
                try:
                    post = json.loads(line)
                except ValueError:
                    post = None
            if not isinstance(post, dict) or not isinstance(post.get("text"), str):
                post = {"text": line}  # a plain text line is a post of its own
            posts.append(post)
    if not posts:
        raise ConfigError(f"{path} has no posts", "one post per line: JSON with a \"text\" field, or plain text")
    return posts


def iso_ms(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


class TweetsSource(Source):
    name = "tweets"
    summary = "Twitter-style posts (text with hashtags and mentions) from a shipped corpus or --file; for the socket lab."
    options = (
        click.Option(["--file", "file"], type=click.Path(dir_okay=False), default=None, help="Posts to send once: JSON lines (with \"text\") or plain text lines. [default: the shipped corpus, cycled]"),
        click.Option(["--format", "fmt"], type=click.Choice(["text", "json"]), default="text", show_default=True, help="Each record is the post's text, or the whole post as JSON (id, user, text, created_at, lang)."),
        click.Option(["--seed"], type=int, default=None, help="Random seed for a reproducible order."),
    )

    def __init__(self, settings, **kw):
        super().__init__(settings, **kw)
        if self.opts.get("seed") is not None:
            import random

            self.rng = random.Random(self.opts["seed"])
        self.path = Path(self.opts["file"]) if self.opts.get("file") else None
        self.json = self.opts.get("fmt") == "json"
        self.posts = load_posts(self.path)
        self.sent = 0

    def records(self) -> Iterator[TextLine]:
        last_id = 0
        while not self.stopped:
            order = list(range(len(self.posts)))
            if self.path is None:
                self.rng.shuffle(order)
            for i in order:
                if self.stopped:
                    return
                post = self.posts[i]
                now = self.clock()
                # snowflake-like: milliseconds since EPOCH_MS << 22, strictly increasing
                last_id = max(last_id + 1, (int(now * 1000) - EPOCH_MS) << 22)
                user = str(post.get("user") or "anonymous")
                text = " ".join(str(post["text"]).splitlines())  # one post = one line on the wire
                if self.json:
                    out = {"id": str(last_id), "user": user, "text": text, "created_at": iso_ms(now), "lang": post.get("lang") or "und"}
                    line = json.dumps(out, ensure_ascii=False)
                else:
                    line = text
                self.sent += 1
                yield TextLine(line, "tweets", user)
            if self.path is not None:
                return  # a user's file is played once

    def describe(self) -> str:
        where = str(self.path) if self.path else f"the shipped corpus ({len(self.posts):,} posts, cycled)"
        return f"tweets from {where} as {'JSON' if self.json else 'text'}"
