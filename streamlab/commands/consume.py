"""`streamlab consume`: a Spark Structured Streaming job over a stream (see `streamlab.spark`).

Thin: flags -> `streamlab.spark.job.run_consume`. pyspark is imported only once the job runs, so
`streamlab consume --help` stays quick.
"""

from __future__ import annotations

import click

from streamlab.commands.common import aws_options
from streamlab.settings import Settings
from streamlab.spark.readers import READER_CHOICES, READERS
from streamlab.spark.transforms import TRANSFORMS
from streamlab.spark.writers import WRITERS


@click.command("consume")
@click.option("--source", type=click.Choice(sorted(READERS)), default="kinesis", show_default=True, help="Where records come from.")
@click.option("--stream", default=None, metavar="NAME", help="Kinesis stream name.")
@click.option("--dataset", type=click.Choice(sorted(TRANSFORMS)), default="ticker", show_default=True, help="How records are parsed and windowed.")
@click.option("--sink", type=click.Choice(sorted(WRITERS)), multiple=True, default=("console",), show_default=True, help="console: live table of windows; parquet: files under --path. Repeat for both.")
@click.option("--path", default=None, metavar="DIR", help="Output directory (trades/, windows/, _quarantine/). Required by --sink parquet.")
@click.option("--checkpoint", default=None, metavar="DIR", help="Checkpoint directory; reuse it to continue where the last run stopped. [default: <path>/_checkpoint, else a temporary one]")
@click.option("--trigger", default="5s", show_default=True, help="Batch interval (5s, 500ms, 1m) or available-now (read the backlog, then stop).")
@click.option("--starting-position", type=click.Choice(["trim-horizon", "latest"]), default="trim-horizon", show_default=True, help="Where a new checkpoint starts reading.")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS", help="Stop after this many seconds (committed batches are kept).")
@click.option("--reader", type=click.Choice(READER_CHOICES), default="auto", show_default=True, help="auto: the JVM connector when on the classpath (EMR 7.1+), else streamlab's Python source.")
@click.option("--window", default=None, help="Window length. [default: 1 minute]")
@click.option("--watermark", default=None, help="How late an event may arrive and still count. [default: 30 seconds]")
@click.option("--max-records-per-batch", type=click.IntRange(min=1), default=None, help="Cap records per batch (Python Kinesis source). [default: 100000]")
@click.option("--quiet", "-q", is_flag=True, help="No table or progress; errors and nothing else.")
@aws_options
def command(settings: Settings, **opts) -> None:
    """Read a stream with Spark, parse it, window it per symbol and write or show the windows.

    Malformed records are counted and kept in a quarantine output, never dropped silently.

    Examples:

      streamlab consume --local --stream ticker --sink console

      streamlab consume --local --stream ticker --sink parquet --path ./out --trigger available-now
    """
    from streamlab.spark.job import run_consume

    run_consume(settings, **opts)
