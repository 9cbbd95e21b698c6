"""`streamlab demo`, as `make demo` runs it: a new process, offline, ending by itself with nothing left.

Shorter than the default (20 s of ticker instead of 30) but the same path: emulator, stream, producer,
Spark job with console + Parquet, drain, teardown.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

DONE = re.compile(
    r"demo done in (\d+)s: ([\d,]+) records produced, ([\d,]+) consumed, ([\d,]+) windows written, "
    r"([\d,]+) quarantined; (-?\d+) resources left"
)

TITLE = re.compile(r"batch \d+: (\d+) window\(s\) shown, (\d+) updated by this batch")


def _processes_marked(mark: str) -> list[str]:
    """Command lines of live processes whose environment carries `mark` (the demo's descendants)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
            if f"STREAMLAB_TEST_MARK={mark}".encode() in env.split(b"\0"):
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120])
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_demo_runs_offline_end_to_end_and_leaves_nothing(tmp_path):
    mark = uuid.uuid4().hex
    out = tmp_path / "out"
    env = {**os.environ, "STREAMLAB_TEST_MARK": mark, "STREAMLAB_HOME": str(tmp_path / "home")}
    started = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-m", "streamlab", "demo", "--duration", "20", "--output", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )
    took = time.monotonic() - started
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr

    m = DONE.search(p.stderr)
    assert m, p.stderr[-2000:]
    produced, consumed, windows, quarantined, left = (_number(g) for g in m.groups()[1:])
    # 50 records/s for 20 s is 1,000 (a late start of the producer thread costs a few); every one read back
    assert 950 <= produced <= 1001 and consumed == produced
    assert windows > 0 and quarantined == 0 and left == 0
    # 92 s measured for --duration 20 on a quiet 2-core machine (Spark's slow first batches come
    # before most of the ticker is produced, see demo._Producer): room for a busy one
    assert took < 130, f"demo took {took:.0f}s"
    # the live window table, on stdout, batch by batch while the ticker is produced (the last pass
    # is quiet): several tables, not one after producing ended; each title counts the rows under it
    assert "Index_5" in p.stdout and "vwap" in p.stdout
    titles = TITLE.findall(p.stdout)
    assert len(titles) >= 3, p.stdout[-3000:]
    for shown, fresh in titles:
        assert 1 <= int(shown) <= 10 and int(fresh) <= int(shown)  # 5 symbols x the newest 2 windows
    # the read-back hint runs this interpreter (the venv's, with pyarrow), not a bare `python`
    hint = " ".join(p.stderr.split())
    assert f"read it back: {sys.executable} -c" in hint and str(out / "windows") in hint, hint[-1500:]

    import pyarrow.parquet as pq

    trades = pq.read_table(out / "trades")
    assert trades.num_rows == produced
    assert set(trades.column("symbol").to_pylist()) == {f"Index_{i}" for i in range(1, 6)}
    win = pq.read_table(out / "windows")
    assert win.num_rows == windows
    assert {"symbol", "open", "high", "low", "close", "count"} <= set(win.column_names)

    # the last step: the windows as candlesticks, a PNG that decodes, and the line saying where
    from PIL import Image

    png = out / "candles.png"
    assert f"candlesticks of the windows: {png}" in " ".join(p.stderr.split())
    with Image.open(png) as img:
        img.load()
        assert img.format == "PNG" and img.size == (1200, 900)
        assert len(img.convert("RGB").getcolors(1 << 20)) > 10  # candles drawn, not a blank canvas
    # a second demo run replaces the first one's output, chart included (the demo owns those files)
    from streamlab.demo import _prepare_output

    _prepare_output(out)
    assert not out.exists()

    # Nothing outlives the demo: no child with its environment (emulator, Spark's JVM, Python
    # workers), and the emulator's port is closed.
    deadline = time.monotonic() + 10
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_marked(mark) == []
    url = re.search(r"emulator on http://127\.0\.0\.1:(\d+)", p.stderr)
    assert url, p.stderr[:2000]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.group(1))), timeout=1).close()
