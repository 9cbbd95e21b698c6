"""The dataset protocol: what a consume run asks of a dataset, declared on one small class.

A dataset turns the reader's rows (`data`, `key`, `position`, `arrival`; see `spark.readers`) into
what the writers write. Every dataset has

    name            the `--dataset` name it is registered under
    parse(raw)      every input row, with `_error` null for a good row (never drops a row)
    good(parsed)    the rows written (`record_columns`, in order)
    quarantine(parsed)  the unusable rows: `raw`, `reason`, `position`
    records_dir     the folder under --path the good rows go to ("" = --path itself)
    table_columns   what the console shows of a row (or of a window, for a windowed dataset)

and may have (each declared by a flag the writers ask, never by testing the dataset's name):

    has_windows     windows(good, window, watermark, slide): the streaming aggregate, with
                    `window_key` (what identifies a window row), `default_window`,
                    `default_watermark`, and `window_columns` (the schema written to windows/)
    has_top         top_per_window(windows): the `top` best rows of each window (tweets' hashtags),
                    what is written and shown instead of every window row
    has_latest      latest(good): a small "latest per key" view (`latest_columns`), for the console
                    and the memory sink's `<name>_latest` view

`outputs()` lists the tables the dataset writes with their schemas (name, Spark/Athena type): the
one definition `athena-ddl` prints and a test compares with what Spark writes.
Options are constructor arguments, named in `options` (reviews' `date_column`, tweets' `top`).

No pyspark import at module level (the CLI reads the registry for its choices): the DataFrame
code imports it inside each method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Sequence

Columns = tuple[tuple[str, str], ...]

#: an `_error` starting with this marks a row that is neither written nor a problem (a Finnhub
#: ping): counted as skipped, never quarantined
SKIPPED = "skipped: "

#: the schema of every dataset's quarantine output
#: `raw` is the record as text that every reader accepts (bytes that are not UTF-8 become U+FFFD),
#: `raw_bytes` the record exactly as received (a payload may be binary: duckdb, pandas and pyarrow
#: refuse a string column holding invalid UTF-8, and this is the folder a user opens to debug)
QUARANTINE_COLUMNS: Columns = (("raw", "string"), ("reason", "string"), ("position", "string"), ("raw_bytes", "binary"))


@dataclass(frozen=True)
class Table:
    """One output of a dataset: its folder under --path and its columns (name, Spark SQL type)."""

    folder: str
    columns: Columns


class Dataset:
    name: ClassVar[str]
    records_dir: ClassVar[str]
    table_columns: ClassVar[tuple[str, ...]]
    #: the constructor's keyword options, as `streamlab consume` names them
    options: ClassVar[tuple[str, ...]] = ()

    has_windows: ClassVar[bool] = False
    window_key: ClassVar[tuple[str, ...]] = ()
    window_columns: ClassVar[Columns] = ()
    default_window: ClassVar[Optional[str]] = None
    default_watermark: ClassVar[Optional[str]] = None

    has_top: ClassVar[bool] = False
    has_latest: ClassVar[bool] = False
    latest_columns: ClassVar[tuple[str, ...]] = ()

    #: the schema of `good` (an instance may change it from its options)
    record_columns: Columns = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        # a flag without its method (or its declarations) would fail only once Spark runs
        super().__init_subclass__(**kw)
        for flag, method in (("has_windows", "windows"), ("has_top", "top_per_window"), ("has_latest", "latest")):
            if getattr(cls, flag) and getattr(cls, method) is getattr(Dataset, method):
                raise TypeError(f"{cls.__name__} sets {flag} but does not define {method}()")
        if cls.has_windows and not (cls.window_key and cls.window_columns and cls.default_window and cls.default_watermark):
            raise TypeError(f"{cls.__name__} has windows: declare window_key, window_columns, default_window, default_watermark")

    @property
    def record_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.record_columns)

    def parse(self, raw):
        raise NotImplementedError

    def good(self, parsed):
        from pyspark.sql import functions as F

        return parsed.where(F.col("_error").isNull()).select(*self.record_names)

    def quarantine(self, parsed):
        from pyspark.sql import functions as F

        problem = F.col("_error").isNotNull() & ~F.col("_error").startswith(SKIPPED)
        return parsed.where(problem).select(valid_text(parsed, "_raw").alias("raw"), F.col("_error").alias("reason"), "position",
                                            F.col("_raw").cast("binary").alias("raw_bytes"))

    def windows(self, good, window: Optional[str] = None, watermark: Optional[str] = None, slide: Optional[str] = None):
        raise NotImplementedError(f"the {self.name} dataset has no windows")

    def top_per_window(self, windows):
        raise NotImplementedError(f"the {self.name} dataset has no top-N")

    def latest(self, good):
        raise NotImplementedError(f"the {self.name} dataset has no latest view")

    def outputs(self) -> dict[str, Table]:
        """Table suffix ("" = the main table) -> what is written there (quarantine not included)."""
        out = {"": Table(self.records_dir, self.record_columns)}
        if self.has_windows:
            out["_windows"] = Table("windows", self.window_columns)
        return out


def _names(raw) -> Sequence[str]:
    """A frame's column names; `raw` is the frame or its names already."""
    return raw if isinstance(raw, (tuple, list)) else raw.columns


def raw_text(raw):
    """The record as text, from any reader's shape (`data` binary) or Spark's own (`value`); `raw`
    is the frame or its column names."""
    from pyspark.sql import functions as F

    return F.col("data").cast("string") if "data" in _names(raw) else F.col("value").cast("string")


def valid_text(df, column: str):
    """`column` (text that may hold any bytes: a binary payload cast to string) as valid UTF-8, with
    U+FFFD for what is not. Spark 4 has make_valid_utf8 (its decode() refuses bad bytes); 3.5's decode
    replaces them."""
    from pyspark.sql import functions as F

    if int(df.sparkSession.version.split(".")[0]) >= 4:
        return F.expr(f"make_valid_utf8(`{column}`)")
    return F.expr(f"decode(cast(`{column}` as binary), 'UTF-8')")


def position(raw):
    """The reader's `position` column, or a null one for a frame without it (`raw`: the frame or its names)."""
    from pyspark.sql import functions as F

    return F.col("position") if "position" in _names(raw) else F.lit(None).cast("string")
