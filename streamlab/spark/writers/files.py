"""The file sinks: good rows, closed windows, a bounded run's open windows and quarantine as Parquet under --path (see `spark.outputs`)."""

from __future__ import annotations

from streamlab.spark.writers.base import Writer


class ParquetWriter(Writer):
    """Good rows, closed windows and quarantine as Parquet under --path (layout in `spark.writers`)."""

    name = "parquet"
    windows_mode = "append"
    needs_path = True
    writes_files = True

    def describe(self) -> str:
        out = self.ctx.output
        return out.describe() if out is not None else f"parquet at {self.ctx.path}"

    def prepare(self, spark, records_schema, windows_schema) -> None:
        self.records_schema = records_schema

    def on_records(self, good, batch_id: int) -> None:
        self.ctx.output.write(good, self.ctx.dataset.records_dir, batch_id, self.ctx.partition_by)

    def on_windows(self, windows, batch_id: int) -> None:
        n = windows.count()  # a small static DataFrame (see queries.windows_query)
        if n:
            dataset = self.ctx.dataset
            rows = dataset.top_per_window(windows) if dataset.has_top else windows
            self.ctx.output.write(rows, "windows", batch_id)
            self.ctx.stats.add(windows_written=n)

    def on_run_end(self, end):
        """Replace windows_open/ with the windows still open (see `spark.open_windows`)."""
        from streamlab.spark.open_windows import write_open

        return write_open(self.ctx, self.records_schema, end)


class S3Writer(ParquetWriter):
    """The same files as `parquet`, for an s3:// or s3a:// --path (Hadoop writer or Arrow, see `spark.outputs`)."""

    name = "s3"
