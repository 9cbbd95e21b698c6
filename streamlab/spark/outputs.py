"""Where Parquet goes: output paths, their checks, and the two Parquet writers behind the file sinks.

`SparkOutput` is Spark's own writer (local folders and any Hadoop file system on the classpath:
`s3://` on EMR, `s3a://` with hadoop-aws, `hdfs://`). `ArrowS3Output` writes `s3://`/`s3a://`
without one: `foreachBatch` -> Arrow -> `pyarrow.fs.S3FileSystem`, with the endpoint, region and
credentials of the command's AWS handle. `choose_output` picks one; the log says which runs.
Each batch goes to its own `batch_id=N` folder, replaced when Spark replays the batch. `read`
reads a folder back (the open windows of a bounded run are computed from `trades/`, see
`spark.open_windows`), `replace` makes one batch folder the only one (`windows_open/`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

from streamlab.errors import ConfigError

S3_SCHEMES = ("s3", "s3a", "s3n")
BATCH_FOLDER = re.compile(r"^batch_id=(\d+)$")


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


def check_bucket(aws, path: str) -> None:
    """Before Spark starts: the bucket of an s3 path exists (one line saying how to make it).
    `aws` is the command's `streamlab.aws.session.AWS` handle."""
    from streamlab.errors import ResourceNotFound

    bucket = urlparse(path).netloc
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise ResourceNotFound(f"S3 bucket {bucket} not found", f"create it (`streamlab provision s3 --bucket {bucket}`) or check the name") from None
        if code in ("403", "AccessDenied"):
            raise ConfigError(f"no access to S3 bucket {bucket}", "check your AWS credentials and the bucket's policy") from None
        raise


def hadoop_path(spark, path: str):
    """(Hadoop Path, its FileSystem) for any path Spark can write (local, hdfs://, s3a:// ...)."""
    jvm = spark._jvm  # noqa: SLF001
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p, p.getFileSystem(spark._jsc.hadoopConfiguration())  # noqa: SLF001


class Output:
    """Where Parquet goes: `write(df, kind, batch_id)` replaces that batch's folder."""

    def describe(self) -> str:
        raise NotImplementedError

    def write(self, df, kind: str, batch_id: int, partition_by: tuple = ()) -> None:
        raise NotImplementedError

    def url(self, kind: str) -> str:
        raise NotImplementedError

    def read(self, spark, kind: str, schema, after: Optional[tuple[str, int]] = None):
        """Every batch under `kind` as one batch DataFrame with `schema`'s columns (None when the
        folder does not exist); `after=(column, epoch ms)` keeps the rows with a later timestamp."""
        raise NotImplementedError

    def batch_folders(self, spark, kind: str) -> dict[int, str]:
        """batch id -> folder (as `remove` takes it) of the `batch_id=N` folders under `kind`."""
        raise NotImplementedError

    def remove(self, spark, folder: str) -> None:
        raise NotImplementedError

    def replace(self, spark, df, kind: str, batch_id: int) -> None:
        """`df` becomes the only batch under `kind` (None: no batch left). The new folder is written
        before the old ones go, so a reader sees the old batch or the new one, never none."""
        if df is not None:
            self.write(df, kind, batch_id)
        for b, folder in self.batch_folders(spark, kind).items():
            if df is None or b != batch_id:
                self.remove(spark, folder)


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

    def read(self, spark, kind: str, schema, after: Optional[tuple[str, int]] = None):
        from pyspark.sql import functions as F

        p, fs = hadoop_path(spark, self.url(kind))
        if not fs.exists(p):
            return None
        df = spark.read.parquet(self.url(kind)).select(*schema.names)  # batch_id= (and --partition-by) folders are columns
        if after is not None:
            df = df.where(F.col(after[0]) > F.timestamp_millis(F.lit(after[1])))
        return df

    def batch_folders(self, spark, kind: str) -> dict[int, str]:
        p, fs = hadoop_path(spark, self.url(kind))
        if not fs.exists(p):
            return {}
        found = (BATCH_FOLDER.match(st.getPath().getName()) for st in fs.listStatus(p) if st.isDirectory())
        return {int(m.group(1)): batch_dir(self.path, kind, int(m.group(1))) for m in found if m}

    def remove(self, spark, folder: str) -> None:
        p, fs = hadoop_path(spark, folder)
        fs.delete(p, True)


def to_arrow_table(df):
    """A batch DataFrame as a pyarrow Table (`toArrow` on Spark 4; through pandas on 3.5)."""
    if hasattr(df, "toArrow"):
        return df.toArrow()
    import pyarrow as pa

    return pa.Table.from_pandas(df.toPandas(), preserve_index=False)


def s3_filesystem(aws):
    """The command's AWS handle as a `pyarrow.fs.S3FileSystem` (see `AWS.arrow_s3_filesystem`)."""
    return aws.arrow_s3_filesystem()


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

    def folder(self, kind: str) -> str:
        return "/".join(p for p in (self.bucket, self.prefix, kind) if p)

    def key(self, kind: str, batch_id: int) -> str:
        return f"{self.folder(kind)}/batch_id={batch_id}"

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

    def read(self, spark, kind: str, schema, after: Optional[tuple[str, int]] = None):
        import pyarrow as pa
        import pyarrow.dataset as ds
        from pyarrow import fs

        folder = self.folder(kind)
        if self.fs.get_file_info(folder).type != fs.FileType.Directory:
            return None
        data = ds.dataset(folder, filesystem=self.fs, format="parquet", partitioning="hive")
        where = None
        if after is not None:
            column, ms = after
            bound = pa.scalar(ms * 1000, pa.timestamp("us", tz="UTC")).cast(data.schema.field(column).type)
            where = ds.field(column) > bound
        table = data.to_table(columns=list(schema.names), filter=where)
        return spark.createDataFrame(table.to_pandas(), schema)

    def batch_folders(self, spark, kind: str) -> dict[int, str]:
        from pyarrow import fs

        infos = self.fs.get_file_info(fs.FileSelector(self.folder(kind), allow_not_found=True))
        found = ((BATCH_FOLDER.match(i.base_name), i.path) for i in infos if i.type == fs.FileType.Directory)
        return {int(m.group(1)): path for m, path in found if m}

    def remove(self, spark, folder: str) -> None:
        self.fs.delete_dir(folder)


def hadoop_fs_available(spark, scheme: str) -> bool:
    """Whether Spark's Hadoop configuration has a file system class for `scheme` (s3a needs hadoop-aws)."""
    try:
        jvm = spark._jvm  # noqa: SLF001 - the only way to ask the classpath from Python
        conf = spark._jsc.hadoopConfiguration()  # noqa: SLF001
        jvm.org.apache.hadoop.fs.FileSystem.getFileSystemClass(scheme, conf)
        return True
    except Exception:
        return False


def choose_output(spark, aws, path: str, sink: str) -> Output:
    """Spark's writer for local paths and schemes with a Hadoop file system, else Arrow for S3."""
    if not is_remote(path):
        return SparkOutput(path)
    scheme = scheme_of(path)
    if hadoop_fs_available(spark, scheme):
        return SparkOutput(path)
    if scheme in S3_SCHEMES:
        return ArrowS3Output(path, s3_filesystem(aws))
    raise ConfigError(
        f"--path {path}: Spark has no file system for {scheme}:// here",
        "use a local folder, s3://bucket/prefix (written with pyarrow when Hadoop's S3 is absent), or run where the file system is installed",
    )
