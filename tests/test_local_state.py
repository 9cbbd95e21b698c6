"""The one state file of the local services (`<state_dir>/local.json`): sections side by side,
atomic and private writes, and the layouts older streamlab versions left behind."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from streamlab.local import kafka as local_broker
from streamlab.local import state

WRITER = """
import sys
from streamlab.local import state
name, n, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    state.write(where, name, {"i": i, "pad": "x" * 4000})
"""


def test_sections_of_concurrent_writers_all_survive_and_readers_never_see_half_a_file(tmp_path):
    names = ["aws", "kafka", "redis", "scheduler"]
    bad: list[str] = []
    stop = threading.Event()

    def reader():
        path = tmp_path / "local.json"
        while not stop.is_set():
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            try:
                json.loads(text)
            except ValueError:
                bad.append(text[:80])

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, n, "60", str(tmp_path)]) for n in names]
    try:
        assert [w.wait(timeout=60) for w in writers] == [0] * len(names)
    finally:
        stop.set()
        t.join(5)
    assert bad == [], f"a reader saw a partly written file: {bad[0]!r}"
    doc = json.loads((tmp_path / "local.json").read_text())
    assert {k: v["i"] for k, v in doc.items()} == {n: 59 for n in names}  # no write lost another's section
    assert (tmp_path / "local.json").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local.json"]  # no temp or lock file left


def test_file_stays_private_when_it_existed_world_readable(tmp_path):
    (tmp_path / "local.json").write_text("{}")
    (tmp_path / "local.json").chmod(0o644)
    state.write(tmp_path, "aws", {"port": 1})
    assert (tmp_path / "local.json").stat().st_mode & 0o777 == 0o600


def test_clearing_the_last_section_removes_the_file(tmp_path):
    state.write(tmp_path, "aws", {"port": 1})
    state.write(tmp_path, "kafka", {"port": 2, "pid": 3})
    state.clear(tmp_path, "aws")
    assert json.loads((tmp_path / "local.json").read_text()) == {"kafka": {"port": 2, "pid": 3}}
    state.clear(tmp_path, "kafka")
    assert not (tmp_path / "local.json").exists()
    state.clear(tmp_path / "never-made", "kafka")  # nothing recorded: fine, nothing created
    assert not (tmp_path / "never-made").exists()


def test_an_old_kafka_json_still_finds_the_running_broker_and_is_folded_in(tmp_path, kafka_broker):
    # what streamlab wrote before the kafka section existed
    (tmp_path / "kafka.json").write_text(json.dumps(kafka_broker.info.to_dict()))
    found = local_broker.running_broker(tmp_path)
    assert found is not None and found.bootstrap == kafka_broker.bootstrap and found.pid == kafka_broker.info.pid

    state.write(tmp_path, "aws", {"port": 4566, "pid": 0})  # the next write moves it into local.json
    assert not (tmp_path / "kafka.json").exists()
    doc = json.loads((tmp_path / "local.json").read_text())
    assert doc["kafka"]["port"] == kafka_broker.port and doc["aws"]["port"] == 4566
    assert local_broker.running_broker(tmp_path).bootstrap == kafka_broker.bootstrap


def test_the_flat_layout_before_sections_is_read_as_the_aws_section(tmp_path):
    (tmp_path / "local.json").write_text(json.dumps({"pid": 12, "port": 4566, "url": "http://127.0.0.1:4566"}))
    assert state.read(tmp_path, "aws")["port"] == 4566
    state.write(tmp_path, "kafka", {"port": 9092, "pid": 13})
    doc = json.loads((tmp_path / "local.json").read_text())
    assert doc == {"aws": {"pid": 12, "port": 4566, "url": "http://127.0.0.1:4566"}, "kafka": {"port": 9092, "pid": 13}}
