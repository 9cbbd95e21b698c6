"""`streamlab doctor`: what is present, what is missing, and the fix for each missing piece."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from streamlab.commands.common import aws_options
from streamlab.doctor import run_checks

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings


@click.command("doctor")
@aws_options
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Table for people, JSON for scripts.")
def command(settings: Settings, output: str) -> None:
    """Check Python, Java, pyspark/pyarrow, AWS credentials/region/endpoint and the local emulator."""
    checks = run_checks(settings)
    if output == "json":
        click.echo(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="streamlab doctor")
        for col in ("check", "status", "detail", "fix"):
            table.add_column(col)
        style = {"ok": "green", "missing": "red", "warn": "yellow", "info": "cyan"}
        for c in checks:
            table.add_row(c.name, f"[{style[c.status]}]{c.status}[/]", c.detail, c.fix or "")
        Console().print(table)
    if any(c.status == "missing" and c.required for c in checks):
        raise SystemExit(1)
