"""Read what `consume` wrote: `<kind>/batch_id=N/` Parquet folders, local or on S3, with pyarrow only.

No Spark here: `streamlab chart` and `streamlab dashboard` start in a second and run where only
pyarrow is installed. The S3 file system is built from streamlab's AWS settings (endpoint, region,
credentials incl. session token), the same values the Arrow S3 writer uses.

A batch folder is read once it is complete: Spark's writer leaves `_SUCCESS` when it commits (its
part files are renamed into place first); the Arrow S3 writer puts one object per batch, which is
atomic. So a folder with a `_temporary/` inside (a commit in progress) is skipped until it is done.

Rows come back as plain dicts with every timestamp as epoch milliseconds (Spark writes INT96
timestamps, the Arrow writer microseconds with a time zone; both become ints here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import urlparse

from streamlab.errors import ConfigError, MissingDependency, ResourceNotFound

S3_SCHEMES = ("s3", "s3a", "s3n")
BATCH = re.compile(r"^batch_id=(\d+)$")
#: the folders consume writes (records dirs per dataset, then the shared ones)
RECORD_DIRS = ("trades", "tweets", "records")
KINDS = RECORD_DIRS + ("windows", "windows_open", "_quarantine")


def _pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.dataset  # noqa: F401
    except ImportError:
        raise MissingDependency.extra("pyarrow", "charts") from None


def s3_filesystem(aws):
    """The command's AWS handle as a `pyarrow.fs.S3FileSystem` (see `AWS.arrow_s3_filesystem`)."""
    return aws.arrow_s3_filesystem()


@dataclass
class Output:
    """One consume --path: a pyarrow file system plus the base path on it (`bucket/prefix` for S3)."""

    url: str
    fs: Any
    base: str

    def where(self, kind: str) -> str:
        return f"{self.url.rstrip('/')}/{kind}"

    def has(self, kind: str) -> bool:
        from pyarrow import fs

        return self.fs.get_file_info(f"{self.base}/{kind}").type == fs.FileType.Directory

    def batches(self, kind: str, skip: frozenset = frozenset()) -> list[int]:
        """The complete `batch_id=N` folders under `kind`, in order, except those in `skip` (not
        even looked into: on S3 each look is a request)."""
        from pyarrow import fs

        folder = f"{self.base}/{kind}" if kind else self.base
        try:
            infos = self.fs.get_file_info(fs.FileSelector(folder, allow_not_found=True))
        except OSError as exc:
            raise ResourceNotFound(f"cannot list {self.where(kind)}: {exc}", "check --path and your AWS settings") from None
        ids = []
        for info in infos:
            m = BATCH.match(info.base_name)
            if m and int(m.group(1)) not in skip and info.type == fs.FileType.Directory and self._complete(info.path):
                ids.append(int(m.group(1)))
        return sorted(ids)

    def _complete(self, folder: str) -> bool:
        from pyarrow import fs

        names = {i.base_name for i in self.fs.get_file_info(fs.FileSelector(folder, recursive=False))}
        if "_SUCCESS" in names:
            return True
        return "_temporary" not in names and any(n.endswith(".parquet") or "=" in n for n in names)

    def read(self, kind: str, batch_ids: Iterable[int], columns: Optional[list[str]] = None) -> list[dict]:
        """The rows of those batches (each with its `batch_id`), timestamps as epoch ms."""
        import pyarrow.dataset as ds

        rows: list[dict] = []
        for b in batch_ids:
            folder = f"{self.base}/{kind}/batch_id={b}"
            dataset = ds.dataset(folder, filesystem=self.fs, format="parquet", partitioning="hive")
            names = [c for c in (columns or dataset.schema.names) if c in dataset.schema.names]
            table = dataset.to_table(columns=names)
            for r in plain_rows(table):
                r["batch_id"] = b
                rows.append(r)
        return rows

    def read_all(self, kind: str, columns: Optional[list[str]] = None) -> list[dict]:
        return self.read(kind, self.batches(kind), columns)


def plain_rows(table) -> list[dict]:
    """A pyarrow Table as dicts, timestamp columns as epoch milliseconds (None stays None)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = pc.cast(pc.cast(col, pa.timestamp("ms", tz=col.type.tz), safe=False), pa.int64())
        elif pa.types.is_date(col.type):
            col = pc.cast(pc.cast(col, pa.timestamp("ms"), safe=False), pa.int64())
        cols[name] = col
    return pa.table(cols).to_pylist() if cols else []


def open_output(path: str, settings=None, must_exist: bool = True) -> Output:
    """The consume output at `path` (a folder, file://, or s3://bucket/prefix; s3a:// works too).
    `must_exist=False`: a local folder consume has not created yet is fine (the dashboard waits)."""
    _pyarrow()
    from pyarrow import fs

    if "://" in path and not path.startswith("file://"):
        u = urlparse(path)
        if u.scheme.lower() not in S3_SCHEMES:
            raise ConfigError(f"--path {path}: only local folders and s3:// are read here", "give a folder or s3://bucket/prefix")
        if not u.netloc:
            raise ConfigError(f"--path {path} has no bucket", "e.g. --path s3://my-bucket/prefix")
        from streamlab.aws.session import AWS
        from streamlab.settings import load_settings

        aws = AWS(settings if settings is not None else load_settings(), note=False)
        base = "/".join(p for p in (u.netloc, u.path.strip("/")) if p)
        out = Output(f"s3://{base}", s3_filesystem(aws), base)
        try:
            found = out.fs.get_file_info(u.netloc)
        except OSError as exc:
            raise ResourceNotFound(f"cannot read s3://{u.netloc}: {exc}", f"check the bucket name and your AWS settings ({aws.where()})") from None
        if found.type == fs.FileType.NotFound:
            raise ResourceNotFound(f"S3 bucket {u.netloc} not found", "check --path (the one consume wrote to)")
        return out
    local = Path(path.removeprefix("file://")).expanduser().resolve()
    if must_exist and not local.is_dir():
        raise ResourceNotFound(f"{local} does not exist", "give the --path consume wrote to (e.g. --path ./streamlab-output)")
    return Output(str(local), fs.LocalFileSystem(), str(local))


@dataclass
class Incremental:
    """Reads only the batch folders it has not read yet (the dashboard polls with it).

    Spark overwrites a batch folder when it replays that batch after a crash: the rows of a
    replayed batch id are not read twice (the id is remembered), at the price of missing a
    replay's corrections, which a restart of the dashboard picks up.
    """

    output: Output
    seen: dict[str, set] = field(default_factory=dict)

    def new_rows(self, kind: str, columns: Optional[list[str]] = None) -> list[dict]:
        done = self.seen.setdefault(kind, set())
        fresh = self.output.batches(kind, skip=frozenset(done))
        rows = self.output.read(kind, fresh, columns)
        done.update(fresh)
        return rows
