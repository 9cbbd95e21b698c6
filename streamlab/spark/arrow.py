"""A Spark schema's Arrow form, as `to_arrow_schema(schema, timezone="UTC")` gives it, without
importing pandas (pyspark.sql.pandas does): the Python sources build their batches with it."""

from __future__ import annotations

from typing import Any


def arrow_schema_of(struct) -> Any:
    """The Arrow schema Spark checks a Python source's batches against, for the column types the
    sources use (binary, string, int, long, timestamp)."""
    import pyarrow as pa
    from pyspark.sql.types import BinaryType, IntegerType, LongType, StringType, TimestampType

    arrow = {
        BinaryType: pa.binary(),
        StringType: pa.string(),
        IntegerType: pa.int32(),
        LongType: pa.int64(),
        TimestampType: pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([(f.name, arrow[type(f.dataType)]) for f in struct.fields])
