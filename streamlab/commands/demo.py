"""`streamlab demo`: emulator -> Kinesis -> Spark -> console + Parquet -> teardown, offline."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from streamlab import console
from streamlab.sources.params import FiniteFloat


@click.command("demo")
@click.option("--duration", type=FiniteFloat(min=1), default=30.0, show_default=True, help="Seconds of synthetic ticker to produce.")
@click.option("--rate", type=FiniteFloat(min=1), default=50.0, show_default=True, help="Records per second.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("streamlab-output"), show_default=True, help="Where the Parquet output goes (a previous demo's output is replaced).")
@click.option("--lab", type=click.Choice(["kinesis-spark", "ticker-pipeline"]), default="kinesis-spark", show_default=True,
              help="kinesis-spark: ticker -> Kinesis -> Spark. ticker-pipeline: the serverless lab (schedule -> Lambda -> DynamoDB/Firehose/S3, failure -> SNS).")
@click.option("--runs", type=click.IntRange(min=1, max=50), default=5, show_default=True, help="Scheduled generator runs to wait for (--lab ticker-pipeline).")
def command(duration: float, rate: float, output: Path, lab: str, runs: int) -> None:
    """Run a lab's whole pipeline offline on a local AWS emulator; needs no account and no network.

    Default: starts the emulator, creates a Kinesis stream, produces the synthetic ticker, runs the
    Spark job (live window table on screen, Parquet on disk), then tears everything down.
    --lab ticker-pipeline rehearses the serverless lab instead (no Spark needed).
    """
    if lab == "ticker-pipeline":
        from streamlab.demo_ticker import run_ticker_demo, summary

        console.info("[bold green]" + summary(run_ticker_demo(runs=runs)) + "[/]")
        return
    from streamlab.demo import run_demo

    r = run_demo(duration=duration, rate=rate, output=output)
    console.info(
        f"[bold green]demo done[/] in {r.elapsed:.0f}s: {r.produced:,} records produced, {r.consumed:,} consumed, "
        f"{r.windows_written:,} windows written, {r.quarantined:,} quarantined; {r.leftover} resources left"
    )
    console.info(f"Parquet output: {r.output}/trades and {r.output}/windows")
    if r.chart is not None:
        console.info(f"candlesticks of the windows: {r.chart}")
    # this interpreter (the venv's, which has pyarrow), not whatever `python` is on PATH
    code = f"import pyarrow.parquet as pq; print(pq.read_table({json.dumps(str(r.output / 'windows'))}).to_pandas())"
    console.info(f"read it back: {shlex.join([sys.executable, '-c', code])}  (or: streamlab chart candles --path {shlex.quote(str(r.output))})")
