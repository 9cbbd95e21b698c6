"""Charts and the dashboard's numbers over what a real `consume` wrote (files in, Parquet out), and the
check that tests/fixtures/charts.py writes the same layout and types as consume does."""

from __future__ import annotations

import pytest

from streamlab.records import Trade
from streamlab.settings import load_settings
from streamlab.spark.job import run_consume
from streamlab.spark.request import ConsumeRequest
from tests.fixtures.charts import SCHEMAS, table

pytestmark = pytest.mark.spark

T0 = 1_764_000_000_000


def test_charts_over_a_real_consume_and_the_fixture_layout_matches(spark, run_cli, tmp_path):
    import pyarrow.dataset as ds

    from streamlab.charts.data import open_output
    from streamlab.dashboard.state import State

    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    lines = [Trade("binance", sym, price + i, 0.5, T0 + i * 500, T0 + i * 500 + 3, trade_id=i).to_bytes().decode()
             for i in range(80) for sym, price in (("BTCUSDT", 90_000.0), ("ETHUSDT", 3_000.0))]
    (inbox / "trades.jsonl").write_text("\n".join(lines + ["not json"]) + "\n")
    stats = run_consume(ConsumeRequest(
        load_settings(), source="files", input_path=str(inbox), file_format="json", dataset="ticker", sink="parquet",
        path=str(out), window="10 seconds", watermark="1 second", trigger="available-now", quiet=True), spark=spark)
    assert stats.trades == 160 and stats.quarantined == 1 and stats.windows_written > 0

    for kind in ("trades", "windows", "_quarantine"):  # the fixture writes what consume writes
        real = ds.dataset(str(out / kind), format="parquet", partitioning="hive").schema
        ours = table([], SCHEMAS[kind]).schema
        assert [(f.name, f.type) for f in real if f.name != "batch_id"] == [(f.name, f.type) for f in ours], kind
        assert all(p.name.startswith("batch_id=") for p in (out / kind).iterdir())

    r = run_cli("chart", "units", "--path", str(out), "--out", str(tmp_path / "u.html"))
    assert r.code == 0, r.err
    html = (tmp_path / "u.html").read_text()
    assert 'data-symbol="BTCUSDT" data-value="40.0"' in html and 'data-symbol="ETHUSDT" data-value="40.0"' in html
    r = run_cli("chart", "candles", "--path", str(out), "--out", str(tmp_path / "c.png"))
    assert r.code == 0, r.err

    state = State(open_output(str(out)))
    state.poll()
    snap = state.snapshot()
    assert [(p["symbol"], p["price"], p["change"], p["trades"]) for p in snap["prices"]] == [
        ("BTCUSDT", 90_079.0, 79.0, 80), ("ETHUSDT", 3_079.0, 79.0, 80)]
    assert snap["quarantined"] == 1 and snap["reasons"] == {"not JSON": 1}
    assert snap["newest_event"] == T0 + 79 * 500


def test_consume_dashboard_serves_the_run_output_while_it_runs(spark, run_cli, tmp_path):
    import json
    import socket
    import threading
    import urllib.request

    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    lines = [Trade("binance", sym, price + i, 0.5, T0 + i * 500, T0 + i * 500 + 3).to_bytes().decode()
             for i in range(40) for sym, price in (("BTCUSDT", 90_000.0), ("ETHUSDT", 3_000.0))]
    (inbox / "trades.jsonl").write_text("\n".join(lines) + "\n")
    with socket.socket() as s:  # a free port, so the test knows where to look before the URL is printed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen: list[dict] = []
    done = threading.Event()

    def poll() -> None:  # what a browser tab does: ask /api/state again and again while consume runs
        while not done.is_set():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=2) as resp:
                    seen.append(json.loads(resp.read()))
            except OSError:
                pass
            done.wait(0.3)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        r = run_cli("consume", "--source", "files", "--input", str(inbox), "--format", "json", "--dataset", "ticker",
                    "--sink", "parquet", "--path", str(out), "--window", "10 seconds", "--trigger", "available-now",
                    "--quiet", "--dashboard", "--dashboard-port", str(port))
    finally:
        done.set()
        poller.join(5)
    assert r.code == 0, r.err
    assert [line for line in r.err.splitlines() if "dashboard" in line] == [
        f"dashboard for {out} at http://127.0.0.1:{port}/ (it stops with consume)"]
    assert seen, "the dashboard never answered while consume ran"
    assert {p["symbol"] for p in seen[-1]["prices"]} == {"BTCUSDT", "ETHUSDT"}  # it served this run's trades
    with pytest.raises(OSError):  # and it stopped with the run
        socket.create_connection(("127.0.0.1", port), timeout=1).close()

    r = run_cli("consume", "--source", "files", "--input", str(inbox), "--format", "json", "--dashboard")
    assert r.code == 2 and "--dashboard shows what consume writes" in r.err
