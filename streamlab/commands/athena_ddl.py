"""`streamlab athena-ddl`: print the Athena tables for what `streamlab consume` wrote (see streamlab.athena)."""

from __future__ import annotations

import click

from streamlab.athena import TABLES


@click.command("athena-ddl")
@click.option("--dataset", type=click.Choice(sorted(TABLES)), default="reviews", show_default=True, help="The --dataset consume ran with.")
@click.option("--path", required=True, metavar="URL", help="The --path consume wrote to, e.g. s3://bucket/me/bronze/reviews (s3a:// is printed as s3://).")
@click.option("--table", default=None, help="Table name. [default: the dataset name]")
@click.option("--database", default=None, help="Create the table in this database (CREATE DATABASE IF NOT EXISTS is printed first).")
@click.option("--date-column", type=click.Choice(["review_date", "purchase_date"]), default="review_date", show_default=True, help="As given to consume (reviews).")
@click.option("--partition-by", multiple=True, metavar="COLUMN", help="As given to consume.")
def command(dataset: str, path: str, table, database, date_column: str, partition_by) -> None:
    """Print CREATE EXTERNAL TABLE statements (Parquet) matching consume's output, and queries to check it.

    Paste the output into the Athena query editor, one statement at a time.

    \b
      streamlab athena-ddl --dataset reviews --path s3://hwe-fall/me/bronze/reviews --table bronze_reviews
    """
    from streamlab.athena import ddl

    click.echo(ddl(dataset, path, table, date_column=date_column, partition_by=partition_by, database=database))
