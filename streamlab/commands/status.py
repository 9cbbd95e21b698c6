"""`streamlab status`: what streamlab created that still exists, and its estimated cost. Logic: streamlab.aws.status."""

from __future__ import annotations

from typing import Optional

import click

from streamlab.commands.common import aws_handle, aws_options


@click.command(name="status")
@click.option("--lab", default=None, help="Only resources of this lab (tag streamlab:lab). [default: every lab]")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format (on stdout).")
@aws_options
def command(lab: Optional[str], output: str, settings) -> None:
    """List resources streamlab created (ledger + tags) that still exist, their state and est. $/hour."""
    from streamlab.aws.status import status

    status(aws_handle(settings), lab=lab, output=output)
