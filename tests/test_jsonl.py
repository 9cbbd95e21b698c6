"""The one JSON-lines writer (streamlab.jsonl): files with record payloads are created 0600 with
their folders, `check()` refuses an unwritable path before anything runs and leaves no file, and
the three users (dead-letter file, malformed frames, captures) keep their formats."""

from __future__ import annotations

import gzip
import json
import stat

import pytest

from streamlab.capture import Capture, CaptureWriter
from streamlab.errors import ConfigError
from streamlab.jsonl import JsonLinesFile, SetAside
from streamlab.sinks.base import DeadLetter, Entry


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_set_aside_is_lazy_0600_in_new_folders_and_appends(tmp_path):
    path = tmp_path / "a" / "b" / "dl.jsonl"
    sa = SetAside(path, clock=lambda: 12.5)
    assert not path.exists() and not path.parent.exists()  # nothing until the first record
    sa.add("Why", frame="x")
    sa.close()
    sa = SetAside(path, clock=lambda: 13.0)
    sa.add("Other", key="k")
    sa.close()
    assert mode(path) == 0o600
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [{"reason": "Why", "frame": "x", "time": 12.5}, {"reason": "Other", "key": "k", "time": 13.0}]
    assert list(lines[0]) == ["reason", "frame", "time"]  # reason first, time last


def test_dead_letter_format(tmp_path):
    dl = DeadLetter(tmp_path / "dl.jsonl")
    dl.write(Entry(b"caf\xc3\xa9 \xff", "AAPL"), "RecordTooLarge", "too big")
    dl.close()
    (d,) = [json.loads(line) for line in (tmp_path / "dl.jsonl").read_text().splitlines()]
    assert list(d) == ["reason", "delivery", "message", "key", "data", "time"]  # + delivery (issue 17)
    assert (d["reason"], d["delivery"], d["message"], d["key"], d["data"]) == ("RecordTooLarge", "rejected", "too big", "AAPL", "café \\xff")
    assert dl.count == 1 and mode(tmp_path / "dl.jsonl") == 0o600


def test_check_refuses_an_unwritable_path_and_creates_nothing(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(ConfigError) as err:
        SetAside(blocker / "dl.jsonl").check()
    assert "cannot write" in err.value.message and str(blocker) in err.value.message
    with pytest.raises(ConfigError):
        SetAside(tmp_path).check()  # a folder, not a file
    ok = tmp_path / "new" / "dl.jsonl"
    SetAside(ok).check()
    assert not ok.exists()  # checked, not created (no empty dead-letter files)


def test_capture_is_written_afresh_0600_gzip_and_reads_back(tmp_path):
    path = tmp_path / "caps" / "c.jsonl.gz"
    path.parent.mkdir()
    path.write_bytes(b"old content")
    path.chmod(0o644)
    w = CaptureWriter(path, "binance", clock=lambda: 100.0, endpoint="wss://x/?token=***")
    w.write(100.5, '{"a":1}')
    w.close()
    assert mode(path) == 0o600  # replaced content: as private as a new file
    fresh = tmp_path / "caps" / "d.jsonl.gz"
    w = CaptureWriter(fresh, "binance", clock=lambda: 100.0)
    w.write(100.5, '{"a":1}')
    w.close()
    assert mode(fresh) == 0o600
    head = json.loads(gzip.open(fresh, "rt").readline())
    assert head == {"streamlab_capture": 1, "source": "binance", "started": 100.0}
    cap = Capture(path)
    assert cap.source == "binance" and cap.header["endpoint"] == "wss://x/?token=***"
    assert list(cap.frames()) == [(100.5, '{"a":1}')]


def test_a_flushed_gzip_file_reads_back_before_close(tmp_path):
    f = JsonLinesFile(tmp_path / "x.jsonl.gz").open()
    f.write({"n": 1})
    f.flush()
    # the writer has not closed (no gzip trailer): a reader still gets what was flushed
    with gzip.open(tmp_path / "x.jsonl.gz", "rt") as fh:
        with pytest.raises(EOFError):
            fh.read()
    data = gzip.GzipFile(tmp_path / "x.jsonl.gz")
    got = b""
    try:
        while chunk := data.read1(1024):
            got += chunk
    except EOFError:
        pass
    assert got == b'{"n": 1}\n'
    f.close()
    assert gzip.open(tmp_path / "x.jsonl.gz", "rt").read() == '{"n": 1}\n'
