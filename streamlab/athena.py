"""Athena DDL for what `streamlab consume` writes: `CREATE EXTERNAL TABLE ... STORED AS PARQUET`.

The column lists are the outputs each dataset declares (`streamlab.spark.datasets`), the Parquet
schemas the consumer's writers produce (a test compares them with Spark's own schema of each
dataset's output, and with a file written to the emulator's S3). Every output folder holds
`batch_id=N/` sub-folders (one per micro-batch, see `streamlab.spark.writers`), so each table is
`PARTITIONED BY (batch_id bigint, <--partition-by>)` and needs `MSCK REPAIR TABLE` (printed) to see
new batches. No pyspark import: this runs anywhere.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from streamlab.errors import ConfigError
from streamlab.spark.datasets import DATASETS, QUARANTINE_COLUMNS, create

#: the datasets athena-ddl knows: every one consume writes
TABLES = DATASETS


def columns(dataset: str, date_column: str = "review_date", kind: str = "") -> list[tuple[str, str]]:
    """(name, type) of one of the dataset's tables ("" the main one, "_windows")."""
    return list(create(dataset, date_column=date_column).outputs()[kind].columns)


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ConfigError(f"table name {name!r} is not a plain identifier", "use letters, digits and underscores, e.g. --table bronze_reviews")
    return name.lower()


def _location(path: str, folder: str) -> str:
    if not re.match(r"^s3a?n?://[^/]+", path):
        raise ConfigError(f"--path {path} is not an S3 location", "give the same s3:// (or s3a://) path consume wrote to, e.g. s3://bucket/me/bronze/reviews")
    url = "s3://" + path.split("://", 1)[1].rstrip("/")  # Athena reads s3:// only
    return f"{url}/{folder}/" if folder else f"{url}/"


def _col(name: str) -> str:
    return f"`{name}`"


def create_table(table: str, cols: list[tuple[str, str]], location: str, partition_by: Sequence[tuple[str, str]] = ()) -> str:
    body = ",\n".join(f"  {_col(c)} {t}" for c, t in cols if c not in {p for p, _ in partition_by})
    parts = ",\n".join(f"  {_col(c)} {t}" for c, t in [("batch_id", "bigint"), *partition_by])
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{body}\n)\n"
        f"PARTITIONED BY (\n{parts}\n)\n"
        f"STORED AS PARQUET\n"
        f"LOCATION '{location}';"
    )


def ddl(dataset: str, path: str, table: Optional[str] = None, *, date_column: str = "review_date",
        partition_by: Sequence[str] = (), database: Optional[str] = None) -> str:
    """The statements to run in Athena, in order, as one text (statements end with `;`)."""
    if dataset not in TABLES:
        raise ConfigError(f"unknown dataset {dataset!r}", f"choose one of: {', '.join(sorted(TABLES))}")
    base = _ident(table or ("reviews" if dataset == "reviews" else dataset))
    prefix = f"{_ident(database)}." if database else ""
    out: list[str] = []
    if database:
        out.append(f"CREATE DATABASE IF NOT EXISTS {_ident(database)};")
    names = []
    for suffix, output in create(dataset, date_column=date_column).outputs().items():
        cols, folder = list(output.columns), output.folder
        known = dict(cols)
        parts = []
        for p in (partition_by if suffix == "" else ()):
            if p not in known:
                raise ConfigError(f"--partition-by {p} is not a column of {dataset}", f"choose from: {', '.join(known)}")
            parts.append((p, known[p]))
        name = f"{prefix}{base}{suffix}"
        names.append(name)
        out.append(create_table(name, cols, _location(path, folder), parts))
        out.append(f"MSCK REPAIR TABLE {name};  -- run again after new batches to see them")
    quarantine = f"{prefix}{base}_quarantine"
    out.append(create_table(quarantine, list(QUARANTINE_COLUMNS), _location(path, "_quarantine")))
    out.append(f"MSCK REPAIR TABLE {quarantine};")
    out.append("-- validation queries")
    out += validation_queries(dataset, names[0], date_column)
    out.append(f"SELECT reason, count(*) AS n FROM {quarantine} GROUP BY reason ORDER BY n DESC;")
    return "\n\n".join(out)


def validation_queries(dataset: str, table: str, date_column: str = "review_date") -> list[str]:
    if dataset == "reviews":
        return [
            f"SELECT count(*) AS reviews FROM {table};",
            f"SELECT star_rating, count(*) AS n FROM {table} GROUP BY star_rating ORDER BY star_rating;",
            f"SELECT max(review_timestamp) AS latest_review_timestamp, max({date_column}) AS latest_{date_column} FROM {table};",
            f"SELECT product_title, count(*) AS reviews FROM {table} GROUP BY product_title ORDER BY reviews DESC LIMIT 10;",
        ]
    if dataset in ("ticker", "trades"):
        return [
            f"SELECT count(*) AS trades FROM {table};",
            f"SELECT symbol, count(*) AS n, max(event_ts) AS latest FROM {table} GROUP BY symbol ORDER BY n DESC;",
            f"SELECT * FROM {table}_windows ORDER BY window_start DESC, symbol LIMIT 20;",
        ]
    if dataset == "tweets":
        return [
            f"SELECT count(*) AS posts, max(event_ts) AS latest FROM {table};",
            f"SELECT window_start, hashtag, count FROM {table}_windows WHERE rank <= 3 ORDER BY window_start DESC, rank LIMIT 30;",
        ]
    return [f"SELECT count(*) AS records, max(arrival) AS latest FROM {table};", f"SELECT * FROM {table} LIMIT 10;"]
