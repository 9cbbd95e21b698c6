"""Reviews source: the packaged sample's shape, --file/--loop, malformed lines, and the lab's
`produce reviews --sink kafka --count 5000` landing every review."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections import Counter
from pathlib import Path

from streamlab.settings import Settings
from streamlab.sources.reviews import COLUMNS, ReviewsSource, sample_path
from streamlab.testing import assert_one_line
from tests.fixtures.kafka import consume_all

ROOT = Path(__file__).resolve().parent.parent


def sample_lines() -> list[str]:
    return gzip.decompress(sample_path().read_bytes()).decode("utf-8").splitlines()


def test_sample_has_header_and_15_fields_on_every_line():
    lines = sample_lines()
    assert lines[0].split("\t") == list(COLUMNS)
    rows = [l.split("\t") for l in lines[1:]]
    assert len(rows) == 5000
    assert all(len(r) == 15 for r in rows)
    assert all("\r" not in l for l in lines)


def test_sample_has_realistic_variety():
    rows = [l.split("\t") for l in sample_lines()[1:]]
    col = {name: [r[i] for r in rows] for i, name in enumerate(COLUMNS)}
    stars = Counter(col["star_rating"])
    assert set(stars) == {"1", "2", "3", "4", "5"} and stars["5"] > stars["4"] > stars["3"] and stars["1"] > stars["2"]
    assert len(set(col["product_category"])) >= 10 and len(set(col["marketplace"])) >= 3
    assert set(col["vine"]) == {"Y", "N"} and set(col["verified_purchase"]) == {"Y", "N"}
    assert all(int(h) <= int(t) for h, t in zip(col["helpful_votes"], col["total_votes"]))
    assert len(set(col["review_id"])) == 5000 and len(set(col["product_id"])) < 5000  # products reviewed repeatedly
    assert all(len(d) == 10 and d[4] == "-" and "2003" <= d[:4] <= "2015" for d in col["review_date"])
    assert max(len(b) for b in col["review_body"]) > 4000
    assert any(not b.isascii() for b in col["review_body"])


def test_generator_is_deterministic(tmp_path):
    out = tmp_path / "s.tsv.gz"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_reviews_sample.py"), "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == sample_path().read_bytes()


def test_source_sends_raw_lines_without_header_or_key():
    src = ReviewsSource(Settings())
    recs = list(src.records())
    assert len(recs) == 5000
    assert [r.text for r in recs] == sample_lines()[1:]
    assert all(r.key() is None for r in recs)
    assert src.counters() == {"lines": 5000}


def test_own_file_plain_or_gzip_with_malformed_lines_set_aside(tmp_path):
    good = ["US\t1\tR1\tB01\t9\tTitle\tBooks\t5\t0\t0\tN\tY\tGreat\tBody text\t2015-01-01",
            "UK\t2\tR2\tB02\t9\tTitle 2\tToys\t1\t1\t2\tN\tN\tBad\tBroke.\t2014-05-06"]
    text = "\t".join(COLUMNS) + "\n" + good[0] + "\n" + "too\tfew\tfields\n\n" + good[1] + "\r\n"
    plain = tmp_path / "mine.tsv"
    plain.write_text(text)
    gz = tmp_path / "mine.data"  # gzip detected by content, not by name
    gz.write_bytes(gzip.compress(text.encode()))
    for path in (plain, gz):
        src = ReviewsSource(Settings(), reviews_file=str(path))
        assert [r.text for r in src.records()] == good
        assert src.counters() == {"lines": 2, "malformed": 1}


def test_loop_starts_over_until_stopped(tmp_path):
    path = tmp_path / "two.tsv"
    path.write_text("US\t1\tR1\tB01\t9\tT\tBooks\t5\t0\t0\tN\tY\tH\tB\t2015-01-01\nUS\t2\tR2\tB01\t9\tT\tBooks\t4\t0\t0\tN\tY\tH\tB\t2015-01-02\n")
    src = ReviewsSource(Settings(), reviews_file=str(path), loop=True)
    it = src.records()
    got = [next(it).text.split("\t")[2] for _ in range(5)]
    assert got == ["R1", "R2", "R1", "R2", "R1"]
    src.stop()
    assert list(it) == []


def test_missing_file_is_one_line(run_cli, tmp_path):
    r = run_cli("produce", "reviews", "--file", str(tmp_path / "nope.tsv"), "--count", "1")
    assert r.code == 2
    assert_one_line(r.err, "does not exist", "--file")


def test_lab_command_lands_all_5000_reviews_in_kafka(run_cli, kafka_broker, kafka_topic):
    r = run_cli("produce", "reviews", "--sink", "kafka", "--topic", kafka_topic, "--bootstrap", kafka_broker.bootstrap, "--count", "5000")
    assert r.code == 0, r.err
    msgs = consume_all(kafka_broker.bootstrap, kafka_topic, expected=5000)
    assert len(msgs) == 5000
    assert all(m.key is None for m in msgs)
    assert sorted(m.value.decode() for m in msgs) == sorted(sample_lines()[1:])
    assert all(len(m.value.decode().split("\t")) == 15 for m in msgs)
