"""`streamlab consume` end to end: records put into the moto server, read by Spark (local mode).

Records go in with boto3 `put_records` (independent of streamlab's Kinesis sink). Counts are exact:
every record is either a parsed trade or a quarantined row, once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from streamlab.records import Trade
from streamlab.settings import load_settings
from streamlab.spark.job import run_consume
from streamlab.testing import assert_one_line
from streamlab.spark.request import ConsumeRequest
from tests.fixtures.aws import new_stream

pytestmark = pytest.mark.spark

T0 = 1764000000000  # a minute boundary


def trades(n: int, start: int = 0, symbols=("Index_1", "Index_2", "Index_3")) -> list[bytes]:
    out = []
    for i in range(start, start + n):
        t = T0 + i * 250  # four trades a second: 240 per minute
        out.append(Trade("test", symbols[i % len(symbols)], 100.0 + i % 7, 1 + i % 3, t, t, trade_id=i).to_bytes())
    return out


def put(kinesis, stream: str, payloads: list[bytes]) -> None:
    for i in range(0, len(payloads), 500):
        chunk = payloads[i : i + 500]
        resp = kinesis.put_records(
            StreamName=stream, Records=[{"Data": p, "PartitionKey": str(i + j)} for j, p in enumerate(chunk)]
        )
        assert resp["FailedRecordCount"] == 0


@pytest.fixture
def multi_shard_stream(kinesis):
    with new_stream(kinesis, "consume", shards=3) as name:
        yield name


def read_parquet(spark, path: Path):
    return spark.read.parquet(str(path)) if path.exists() else None


def test_round_trip_then_restart_from_checkpoint(spark, aws_env, kinesis, multi_shard_stream, tmp_path):
    stream, out = multi_shard_stream, tmp_path / "out"
    malformed = [b"not json", b'{"symbol": "Index_1", "event_time": 1}', b"[1, 2]"]
    put(kinesis, stream, trades(900) + malformed)
    shards = {s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"]}
    assert len(shards) == 3

    settings = load_settings()
    request = ConsumeRequest(settings, stream=stream, sink="parquet", path=str(out), trigger="available-now", quiet=True)
    first = run_consume(request, spark=spark)
    assert (first.input_rows, first.trades, first.quarantined) == (903, 900, 3)

    got = read_parquet(spark, out / "trades")
    ids = [int(r["trade_id"]) for r in got.select("trade_id").collect()]
    assert sorted(ids) == list(range(900))  # every record once, from all three shards
    q = read_parquet(spark, out / "_quarantine").collect()
    assert sorted(r["reason"] for r in q) == ["missing fields: price", "not JSON", "not a JSON object"]
    assert sorted(r["raw"] for r in q) == sorted(m.decode() for m in malformed)

    # 900 trades at 4/s span 225 s: minutes 0, 1 and 2 are closed by the watermark, minute 3 is not
    windows = read_parquet(spark, out / "windows").collect()
    assert first.windows_written == len(windows) == 9
    assert {r["window_start"].minute for r in windows} == {0, 1, 2}
    assert sum(r["count"] for r in windows) == 720

    # produce more and run again with the same checkpoint: only the new records, nothing twice
    put(kinesis, stream, trades(300, start=900))
    second = run_consume(request, spark=spark)
    assert (second.input_rows, second.trades, second.quarantined) == (300, 300, 0)
    ids = [int(r["trade_id"]) for r in read_parquet(spark, out / "trades").select("trade_id").collect()]
    assert sorted(ids) == list(range(1200))
    windows = read_parquet(spark, out / "windows").collect()
    keys = [(r["symbol"], r["window_start"]) for r in windows]
    assert len(keys) == len(set(keys))  # a window is written once, final
    # the minute left open by the first run is closed and written by the second
    assert {r["window_start"].minute for r in windows} == {0, 1, 2, 3}
    assert sum(r["count"] for r in windows) == 960


def test_console_shows_latest_windows(spark, aws_env, kinesis, fresh_stream, run_cli):
    put(kinesis, fresh_stream, trades(40) + [b"garbage"])
    res = run_cli("consume", "--stream", fresh_stream, "--sink", "console", "--trigger", "available-now", "--verbose")
    assert res.code == 0, res.err
    assert "waiting for data" in res.err
    for symbol in ("Index_1", "Index_2", "Index_3"):
        assert symbol in res.out
    for column in ("open", "high", "low", "close", "count", "vwap"):
        assert column in res.out
    # the values: Index_1 has trades 0, 3, ..., 39 of the first minute (price 100 + i % 7, volume 1)
    live, last = res.out.split("end of run", 1)
    rows = [line.split() for line in live.splitlines() if line.split()[:1] == ["Index_1"]]
    window_row, latest_row = rows  # the windows table, then the latest prices
    # 10 s of trades, a 30 s watermark: the run ends with that minute open, shown once more so marked
    assert [line.split()[-1] for line in last.splitlines() if line.split()[:1] == ["Index_1"]] == ["open"]
    assert window_row[3:] == ["100.00", "106.00", "100.00", "104.00", "14", "103.00"]  # open high low close count vwap
    start, end = (sum(int(x) * m for x, m in zip(t.split(":"), (3600, 60, 1))) for t in window_row[1:3])
    assert (end - start) % 86400 == 60 and start % 60 == 0  # the default one-minute window
    assert latest_row[1] == "104.00" and latest_row[-1] == "14"
    err = " ".join(res.err.split())  # rich wraps long lines at the terminal width
    assert "1 malformed records quarantined" in err and "garbage" in err
    assert "41 records read, 40 parsed, 1 quarantined" in err
    # --verbose: where the start-up went, step by step, and each query's batches
    steps = re.search(r"start-up ([\d.]+)s: checks ([\d.]+)s, Spark session ([\d.]+)s, source ([\d.]+)s, plans ([\d.]+)s, "
                      r"waiting for the Python workers ([\d.]+)s \(the Python workers took ([\d.]+)s", err)
    assert steps, err
    total, *parts = (float(x) for x in steps.groups()[:6])
    assert abs(total - sum(parts)) < 0.2 and total > 0
    assert re.search(r"streamlab-records: 1 batch\(es\) with data, the first [\d.]+s \((addBatch|latestOffset) [\d.]+s", err), err
    assert re.search(r"streamlab-windows-update: 1 batch\(es\) with data", err), err


@pytest.mark.spark35
def test_missing_stream_says_how_to_create_it(aws_env, run_cli):
    res = run_cli("consume", "--stream", "no-such-stream", "--sink", "console")
    assert res.code == 4
    assert_one_line(res.err, "stream no-such-stream not found", "streamlab provision kinesis --stream no-such-stream")


@pytest.mark.spark35
def test_parquet_needs_a_path(aws_env, run_cli):
    res = run_cli("consume", "--stream", "x", "--sink", "parquet")
    assert res.code == 2 and "--sink parquet needs --path" in res.err


def _without_java_env(tmp_path: Path) -> dict:
    """PATH with every directory that holds a `java` replaced by a copy of it minus java."""
    clean = []
    for i, d in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        if d and (Path(d) / "java").exists():
            shadow = tmp_path / f"path{i}"
            shadow.mkdir()
            for entry in Path(d).iterdir():
                if entry.name != "java":
                    (shadow / entry.name).symlink_to(entry)
            d = str(shadow)
        clean.append(d)
    env = dict(os.environ, PATH=os.pathsep.join(clean))
    env.pop("JAVA_HOME", None)
    return env


@pytest.mark.spark35
def test_missing_java_is_one_line(tmp_path):
    env = _without_java_env(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "streamlab", "consume", "--stream", "x", "--endpoint-url", "http://127.0.0.1:9"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 3, res.stderr
    assert_one_line(res.stderr, "Java is not installed", "OpenJDK 17")


@pytest.mark.spark35
def test_bad_java_home_is_one_line(tmp_path):
    env = dict(os.environ, JAVA_HOME=str(tmp_path / "nojdk"))
    res = subprocess.run(
        [sys.executable, "-m", "streamlab", "consume", "--stream", "x", "--endpoint-url", "http://127.0.0.1:9"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 3
    assert_one_line(res.stderr, "JAVA_HOME")


@pytest.mark.spark35
def test_missing_pyspark_names_the_extra(tmp_path):
    # Make `import pyspark` fail the way it does when the extra is not installed.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _NoSpark:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pyspark' or name.startswith('pyspark.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'pyspark'\", name='pyspark')\n"
        "sys.meta_path.insert(0, _NoSpark())\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(Path(__file__).parents[1])]))
    res = subprocess.run(
        [sys.executable, "-m", "streamlab", "consume", "--stream", "x", "--endpoint-url", "http://127.0.0.1:9"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 3, res.stderr
    assert 'pip install "streamlab[spark]"' in res.stderr and res.stderr.strip().count("\n") == 0


def test_windows_refresh_no_more_often_than_every_5_seconds():
    """A 1 s records trigger keeps its pace; the windows query (watermarked anyway) is held to 5 s."""
    from streamlab.spark.request import parse_trigger, windows_trigger

    assert windows_trigger(parse_trigger("1s")) == "5000 milliseconds"
    assert windows_trigger(parse_trigger("30s")) == "30000 milliseconds"
    assert windows_trigger(parse_trigger("available-now")) is None


def test_consume_flags_through_the_cli(spark, aws_env, kinesis, fresh_stream, run_cli, tmp_path):
    """The consume flags a user tunes, in two runs sharing one checkpoint (each run costs 20-60 s):
    --starting-position latest, --max-records-per-batch, --window/--slide/--watermark (not the
    defaults), --partition-by's layout, and --sink memory's `<name>_latest` view."""
    out = tmp_path / "out"
    put(kinesis, fresh_stream, [Trade("test", "Index_1", 50.0, 1, T0, T0, trade_id=-1).to_bytes()] * 30)  # before the start
    first = run_cli("consume", "--stream", fresh_stream, "--dataset", "trades", "--starting-position", "latest",
                    "--sink", "parquet", "--path", str(out), "--trigger", "available-now", "--quiet")
    assert first.code == 0, first.err
    assert read_parquet(spark, out / "trades") is None or read_parquet(spark, out / "trades").count() == 0  # skipped

    # one trade a second from T0+60 s to T0+119 s, symbols in turn, price = 100 + index
    symbols = ("Index_1", "Index_2", "Index_3")
    new = [Trade("test", symbols[i % 3], 100.0 + i, 1, T0 + 60_000 + i * 1000, T0 + 60_000 + i * 1000, trade_id=i) for i in range(60)]
    put(kinesis, fresh_stream, [t.to_bytes() for t in new])
    second = run_cli("consume", "--stream", fresh_stream, "--dataset", "trades", "--max-records-per-batch", "25",
                     "--window", "20s", "--slide", "10s", "--watermark", "5s", "--partition-by", "symbol",
                     "--sink", "parquet", "--sink", "memory", "--name", "flags", "--path", str(out),
                     "--trigger", "available-now", "--quiet")
    assert second.code == 0, second.err

    trades_dir = out / "trades"
    rows = read_parquet(spark, trades_dir).collect()
    assert sorted(int(r["trade_id"]) for r in rows) == list(range(60))  # only what came after the checkpoint began
    per_batch = sorted(Counter(r["batch_id"] for r in rows).values())
    assert per_batch == [10, 25, 25]  # --max-records-per-batch 25
    # --partition-by symbol: <path>/trades/batch_id=N/symbol=S/part-*.parquet
    layout = {(p.parent.parent.name.split("=")[0], p.parent.name) for p in trades_dir.glob("batch_id=*/*/*.parquet")}
    assert {d for _, d in layout} == {f"symbol={s}" for s in symbols} and {b for b, _ in layout} == {"batch_id"}

    windows = read_parquet(spark, out / "windows").collect()
    spans = {(r["window_end"] - r["window_start"]).total_seconds() for r in windows}
    assert spans == {20.0}  # --window 20s, not the default minute
    # --slide 10s: windows start every 10 s and overlap; the first holding a trade starts at +50 s
    # (trades begin at +60 s). --watermark 5s: with events up to +119 s every window ending by
    # +114 s is closed and written; a 30 s watermark would stop at +89 s, no slide at +100 s.
    first_start = min(r["window_start"] for r in windows)
    offsets = sorted({(r["window_start"] - first_start).total_seconds() for r in windows})
    assert offsets == [0.0, 10.0, 20.0, 30.0, 40.0], offsets  # ends +70 s .. +110 s
    by_start = Counter()
    for r in windows:
        by_start[(r["window_start"] - first_start).total_seconds()] += r["count"]
    assert by_start == {0.0: 10, 10.0: 20, 20.0: 20, 30.0: 20, 40.0: 20}  # +60..69 s, then 20 s of trades each

    latest = {r["symbol"]: (r["price"], r["trades"]) for r in spark.sql("SELECT * FROM flags_latest").collect()}
    assert latest == {"Index_1": (157.0, 20), "Index_2": (158.0, 20), "Index_3": (159.0, 20)}
    assert spark.sql("SELECT count(*) FROM flags").first()[0] == 60
