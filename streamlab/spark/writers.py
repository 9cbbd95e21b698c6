"""Sink name -> writer, plus the quarantine output. Everything here runs on the driver in `foreachBatch`.

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
           `pyarrow.fs.S3FileSystem` (endpoint, region, credentials and session token from streamlab's
           AWS settings). The log says which runs.
  memory   temporary views for notebooks and tests: `<name>` (the rows), `<name>_windows` (latest
           value of each window), `<name>_latest` (ticker: latest price per symbol). The views exist,
           empty, before the first batch, so querying early never fails with "table not found".

Layout under --path (each batch goes to its own `batch_id=N` folder, overwritten when Spark replays
a batch after a crash, so a restart with the same checkpoint neither duplicates nor skips rows;
`spark.read.parquet(...)` reads them all, with `batch_id` as a column):

    <records dir>/batch_id=N/   the good rows: trades/ (ticker), tweets/, records/ (raw), or --path
                                itself for reviews (the lab's bronze folder)
    windows/batch_id=N/         closed windows (ticker: OHLC per symbol; tweets: top N hashtags per window)
    _quarantine/batch_id=N/     malformed rows: raw (as received), reason, position
    _checkpoint/                Spark's checkpoints (default for a local --path; required flag otherwise)

Folders starting with `_` are skipped by Spark and Athena readers. `--partition-by COL` adds
`COL=value/` folders inside each batch folder.

Windows still open when a bounded run stops stay in the checkpoint's state and are written by the
next run with the same checkpoint once newer data moves the watermark past them.

With no file output (console/memory only), malformed rows are counted and a few shown on stderr.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Optional
from urllib.parse import urlparse

from streamlab import console
from streamlab.errors import ConfigError

S3_SCHEMES = ("s3", "s3a", "s3n")


@dataclass
class Stats:
    """Counters the foreachBatch functions update (on the driver) and the summary reports."""

    batches: int = 0
    input_rows: int = 0
    trades: int = 0  # good rows (the name comes from the ticker dataset)
    quarantined: int = 0
    windows_written: int = 0
    windows_updated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)


@dataclass
class WriteContext:
    transform: Any  # a transforms module (or a namespace with the same names)
    stats: Stats
    path: Optional[str] = None  # local absolute path or a URL (s3://...), as checked by check_path
    quiet: bool = False
    sample_quarantine: int = 3
    output: Optional["Output"] = None  # where Parquet goes; set by choose_output once Spark runs
    partition_by: tuple = ()
    top: int = 10
    name: Optional[str] = None  # memory sink view name
    spark: Any = None


# ----------------------------------------------------------------------------------------------
# paths and outputs
def is_remote(path: Optional[str]) -> bool:
    return bool(path) and "://" in path and not path.startswith("file://")


def scheme_of(path: str) -> str:
    return urlparse(path).scheme.lower()


def batch_dir(path: str, kind: str, batch_id: int) -> str:
    base = path.rstrip("/")
    return f"{base}/{kind}/batch_id={batch_id}" if kind else f"{base}/batch_id={batch_id}"


def check_path(path: Optional[str], needed: bool, sink: str) -> Optional[str]:
    """The output path as the writers use it: local paths made absolute, URLs kept as given."""
    if not path:
        if needed:
            raise ConfigError(f"--sink {sink} needs --path", "give a directory, e.g. --path ./streamlab-output (or s3://bucket/prefix)")
        return None
    if sink == "s3" and scheme_of(path) not in S3_SCHEMES:
        raise ConfigError(f"--sink s3 needs an s3:// or s3a:// path, not {path}", "e.g. --path s3://my-bucket/bronze/reviews (or use --sink parquet for a local folder)")
    if is_remote(path):
        return path.rstrip("/")
    return str(Path(path.removeprefix("file://")).expanduser().resolve())


def check_bucket(settings, path: str) -> None:
    """Before Spark starts: the bucket of an s3 path exists (one line saying how to make it)."""
    from streamlab.aws.session import AWS
    from streamlab.errors import ResourceNotFound

    bucket = urlparse(path).netloc
    s3 = AWS(settings).client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise ResourceNotFound(f"S3 bucket {bucket} not found", f"create it (`streamlab provision s3 --bucket {bucket}`) or check the name") from None
        if code in ("403", "AccessDenied"):
            raise ConfigError(f"no access to S3 bucket {bucket}", "check your AWS credentials and the bucket's policy") from None
        raise


class Output:
    """Where Parquet goes: `write(df, kind, batch_id)` replaces that batch's folder."""

    def describe(self) -> str:
        raise NotImplementedError

    def write(self, df, kind: str, batch_id: int, partition_by: tuple = ()) -> None:
        raise NotImplementedError

    def url(self, kind: str) -> str:
        raise NotImplementedError


class SparkOutput(Output):
    """Spark's own Parquet writer: local folders and every Hadoop file system on the classpath."""

    def __init__(self, path: str):
        self.path = path

    def describe(self) -> str:
        return f"Spark's Parquet writer at {self.path}"

    def url(self, kind: str) -> str:
        return f"{self.path}/{kind}" if kind else self.path

    def write(self, df, kind: str, batch_id: int, partition_by: tuple = ()) -> None:
        # one file per batch (per partition value); a replayed batch overwrites its own folder
        writer = df.coalesce(1).write.mode("overwrite")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(batch_dir(self.path, kind, batch_id))


def to_arrow_table(df):
    """A batch DataFrame as a pyarrow Table (`toArrow` on Spark 4; through pandas on 3.5)."""
    if hasattr(df, "toArrow"):
        return df.toArrow()
    import pyarrow as pa

    return pa.Table.from_pandas(df.toPandas(), preserve_index=False)


def s3_filesystem(settings):
    """`pyarrow.fs.S3FileSystem` with streamlab's endpoint, region and credentials (incl. session token)."""
    from pyarrow import fs

    from streamlab.aws.session import AWS

    aws = AWS(settings)
    kw: dict[str, Any] = {"region": aws.region}
    if aws.endpoint_url:
        u = urlparse(aws.endpoint_url)
        kw["endpoint_override"] = u.netloc or u.path
        kw["scheme"] = u.scheme or "https"
    frozen = aws.frozen_credentials()
    if frozen is not None:
        kw["access_key"], kw["secret_key"] = frozen.access_key, frozen.secret_key
        if frozen.token:
            kw["session_token"] = frozen.token
    return fs.S3FileSystem(**kw)


class ArrowS3Output(Output):
    """`foreachBatch` -> Arrow -> `pyarrow.fs.S3FileSystem`: S3 without hadoop-aws on the classpath.

    Each batch is one object `<prefix>/<kind>/batch_id=N/part-00000.parquet` (one per partition
    value with --partition-by); a replayed batch writes the same key again, so it overwrites.
    """

    def __init__(self, path: str, filesystem):
        u = urlparse(path)
        self.path, self.bucket, self.prefix, self.fs = path, u.netloc, u.path.strip("/"), filesystem

    def describe(self) -> str:
        return f"the Arrow S3 writer (pyarrow, no Hadoop S3 file system here) at {self.path}"

    def url(self, kind: str) -> str:
        return f"{self.path}/{kind}" if kind else self.path

    def key(self, kind: str, batch_id: int) -> str:
        return "/".join(p for p in (self.bucket, self.prefix, kind, f"batch_id={batch_id}") if p)

    def write(self, df, kind: str, batch_id: int, partition_by: tuple = ()) -> None:
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        table = to_arrow_table(df)
        base = self.key(kind, batch_id)
        if partition_by:
            ds.write_dataset(
                table, base, format="parquet", filesystem=self.fs, partitioning=list(partition_by),
                partitioning_flavor="hive", existing_data_behavior="delete_matching", basename_template="part-{i}.parquet",
            )
        else:
            pq.write_table(table, f"{base}/part-00000.parquet", filesystem=self.fs)


def hadoop_fs_available(spark, scheme: str) -> bool:
    """Whether Spark's Hadoop configuration has a file system class for `scheme` (s3a needs hadoop-aws)."""
    try:
        jvm = spark._jvm  # noqa: SLF001 - the only way to ask the classpath from Python
        conf = spark._jsc.hadoopConfiguration()  # noqa: SLF001
        jvm.org.apache.hadoop.fs.FileSystem.getFileSystemClass(scheme, conf)
        return True
    except Exception:
        return False


def choose_output(spark, settings, path: str, sink: str) -> Output:
    """Spark's writer for local paths and schemes with a Hadoop file system, else Arrow for S3."""
    if not is_remote(path):
        return SparkOutput(path)
    scheme = scheme_of(path)
    if hadoop_fs_available(spark, scheme):
        return SparkOutput(path)
    if scheme in S3_SCHEMES:
        return ArrowS3Output(path, s3_filesystem(settings))
    raise ConfigError(
        f"--path {path}: Spark has no file system for {scheme}:// here",
        "use a local folder, s3://bucket/prefix (written with pyarrow when Hadoop's S3 is absent), or run where the file system is installed",
    )


def write_quarantine(ctx: WriteContext, bad, batch_id: int, count: int) -> None:
    """Keep malformed rows: Parquet under <path>/_quarantine, or shown on stderr without a file output."""
    if ctx.output is not None:
        ctx.output.write(bad, "_quarantine", batch_id)
        if not ctx.quiet:
            console.warn(f"batch {batch_id}: {count:,} malformed records quarantined in {ctx.output.url('_quarantine')}")
        return
    if ctx.quiet:
        return
    examples = bad.limit(ctx.sample_quarantine).collect()
    shown = "; ".join(f"{r['reason']}: {(r['raw'] or '')[:60]!r}" for r in examples)
    console.warn(f"batch {batch_id}: {count:,} malformed records quarantined (not written without --path), e.g. {shown}")


# ----------------------------------------------------------------------------------------------
class Writer:
    name: ClassVar[str]
    #: the output mode of this writer's windows query
    windows_mode: ClassVar[str]
    needs_path: ClassVar[bool] = False
    writes_files: ClassVar[bool] = False

    def __init__(self, ctx: WriteContext):
        self.ctx = ctx

    def describe(self) -> str:
        return self.name

    def prepare(self, spark, records_schema, windows_schema) -> None:
        """Called once before the queries start."""

    def on_records(self, good, batch_id: int) -> None:
        """Called for every records batch that has good rows (`good` is cached)."""

    def on_windows(self, windows, batch_id: int) -> None:
        """Called for every windows batch (windowed datasets only)."""


class ConsoleWriter(Writer):
    """A rich table per batch: windows (+ latest price per symbol), or a sample of the rows."""

    name = "console"
    windows_mode = "update"
    rows_per_key = 2
    max_rows = 30
    sample_rows = 5

    def __init__(self, ctx: WriteContext, out=None):
        super().__init__(ctx)
        from rich.console import Console

        if out is None:
            out = Console(highlight=False)
            if not out.is_terminal:  # piped: do not squeeze the table into 80 columns
                out = Console(highlight=False, width=120)
        self.out = out
        self.latest: dict[tuple, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}

    def on_records(self, good, batch_id: int) -> None:
        t = self.ctx.transform
        if hasattr(t, "latest"):  # ticker: remember the newest price per symbol for the windows table
            for r in t.latest(good).collect():
                d = r.asDict()
                old = self.prices.get(d["symbol"])
                if old is None or (d["event_ts"] or 0) >= (old["event_ts"] or 0):
                    self.prices[d["symbol"]] = d
        if getattr(t, "WINDOWED", False) or self.ctx.quiet:
            return
        n = good.count()
        rows = [r.asDict() for r in good.select(*t.TABLE_COLUMNS).limit(self.sample_rows).collect()]
        self.out.print(self.rows_table(f"batch {batch_id}: {n:,} rows (first {len(rows)} shown)", t.TABLE_COLUMNS, rows))

    def on_windows(self, windows, batch_id: int) -> None:
        rows = windows.collect()
        if not rows:
            return
        key = getattr(self.ctx.transform, "WINDOW_KEY", ("symbol", "window_start"))
        for r in rows:
            d = r.asDict()
            self.latest[tuple(d[k] for k in key)] = d
        self.ctx.stats.add(windows_updated=len(rows))
        self._forget_old()
        if not self.ctx.quiet:
            self.out.print(self.table(batch_id, len(rows)))
            if self.prices:
                cols = self.ctx.transform.LATEST_COLUMNS
                self.out.print(self.rows_table("latest price per symbol", cols, [self.prices[s] for s in sorted(self.prices)]))

    def _forget_old(self) -> None:
        """Keep the newest `rows_per_key` windows per symbol (ticker) / the newest windows (tweets)."""
        if getattr(self.ctx.transform, "NAME", "") == "tweets":
            starts = sorted({k[0] for k in self.latest}, reverse=True)[: self.rows_per_key]
            for k in [k for k in self.latest if k[0] not in starts]:
                del self.latest[k]
            return
        by_symbol: dict[str, list] = {}
        for k in sorted(self.latest, key=lambda k: k[1], reverse=True):
            by_symbol.setdefault(k[0], []).append(k)
        for keys in by_symbol.values():
            for k in keys[self.rows_per_key :]:
                del self.latest[k]

    def table(self, batch_id: int, changed: int):
        columns = self.ctx.transform.TABLE_COLUMNS
        if getattr(self.ctx.transform, "NAME", "") == "tweets":
            rows = self._top_rows()
            title = f"batch {batch_id}: top {self.ctx.top} hashtags per window (times UTC)"
        else:
            rows = [self.latest[k] for k in sorted(self.latest)[: self.max_rows]]
            title = f"batch {batch_id}: {changed} window(s) updated (times UTC)"
        return self.rows_table(title, columns, rows)

    def _top_rows(self) -> list[dict]:
        by_window: dict[Any, list] = {}
        for d in self.latest.values():
            by_window.setdefault(d["window_start"], []).append(d)
        out = []
        for start in sorted(by_window, reverse=True):
            ranked = sorted(by_window[start], key=lambda d: (-d["count"], d["hashtag"]))[: self.ctx.top]
            out += [dict(d, rank=i + 1) for i, d in enumerate(ranked)]
        return out

    def rows_table(self, title: str, columns, rows):
        from rich.table import Table

        from rich import box

        t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
        for c in columns:
            left = c in ("symbol", "hashtag", "product_title", "value", "key", "product_category", "position")
            t.add_column(c, justify="left" if left else "right", no_wrap=c != "value", max_width=60 if left else None)
        for row in rows:
            t.add_row(*(_fmt(row.get(c)) for c in columns))
        return t


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if hasattr(value, "hour"):  # datetime
        return value.strftime("%H:%M:%S")
    if hasattr(value, "strftime"):  # date
        return value.strftime("%Y-%m-%d")
    return str(value)


class ParquetWriter(Writer):
    """Good rows, closed windows and quarantine as Parquet under --path (layout in the module doc)."""

    name = "parquet"
    windows_mode = "append"
    needs_path = True
    writes_files = True

    def describe(self) -> str:
        out = self.ctx.output
        return out.describe() if out is not None else f"parquet at {self.ctx.path}"

    def on_records(self, good, batch_id: int) -> None:
        self.ctx.output.write(good, self.ctx.transform.RECORDS_DIR, batch_id, self.ctx.partition_by)

    def on_windows(self, windows, batch_id: int) -> None:
        n = windows.count()  # a small static DataFrame (see job._windows_query)
        if n:
            rows = windows
            if getattr(self.ctx.transform, "NAME", "") == "tweets":
                rows = self.ctx.transform.top_per_window(rows, self.ctx.top)
            self.ctx.output.write(rows, "windows", batch_id)
            self.ctx.stats.add(windows_written=n)


class S3Writer(ParquetWriter):
    """The same files as `parquet`, for an s3:// or s3a:// --path (Hadoop writer or Arrow, see above)."""

    name = "s3"


class MemoryWriter(Writer):
    """Temporary views (`--name`): the rows, the latest value of each window, the latest prices.

    Kept on the driver (like Spark's memory sink): for tests, notebooks and small streams only.
    A replayed batch replaces its own rows (they are kept per batch id).
    """

    name = "memory"
    windows_mode = "update"

    def __init__(self, ctx: WriteContext):
        super().__init__(ctx)
        self.view = ctx.name or getattr(ctx.transform, "NAME", "records")
        self.batches: dict[int, Any] = {}
        self.windows: dict[tuple, dict] = {}
        self.lock = threading.Lock()

    def describe(self) -> str:
        return f"memory views {self.view}" + (f", {self.view}_windows" if getattr(self.ctx.transform, "WINDOWED", False) else "")

    def prepare(self, spark, records_schema, windows_schema) -> None:
        self.spark, self.records_schema, self.windows_schema = spark, records_schema, windows_schema
        spark.createDataFrame([], records_schema).createOrReplaceTempView(self.view)
        if windows_schema is not None:
            spark.createDataFrame([], windows_schema).createOrReplaceTempView(f"{self.view}_windows")
        if hasattr(self.ctx.transform, "latest"):
            self.latest_schema = self.ctx.transform.latest(spark.createDataFrame([], records_schema)).schema
            spark.createDataFrame([], self.latest_schema).createOrReplaceTempView(f"{self.view}_latest")

    def on_records(self, good, batch_id: int) -> None:
        import pyarrow as pa

        with self.lock:
            self.batches[batch_id] = to_arrow_table(good)
            tables = [self.batches[b] for b in sorted(self.batches)]
            df = self.spark.createDataFrame(pa.concat_tables(tables).to_pandas(), self.records_schema)
            df.createOrReplaceTempView(self.view)
            if hasattr(self.ctx.transform, "latest"):
                self.ctx.transform.latest(df).createOrReplaceTempView(f"{self.view}_latest")

    def on_windows(self, windows, batch_id: int) -> None:
        rows = windows.collect()
        if not rows:
            return
        key = getattr(self.ctx.transform, "WINDOW_KEY", ("symbol", "window_start"))
        with self.lock:
            for r in rows:
                self.windows[tuple(r[k] for k in key)] = r
            self.spark.createDataFrame(list(self.windows.values()), self.windows_schema).createOrReplaceTempView(f"{self.view}_windows")


WRITERS: dict[str, type[Writer]] = {w.name: w for w in (ConsoleWriter, ParquetWriter, S3Writer, MemoryWriter)}
