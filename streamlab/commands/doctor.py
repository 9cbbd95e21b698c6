"""`streamlab doctor`: what is present, what is missing, and the fix for each missing piece. Logic: streamlab.doctor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from streamlab.commands.common import aws_handle, aws_options

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings


@click.command("doctor")
@aws_options
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Table for people, JSON for scripts.")
def command(settings: Settings, output: str) -> None:
    """Check Python, Java, pyspark/pyarrow, AWS credentials/region/endpoint and the local emulator."""
    from streamlab import doctor

    checks = doctor.run_checks(aws_handle(settings))
    doctor.show(checks, output)
    if doctor.failed(checks):
        raise SystemExit(1)
