"""The tweets source (shipped corpus, --file, --format) and the stdin source."""

from __future__ import annotations

import collections
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_corpus_is_small_varied_and_skewed():
    path = ROOT / "streamlab" / "data" / "tweets.jsonl.gz"
    assert path.stat().st_size < 300 * 1024
    posts = [json.loads(x) for x in gzip.open(path, "rt", encoding="utf-8")]
    tags = collections.Counter(t for p in posts for t in re.findall(r"#\w+", p["text"]))
    assert len(tags) >= 300
    top = tags.most_common()
    assert top[0][1] > 20 * top[len(top) // 2][1]  # a few trend, the median is rare
    assert len({p["user"] for p in posts}) > 500 and len({p["lang"] for p in posts}) >= 4
    assert sum("@" in p["text"] for p in posts) > len(posts) / 10
    assert all(set(p) == {"id", "user", "text", "created_at", "lang"} for p in posts)


def test_regenerating_the_corpus_gives_the_same_bytes(tmp_path):
    out = tmp_path / "t.jsonl.gz"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_tweets_corpus.py"), "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == (ROOT / "streamlab" / "data" / "tweets.jsonl.gz").read_bytes()


def test_tweets_text_by_default_json_on_request(run_cli):
    r = run_cli("produce", "tweets", "--count", "30", "--seed", "1", "--quiet")
    assert r.code == 0, r.err
    texts = r.out.splitlines()
    assert len(texts) == 30 and not any(t.startswith("{") for t in texts)
    assert run_cli("produce", "tweets", "--count", "30", "--seed", "1", "--quiet", "--format", "text").out == r.out
    j = run_cli("produce", "tweets", "--count", "30", "--seed", "1", "--quiet", "--format", "json")
    posts = [json.loads(x) for x in j.out.splitlines()]
    assert [p["text"] for p in posts] == texts  # same seed, same order
    assert all(set(p) == {"id", "user", "text", "created_at", "lang"} for p in posts)
    ids = [int(p["id"]) for p in posts]
    assert ids == sorted(ids) and len(set(ids)) == 30
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", p["created_at"]) for p in posts)


def test_tweets_from_a_file_of_json_and_plain_lines(run_cli, tmp_path):
    f = tmp_path / "posts.txt"
    f.write_text('{"user": "amy", "text": "hello #spark", "lang": "en"}\nplain line #two\n\n{"no": "text"}\n')
    r = run_cli("produce", "tweets", "--file", str(f), "--format", "json", "--quiet")
    assert r.code == 0, r.err
    posts = [json.loads(x) for x in r.out.splitlines()]  # the file is played once
    assert [(p["user"], p["text"], p["lang"]) for p in posts] == [
        ("amy", "hello #spark", "en"), ("anonymous", "plain line #two", "und"), ("anonymous", '{"no": "text"}', "und")]
    missing = run_cli("produce", "tweets", "--file", str(tmp_path / "nope.txt"))
    assert missing.code == 2 and missing.err.startswith("error: no such file")


def test_stdin_lines_become_records(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "streamlab", "produce", "stdin", "--quiet"],
        input=b"first line\r\nsecond \xff line\n\nno newline at the end", capture_output=True, timeout=30, cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().splitlines() == ["first line", "second \ufffd line", "no newline at the end"]


def test_stdin_stops_promptly_on_sigterm_while_idle(tmp_path):
    import signal
    import time

    p = subprocess.Popen([sys.executable, "-m", "streamlab", "produce", "stdin", "--sink", "file", "--path", str(tmp_path / "o.txt")],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    p.stdin.write(b"a\nb\n")
    p.stdin.flush()
    deadline = time.monotonic() + 20
    while not (tmp_path / "o.txt").exists() or (tmp_path / "o.txt").read_text() != "a\nb\n":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)  # stdin still open and quiet
    assert p.wait(5) == 0
    assert "done (interrupted)" in p.stderr.read().decode()
