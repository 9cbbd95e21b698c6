"""The memory sink: temporary views for notebooks and tests."""

from __future__ import annotations

import threading
from typing import Any

from streamlab.spark.outputs import to_arrow_table
from streamlab.spark.writers.base import WriteContext, Writer


class MemoryWriter(Writer):
    """Temporary views (`--name`): the rows, the latest value of each window, the dataset's latest view.

    Kept on the driver (like Spark's memory sink): for tests, notebooks and small streams only.
    A replayed batch replaces its own rows (they are kept per batch id).
    """

    name = "memory"
    windows_mode = "update"

    def __init__(self, ctx: WriteContext):
        super().__init__(ctx)
        self.view = ctx.name or ctx.dataset.name
        self.batches: dict[int, Any] = {}
        self.windows: dict[tuple, dict] = {}
        self.lock = threading.Lock()

    def describe(self) -> str:
        return f"memory views {self.view}" + (f", {self.view}_windows" if self.ctx.dataset.has_windows else "")

    def prepare(self, spark, records_schema, windows_schema) -> None:
        self.spark, self.records_schema, self.windows_schema = spark, records_schema, windows_schema
        spark.createDataFrame([], records_schema).createOrReplaceTempView(self.view)
        if windows_schema is not None:
            spark.createDataFrame([], windows_schema).createOrReplaceTempView(f"{self.view}_windows")
        if self.ctx.dataset.has_latest:
            self.latest_schema = self.ctx.dataset.latest(spark.createDataFrame([], records_schema)).schema
            spark.createDataFrame([], self.latest_schema).createOrReplaceTempView(f"{self.view}_latest")

    def on_records(self, good, batch_id: int) -> None:
        import pyarrow as pa

        with self.lock:
            self.batches[batch_id] = to_arrow_table(good)
            tables = [self.batches[b] for b in sorted(self.batches)]
            df = self.spark.createDataFrame(pa.concat_tables(tables).to_pandas(), self.records_schema)
            df.createOrReplaceTempView(self.view)
            if self.ctx.dataset.has_latest:
                self.ctx.dataset.latest(df).createOrReplaceTempView(f"{self.view}_latest")

    def on_windows(self, windows, batch_id: int) -> None:
        rows = windows.collect()
        if not rows:
            return
        key = self.ctx.dataset.window_key
        with self.lock:
            for r in rows:
                self.windows[tuple(r[k] for k in key)] = r
            self.spark.createDataFrame(list(self.windows.values()), self.windows_schema).createOrReplaceTempView(f"{self.view}_windows")
