"""Sink name -> writer (a module each), plus the quarantine output. Everything here runs on the driver in `foreachBatch`.

A consume run has one *records* query (every input row: parse, count, quarantine, write the good
rows) and, for windowed datasets (ticker/trades, tweets), one *windows* query per output mode its
writers need (console and memory want `update`: every batch shows the windows that changed, open
ones included; Parquet wants `append`: a window is written once, final, when the watermark passes
its end).

Sinks:
  console  a rich table per batch (windows, the latest price per symbol, or a sample of the rows)
  parquet  Parquet files under --path: a local folder, or any Hadoop file system Spark has
           (`s3://` on EMR, `s3a://` with hadoop-aws, `hdfs://`); `s3://`/`s3a://` without one
           falls back to the Arrow S3 writer below
  s3       Parquet under --path s3://bucket/prefix (or s3a://): Spark's Hadoop writer when the
           scheme's file system is on the classpath, else `foreachBatch` -> Arrow ->
           `pyarrow.fs.S3FileSystem` (endpoint, region, credentials and session token from the
           command's AWS handle). The log says which runs.
  redis    the latest price per symbol of each batch (the dataset's latest view) into the Redis
           cache of --cache, never backwards in event time (see streamlab.price_cache)
  memory   temporary views for notebooks and tests: `<name>` (the rows), `<name>_windows` (latest
           value of each window), `<name>_latest` (datasets with a latest view: ticker's price per symbol). The views exist,
           empty, before the first batch, so querying early never fails with "table not found".

Layout under --path (each batch goes to its own `batch_id=N` folder, overwritten when Spark replays
a batch after a crash, so a restart with the same checkpoint neither duplicates nor skips rows;
`spark.read.parquet(...)` reads them all, with `batch_id` as a column):

    <records dir>/batch_id=N/   the good rows: trades/ (ticker), tweets/, records/ (raw), or --path
                                itself for reviews (the lab's bronze folder)
    windows/batch_id=N/         closed windows (ticker: OHLC per symbol; tweets: top N hashtags per window)
    windows_open/batch_id=N/    ticker: the windows a bounded run left open, `closed=false` (one folder, replaced by each such run)
    _quarantine/batch_id=N/     malformed rows: raw (as text, U+FFFD for bytes that are not UTF-8), reason, position, raw_bytes (exactly as received)
    _checkpoint/                Spark's checkpoints (default for a local --path; required flag otherwise)

Folders starting with `_` are skipped by Spark and Athena readers. `--partition-by COL` adds
`COL=value/` folders inside each batch folder.

Windows still open when a bounded run (available-now, --timeout) stops stay in the checkpoint's
state and are written to windows/ by the next run with the same checkpoint once newer data moves the
watermark past them; meanwhile the file sinks write them to windows_open/ and the console shows
them marked open (`on_run_end`, see `spark.open_windows`).

With no file output (console/memory only), malformed rows are counted and a few shown on stderr.
"""

from streamlab.spark.writers.base import Stats, WriteContext, Writer, write_quarantine
from streamlab.spark.writers.cache import RedisWriter
from streamlab.spark.writers.console import ConsoleWriter
from streamlab.spark.writers.files import ParquetWriter, S3Writer
from streamlab.spark.writers.memory import MemoryWriter

WRITERS: dict[str, type[Writer]] = {w.name: w for w in (ConsoleWriter, ParquetWriter, S3Writer, MemoryWriter, RedisWriter)}

__all__ = ["WRITERS", "ConsoleWriter", "MemoryWriter", "ParquetWriter", "RedisWriter", "S3Writer", "Stats", "WriteContext", "Writer", "write_quarantine"]
