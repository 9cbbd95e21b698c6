"""The tweets dataset through Spark's file source and socket source (with streamlab's socket sink)."""

from __future__ import annotations

import io
import json
import os

import pytest

from streamlab.records import TextLine
from streamlab.settings import load_settings
from streamlab.sinks.base import Entry
from streamlab.sinks.socket import SocketSink
from streamlab.spark.job import run_consume
from streamlab.testing import assert_one_line
from streamlab.spark.request import ConsumeRequest

pytestmark = [pytest.mark.spark, pytest.mark.spark35]  # also run under pyspark 3.5 (make test-spark35)


def post(text: str, at: str) -> str:
    return json.dumps({"id": "1", "user": "ann", "text": text, "created_at": at, "lang": "en"})


def test_file_source_hashtags_counts_top_n_and_quarantine(spark, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    lines = [
        post("#Spark is great #spark! #BigData,", "2025-01-01T00:00:05.000Z"),
        post("#Spark #kafka", "2025-01-01T00:00:20.000Z"),
        post("#kafka #Kafka.", "2025-01-01T00:01:10.000Z"),
        "hello #Python world",  # plain text: the time it was processed
        "",  # blank: skipped by --format json
        "{not json",
        json.dumps({"user": "x"}),
    ]
    (inbox / "part-1.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    s = run_consume(ConsumeRequest(
        load_settings(), source="files", input_path=str(inbox), file_format="json", dataset="tweets",
        sink=["memory", "parquet"], name="tw", path=str(out), top=2, trigger="available-now", quiet=True,
    ), spark=spark)
    assert (s.input_rows, s.trades, s.quarantined) == (6, 4, 2)
    tags = sorted(tuple(r.hashtags) for r in spark.sql("SELECT hashtags FROM tw").collect())
    assert tags == [("kafka", "kafka"), ("python",), ("spark", "kafka"), ("spark", "spark", "bigdata")]
    counts = {(r.window_start.minute if r.window_start.year == 2025 else "now", r.hashtag): r["count"]
              for r in spark.sql("SELECT * FROM tw_windows").collect()}
    assert counts == {(0, "spark"): 3, (0, "bigdata"): 1, (0, "kafka"): 1, (1, "kafka"): 2, ("now", "python"): 1}
    # Parquet: closed windows only (the watermark passed them), the top 2 per window, ties by name
    top = sorted((r.window_start.minute, r["rank"], r.hashtag, r["count"]) for r in spark.read.parquet(str(out / "windows")).collect())
    assert top == [(0, 1, "spark", 3), (0, 2, "bigdata", 1), (1, 1, "kafka", 2)]
    reasons = sorted(r.reason for r in spark.read.parquet(str(out / "_quarantine")).collect())
    assert reasons == ["JSON post without text", "not JSON"]
    # two windows queries (memory: update, parquet: append), each deleting its relay copy once read
    relayed = [f for _, _, files in os.walk(out / "_checkpoint" / "relay") for f in files if f.endswith(".parquet")]
    assert relayed == []


def test_socket_source_reads_the_socket_sink_once(spark, capfd):
    sink = SocketSink(load_settings(), port=0, hold_wait=0)
    sink.open()
    try:
        # held until Spark connects: the records query is the only client, so every line arrives once
        sink.send([Entry(TextLine(f"post {i} #Tag{i % 3} #streaming").to_bytes(), None) for i in range(30)])
        from rich.console import Console

        def windowed() -> int:  # hashtag #streaming counted so far by the windows query
            try:
                return spark.sql("SELECT coalesce(sum(count), 0) FROM sock_windows WHERE hashtag = 'streaming'").first()[0]
            except Exception:  # the windows query has not made its table yet
                return 0

        buf = io.StringIO()
        # a socket never ends: stop once every line was read and windowed (the windows query runs
        # every 5 s, after the records; a loaded machine may need several rounds)
        request = ConsumeRequest(load_settings(), source="socket", port=sink.port, dataset="tweets", sink=["memory", "console"],
                                 name="sock", trigger="1s", timeout=120)
        s = run_consume(request, spark=spark, out=Console(file=buf, width=120),
                        stop_when=lambda st: st.input_rows >= 30 and windowed() >= 30)
        assert s.input_rows == 30 and s.trades == 30, s
    finally:
        sink.close()
    counts = {r.hashtag: r["count"] for r in spark.sql("SELECT hashtag, sum(count) AS count FROM sock_windows GROUP BY hashtag").collect()}
    assert counts == {"streaming": 30, "tag0": 10, "tag1": 10, "tag2": 10}
    table = buf.getvalue()
    assert "top 10 hashtags per window" in table and "streaming" in table
    assert "waiting for data" in " ".join(capfd.readouterr().err.split())


def test_socket_without_a_producer_is_one_line(run_cli):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run_cli("consume", "--source", "socket", "--port", str(port), "--dataset", "tweets", "--quiet")
    assert r.code == 5
    assert_one_line(r.err, f"nothing accepts connections on 127.0.0.1:{port}", "streamlab produce tweets --sink socket")  # no Java noise
