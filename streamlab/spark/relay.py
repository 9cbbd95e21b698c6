"""The relay: how the records query hands each batch's good rows to the windows queries, exactly once.

The source is read once, by the records query. For a windowed dataset it also writes each batch's
good rows as Parquet under `<checkpoint>/relay`, and each windows query reads that folder with
Spark's file source, which deletes a relayed file once its query has committed it (`cleanSource`).
Two windows queries (console and parquet together) get a copy each (`relay/_update`,
`relay/_append`): two readers cannot share one deleter. So the relay does not grow.

Exactly once per batch id (`relay_batch`): a marker `<relay>/_written/<id>` (hidden from the file
source, which skips names starting with `_`) is made after the rows are in every folder. A batch
replayed after a crash whose rows were already relayed (and maybe already consumed and deleted by a
windows query) is not relayed again. A crash before the marker rewrites the same paths
(`batch_id=<id>/part-0.parquet`), which a windows query that read them has seen: no row counts twice.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

from streamlab.spark.outputs import hadoop_path, is_remote


def relay_stream(spark, folder: str, schema):
    """A windows query's input: the good rows relayed into `folder`, read with Spark's file source,
    which deletes each file once the query has committed it. One reader per folder."""
    mkdirs(spark, folder)
    reader = spark.readStream.schema(schema).option("recursiveFileLookup", "true").option("cleanSource", "delete")
    return reader.parquet(folder)


def mkdirs(spark, path: str) -> None:
    p, fs = hadoop_path(spark, path)
    fs.mkdirs(p)


def relay_batch(spark, good, relay: str, batch_id: int, folders: Optional[Sequence[str]] = None) -> None:
    """Hand a batch's good rows to the windows queries (`folders`, one per query; default the relay
    itself), exactly once per batch id (see the module docstring). Markers older than the previous
    batch are removed."""
    marker, fs = hadoop_path(spark, f"{relay}/_written/{batch_id}")
    if fs.exists(marker):
        return
    folders = list(folders or [relay])
    if is_remote(relay) or not hasattr(good, "toArrow"):  # toArrow: Spark >= 4.0
        for folder in folders:
            write_spark_parquet(spark, good, folder, batch_id)
    else:  # a local checkpoint: one pyarrow file, cheaper than a Spark write job with its commit protocol
        table = good.toArrow()
        for folder in folders:
            write_local_parquet(table, folder.removeprefix("file://"), batch_id)
    fs.create(marker, True).close()
    # Only the last batch can be replayed (Spark commits a batch before it starts the next): older
    # markers are not needed, so the relay stays a few files however long the query runs.
    old, _ = hadoop_path(spark, f"{relay}/_written/{batch_id - 2}")
    fs.delete(old, False)


def write_spark_parquet(spark, good, relay: str, batch_id: int) -> None:
    """`<relay>/batch_id=<id>/part-0.parquet` through Spark's writer (any Hadoop file system):
    written into a hidden `_staging` folder, then its one part file renamed into place. A batch
    replayed after a crash before its marker thus lands on the same path, which the windows query's
    file source has already seen (a fresh Spark write would add a new part name: counted twice)."""
    staging = f"{relay}/_staging/{batch_id}"
    good.coalesce(1).write.mode("overwrite").parquet(staging)
    src, fs = hadoop_path(spark, staging)
    folder, _ = hadoop_path(spark, f"{relay}/batch_id={batch_id}")
    Path = spark._jvm.org.apache.hadoop.fs.Path  # noqa: SLF001
    final = Path(folder, "part-0.parquet")
    parts = [st.getPath() for st in fs.listStatus(src) if st.getPath().getName().startswith("part-")]
    fs.mkdirs(folder)
    if fs.exists(final):
        fs.delete(final, False)
    for i, part in enumerate(parts):  # one, after coalesce(1)
        fs.rename(part, final if i == 0 else Path(folder, f"part-{i}.parquet"))
    fs.delete(src, True)


def write_local_parquet(table, relay: str, batch_id: int) -> None:
    """`<relay>/batch_id=<id>/part-0.parquet`, written under a hidden name and renamed into place, so
    the windows query's file source never sees half a file (it skips names starting with `_`)."""
    import pyarrow.parquet as pq

    folder = os.path.join(relay, f"batch_id={batch_id}")
    os.makedirs(folder, exist_ok=True)
    final, temp = os.path.join(folder, "part-0.parquet"), os.path.join(folder, "_part-0.parquet.tmp")
    pq.write_table(table, temp)
    os.replace(temp, final)
