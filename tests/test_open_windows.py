"""A bounded run's last windows (issue 13 item 6): what the watermark has not closed when
`--trigger available-now` stops goes to `windows_open/` (replaced by each run, `closed=false`), the
console marks it open, and the summary counts it. Input: Spark's file source over JSON lines."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from streamlab.records import Trade
from tests.fixtures.charts import SCHEMAS, table

pytestmark = pytest.mark.spark

T0 = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC, a minute boundary
SYMBOLS = ("Index_1", "Index_2", "Index_3")


def backlog(folder, name: str, first: int, last: int) -> None:
    """Trades `first`..`last - 1`, two a second (trade i at T0 + i * 500 ms), symbols in turn, plus one bad line."""
    lines = [Trade("test", SYMBOLS[i % 3], 100.0 + i % 7, 1, T0 + i * 500, T0 + i * 500, trade_id=i).to_bytes().decode()
             for i in range(first, last)]
    (folder / name).write_text("\n".join(lines + ["not json"]) + "\n")


def utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def minutes(rows) -> dict:
    """window start minute (after T0) -> trades counted, over the three symbols."""
    out: dict = {}
    for r in rows:
        m = (round(r["window_start"].timestamp() * 1000) - T0) // 60_000
        out[m] = out.get(m, 0) + r["count"]
    return out


def test_available_now_writes_the_open_windows_and_the_next_run_replaces_them(spark, run_cli, tmp_path):
    import pyarrow.dataset as ds

    from streamlab.charts import aggregate
    from streamlab.charts.data import open_output

    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    backlog(inbox, "a.jsonl", 0, 220)  # event times +0 .. +109.5 s: watermark +79.5 s (30 s behind)
    args = ("consume", "--source", "files", "--input", str(inbox), "--format", "json", "--dataset", "trades",
            "--sink", "parquet", "--path", str(out), "--trigger", "available-now")
    first = run_cli(*args)
    assert first.code == 0, first.err
    err = " ".join(first.err.split())
    assert "220 parsed, 1 quarantined" in err
    # minute 0 is closed (written to windows/); minute 1 ends at +120 s, after the watermark: open
    assert f"3 windows still open until {utc(T0 + 120_000)} (watermark {utc(T0 + 79_500)})" in err, err
    assert f"windows_open: {out / 'windows_open'}" in err
    closed, opened = spark.read.parquet(str(out / "windows")).collect(), spark.read.parquet(str(out / "windows_open")).collect()
    assert minutes(closed) == {0: 120} and minutes(opened) == {1: 100}
    assert sum(r["count"] for r in closed + opened) == 220  # every trade read, once
    assert {r["closed"] for r in opened} == {False} and len(opened) == 3
    ohlc = {r["symbol"]: (r["open"], r["high"], r["low"], r["close"]) for r in opened}
    assert ohlc["Index_1"] == (101.0, 106.0, 100.0, 102.0)  # trades 120, 123, ..., 219: price 100 + i % 7
    # the layout `chart candles` and the dashboard read (tests/fixtures/charts.py writes the same)
    real = ds.dataset(str(out / "windows_open"), format="parquet", partitioning="hive").schema
    assert [(f.name, f.type) for f in real if f.name != "batch_id"] == [(f.name, f.type) for f in table([], SCHEMAS["windows_open"]).schema]
    o = open_output(str(out))
    candles = aggregate.candles(o.read_all("windows"), o.read_all("windows_open"))
    assert [(c.start - T0, c.is_open) for c in candles["Index_2"]] == [(0, False), (60_000, True)]

    # more trades, same checkpoint: minute 1 closes (in windows/, not in windows_open/ any more),
    # minutes 2 and 3 are open (watermark +169.5 s); the first run's windows_open/ is gone
    backlog(inbox, "b.jsonl", 220, 400)
    second = run_cli(*args)
    assert second.code == 0, second.err
    err = " ".join(second.err.split())
    assert "180 parsed, 1 quarantined" in err
    assert f"6 windows still open until {utc(T0 + 240_000)} (watermark {utc(T0 + 169_500)})" in err, err
    closed, opened = spark.read.parquet(str(out / "windows")).collect(), spark.read.parquet(str(out / "windows_open")).collect()
    assert minutes(closed) == {0: 120, 1: 120} and minutes(opened) == {2: 120, 3: 40}
    assert sum(r["count"] for r in closed + opened) == 400
    assert {r["closed"] for r in opened} == {False}
    assert len(list((out / "windows_open").glob("batch_id=*"))) == 1  # replaced, not added to

    # nothing new: the windows query runs no batch; the watermark comes from its checkpoint
    third = run_cli(*args)
    assert third.code == 0, third.err
    assert f"6 windows still open until {utc(T0 + 240_000)} (watermark {utc(T0 + 169_500)})" in " ".join(third.err.split())
    assert minutes(spark.read.parquet(str(out / "windows_open")).collect()) == {2: 120, 3: 40}


def test_console_marks_the_windows_still_open(spark, run_cli, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    backlog(inbox, "a.jsonl", 0, 220)
    res = run_cli("consume", "--source", "files", "--input", str(inbox), "--format", "json", "--dataset", "trades",
                  "--sink", "console", "--trigger", "available-now")
    assert res.code == 0, res.err
    end = res.out[res.out.index("end of run"):]
    assert f"end of run: 3 window(s) still open, not final (watermark {utc(T0 + 79_500)})" in end.splitlines()[0]
    rows = [line.split() for line in end.splitlines() if line.split()[:1] == ["Index_1"]]
    # symbol, window start, end, open, high, low, close, count, vwap, state
    assert [(r[1], r[7], r[-1]) for r in rows] == [("16:00:00", "40", "closed"), ("16:01:00", "34", "open")]
    err = " ".join(res.err.split())
    assert f"3 windows still open until {utc(T0 + 120_000)}" in err, err
