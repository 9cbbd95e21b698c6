"""The relay between the records query and the windows query: a replayed batch is never counted twice.

A crash after a batch's rows were relayed but before its marker replays the batch. Both writers put
it on the same path again (`batch_id=<id>/part-0.parquet`), which the windows query's file source has
seen already; with Spark's writer (remote checkpoints, Spark 3.5) a plain write would have added a
second part file under a new name.
"""

from __future__ import annotations

import os

import pytest

from streamlab.spark import relay as r

pytestmark = [pytest.mark.spark, pytest.mark.spark35]  # the Spark-writer path is the one Spark 3.5 takes


def files_under(root) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]  # what Spark's file source lists
        out += [os.path.relpath(os.path.join(folder, f), root) for f in files if not f.startswith(("_", "."))]
    return sorted(out)


def test_a_replayed_batch_lands_on_the_same_path_with_sparks_writer(spark, tmp_path):
    relay = str(tmp_path / "relay")
    good = spark.createDataFrame([(f"s{i}", float(i)) for i in range(10)], "symbol STRING, price DOUBLE").repartition(3)
    r.write_spark_parquet(spark, good, relay, 7)
    first = files_under(relay)
    r.write_spark_parquet(spark, good, relay, 7)  # the replay
    assert first == files_under(relay) == ["batch_id=7/part-0.parquet"]
    assert spark.read.parquet(relay).count() == 10
    assert not os.path.exists(os.path.join(relay, "_staging", "7"))


def test_relay_writes_a_batch_once_and_skips_it_after_its_marker(spark, tmp_path):
    relay = str(tmp_path / "relay")
    good = spark.createDataFrame([("a", 1.0), ("b", 2.0)], "symbol STRING, price DOUBLE")
    r.relay_batch(spark, good, relay, 0)
    r.relay_batch(spark, good, relay, 0)  # replay after the marker: nothing written
    r.relay_batch(spark, good, relay, 1)
    assert files_under(relay) == ["batch_id=0/part-0.parquet", "batch_id=1/part-0.parquet"]
    assert spark.read.parquet(relay).count() == 4


def test_two_windows_queries_get_a_folder_each_and_old_markers_go(spark, tmp_path):
    relay = str(tmp_path / "relay")
    folders = [f"{relay}/_update", f"{relay}/_append"]
    good = spark.createDataFrame([("a", 1.0)], "symbol STRING, price DOUBLE")
    for batch_id in range(4):
        r.relay_batch(spark, good, relay, batch_id, folders)
    for folder in folders:  # each windows query reads (and deletes) its own copy
        assert files_under(folder) == [f"batch_id={i}/part-0.parquet" for i in range(4)]
    assert files_under(relay) == []  # the copies are hidden from a reader of the relay itself
    assert sorted(os.listdir(os.path.join(relay, "_written"))) == [".2.crc", ".3.crc", "2", "3"]
