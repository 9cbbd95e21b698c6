"""`streamlab teardown`: delete what streamlab created, plan first. Logic: streamlab.aws.teardown."""

from __future__ import annotations

from typing import Optional

import click

from streamlab.commands.common import ask_yes_no, aws_handle, aws_options, dry_run_option, yes_option


@click.command(name="teardown")
@click.option("--lab", default=None, help="Only resources of this lab (tag streamlab:lab). [default: every lab]")
@click.option("--all", "all_labs", is_flag=True, help="Every lab (the default; spelled out for scripts). Not with --lab.")
@click.option("--keep-bucket", is_flag=True, help="Leave S3 buckets (and their objects) in place.")
@click.option("--emr", is_flag=True, help="Also terminate EMR clusters tagged streamlab:created-by=streamlab (only those).")
@yes_option
@dry_run_option
@aws_options
def command(lab: Optional[str], all_labs: bool, keep_bucket: bool, emr: bool, yes: bool, dry_run: bool, settings) -> None:
    """Delete every resource streamlab created here (ledger + `streamlab:created-by` tag), nothing else.

    Shows the plan and asks first (unless --yes), deletes in dependency order (schedules and targets,
    functions, delivery streams, subscriptions, policy detachments, roles, then buckets, emptied first),
    then checks the services again and exits non-zero if anything it should have deleted is still there.
    Roles and managed policies streamlab did not create are never deleted: only its attachments are detached.
    """
    from streamlab.aws.teardown import teardown
    from streamlab.errors import ConfigError

    if lab and all_labs:
        raise ConfigError("--lab and --all cannot be used together", "pick one: --lab NAME for one lab, --all for every lab")
    teardown(aws_handle(settings), lab=lab, yes=yes, dry_run=dry_run, keep_bucket=keep_bucket, emr=emr, ask=ask_yes_no)
