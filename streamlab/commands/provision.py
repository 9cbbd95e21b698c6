"""`streamlab provision <kind>`: create lab resources, showing the plan first. Logic: streamlab.aws.provision."""

from __future__ import annotations

from typing import Optional

import click

from streamlab.commands.common import aws_options, dry_run_option, lab_option, with_lab, yes_option


@click.group(name="provision")
def command() -> None:
    """Create lab resources on AWS: plan first, tagged `streamlab:*`, recorded in the ledger.

    Rerunning is safe: what already exists and is streamlab's is left as is. `streamlab teardown`
    deletes everything created here.
    """


@command.command("kinesis")
@click.option("--stream", required=True, metavar="NAME", help="Name of the Kinesis data stream to create.")
@click.option("--shards", type=click.IntRange(min=1), default=None, help="Shard count, provisioned mode ($0.015/shard-hour). [default: 1]")
@click.option("--on-demand", is_flag=True, help="On-demand capacity mode instead of shards ($0.04/stream-hour).")
@lab_option
@yes_option
@dry_run_option
@aws_options
def kinesis(stream: str, shards: Optional[int], on_demand: bool, lab: Optional[str], yes: bool, dry_run: bool, settings) -> None:
    """Create a Kinesis data stream, wait until it is ACTIVE, tag and record it."""
    from streamlab.aws.provision import provision
    from streamlab.aws.resources import Spec

    settings = with_lab(settings, lab)
    provision(settings, [Spec("kinesis", stream, {"shards": shards, "on_demand": on_demand})], yes=yes, dry_run=dry_run)
