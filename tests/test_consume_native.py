"""Provider-native JSON through a real consume: what course producers put into the stream (the raw
Finnhub message, Binance's combined-stream events; here `produce replay CAPTURE --raw`) gives the
same trades and the same windows as streamlab's own wire form of the same capture."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamlab.settings import load_settings
from streamlab.spark.job import run_consume
from streamlab.spark.request import ConsumeRequest

pytestmark = pytest.mark.spark

CAPTURES = Path(__file__).resolve().parent.parent / "examples" / "captures"


def consume_file(spark, tmp_path, name: str, text_file: Path):
    inbox, out = tmp_path / f"in-{name}", tmp_path / f"out-{name}"
    inbox.mkdir()
    text_file.rename(inbox / text_file.name)
    s = run_consume(ConsumeRequest(
        load_settings(), source="files", input_path=str(inbox), file_format="text", dataset="trades", sink="parquet",
        path=str(out), checkpoint=str(tmp_path / f"cp-{name}"), window="10 seconds", watermark="1 second",
        trigger="available-now", quiet=True), spark=spark)
    trades = sorted(tuple(r) for r in spark.read.parquet(str(out / "trades")).select("symbol", "price", "volume", "event_time").collect())
    return s, trades


@pytest.mark.parametrize("provider, records, trades", [("finnhub", 491, 1188), ("binance", 727, 727)])
def test_raw_provider_messages_give_the_same_trades_as_the_wire_form(spark, run_cli, tmp_path, provider, records, trades):
    capture = CAPTURES / f"{provider}.jsonl.gz"
    for form, extra in (("raw", ("--raw",)), ("wire", ())):
        r = run_cli("produce", "replay", str(capture), "--speed", "max", *extra, "--sink", "file",
                    "--path", str(tmp_path / f"{form}.jsonl"), "--quiet")
        assert r.code == 0, r.err
    raw_summary, raw_trades = consume_file(spark, tmp_path, "raw", tmp_path / "raw.jsonl")
    wire_summary, wire_trades = consume_file(spark, tmp_path, "wire", tmp_path / "wire.jsonl")
    # a Finnhub message holds several trades: records read count messages, parsed counts trades
    assert (raw_summary.input_rows, raw_summary.trades, raw_summary.quarantined) == (records, trades, 0)
    assert (wire_summary.input_rows, wire_summary.trades, wire_summary.quarantined) == (trades, trades, 0)
    assert raw_trades == wire_trades  # symbol, price, volume and event time agree trade for trade


def test_a_binary_payload_is_quarantined_readably_and_exactly(spark, tmp_path):
    """A non-UTF-8 record: `raw` is valid UTF-8 (U+FFFD for the bad bytes) so pyarrow's full
    validation and pandas read _quarantine/, and `raw_bytes` keeps the bytes exactly."""
    import pyarrow.dataset as ds

    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    junk = b"\xff\xfe\x00\x81 not text \xc3"
    good = b'{"symbol":"A","price":1.5,"event_time":1764000000000}'
    (inbox / "mixed.txt").write_bytes(good + b"\n" + junk + b"\n")
    s = run_consume(ConsumeRequest(
        load_settings(), source="files", input_path=str(inbox), file_format="text", dataset="trades", sink="parquet",
        path=str(out), trigger="available-now", quiet=True), spark=spark)
    assert (s.input_rows, s.trades, s.quarantined) == (2, 1, 1)
    table = ds.dataset(str(out / "_quarantine"), format="parquet", partitioning="hive").to_table()
    table.validate(full=True)  # raises on a string column holding invalid UTF-8
    row = table.to_pandas().iloc[0]
    assert row["raw_bytes"] == junk
    assert row["raw"] == junk.decode("utf-8", errors="replace") and row["reason"] == "not JSON"
