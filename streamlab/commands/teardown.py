"""`streamlab teardown`: delete what streamlab created, plan first. Logic: streamlab.aws.teardown."""

from __future__ import annotations

from typing import Optional

import click

from streamlab.commands.common import aws_options, dry_run_option, yes_option


@click.command(name="teardown")
@click.option("--lab", default=None, help="Only resources of this lab (tag streamlab:lab). [default: every lab]")
@yes_option
@dry_run_option
@aws_options
def command(lab: Optional[str], yes: bool, dry_run: bool, settings) -> None:
    """Delete every resource streamlab created here (ledger + `streamlab:created-by` tag), nothing else.

    Shows the plan and asks first (unless --yes), deletes in dependency order, then checks the
    services again and exits non-zero if anything it should have deleted is still there.
    """
    from streamlab.aws.teardown import teardown

    teardown(settings, lab=lab, yes=yes, dry_run=dry_run)
