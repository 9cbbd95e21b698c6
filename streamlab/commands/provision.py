"""`streamlab provision <kind>`: create lab resources, showing the plan first. Logic: streamlab.aws.provision,
what each kind asks for: streamlab.aws.blueprints."""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

import click

from streamlab.commands.common import ask_yes_no, aws_handle, aws_options, dry_run_option, lab_option, with_lab, yes_option


@click.group(name="provision")
def command() -> None:
    """Create lab resources on AWS: plan first, tagged `streamlab:*`, recorded in the ledger.

    Rerunning is safe: what already exists and is streamlab's is left as is. `streamlab teardown`
    deletes everything created here.
    """


def diagram_option(func: Callable) -> Callable:
    return click.option(
        "--diagram", is_flag=True,
        help="Print a Mermaid flowchart of the planned resources and their data/alert flows on stdout, and stop (no AWS calls). "
             "Render it at https://mermaid.live or in a ```mermaid block on GitHub.",
    )(func)


def plan_options(func: Callable) -> Callable:
    """What every provision command takes: --lab, --diagram, --yes, --dry-run and the AWS options."""
    return lab_option(diagram_option(yes_option(dry_run_option(aws_options(func)))))


def naming_options(func: Callable) -> Callable:
    """--name-template, --first-name, --last-name -> `namer(lab, arns)` factory kwarg."""

    @click.option("--name-template", default="streamlab-{service}", show_default=True, metavar="TEMPLATE",
                  help="Resource names; fields {service} {first3} {last3} {first} {last} {lab} {account} {region}, "
                       "upper-case variants ({FIRST3}) give capitals, e.g. DE{FIRST3}{LAST3}-{service}.")
    @click.option("--first-name", default=None, help="For {first3}/{first} in --name-template, and named in alerts.")
    @click.option("--last-name", default=None, help="For {last3}/{last} in --name-template, and named in alerts.")
    @functools.wraps(func)
    def wrapper(*args: Any, name_template: str, first_name: Optional[str], last_name: Optional[str], **kwargs: Any):
        from streamlab.aws.naming import Namer

        Namer(name_template, first_name, last_name)  # bad templates fail before anything else

        def namer(lab: str, arns) -> "Namer":
            return Namer(name_template, first_name, last_name, lab=lab, account=arns.account, region=arns.region)

        return func(*args, namer=namer, **kwargs)

    return wrapper


def _run(settings, lab: Optional[str], build, yes: bool, dry_run: bool, diagram: bool) -> None:
    from streamlab.aws.provision import provision_blueprint

    provision_blueprint(aws_handle(with_lab(settings, lab)), build, yes=yes, dry_run=dry_run, diagram=diagram, ask=ask_yes_no)


@command.command("kinesis")
@click.option("--stream", required=True, metavar="NAME", help="Name of the Kinesis data stream to create.")
@click.option("--shards", type=click.IntRange(min=1), default=None, help="Shard count, provisioned mode ($0.015/shard-hour). [default: 1]")
@click.option("--on-demand", is_flag=True, help="On-demand capacity mode instead of shards ($0.04/stream-hour).")
@click.option("--retention-hours", type=click.IntRange(24, 8760), default=None,
              help="How long records are kept (24-8760; over 24 adds $0.02/shard-hour). [default: 24]")
@plan_options
def kinesis(stream: str, shards: Optional[int], on_demand: bool, retention_hours: Optional[int], lab: Optional[str],
            diagram: bool, yes: bool, dry_run: bool, settings) -> None:
    """Create a Kinesis data stream, wait until it is ACTIVE, tag and record it."""
    from streamlab.aws import blueprints

    _run(settings, lab, lambda arns: blueprints.kinesis(stream, shards, on_demand, retention_hours), yes, dry_run, diagram)


@command.command("iam")
@click.option("--role", default="EMR_EC2_DefaultRole", show_default=True, help="Existing role to attach the policy to (never deleted).")
@click.option("--policy", default="AmazonKinesisFullAccess", show_default=True, metavar="NAME|ARN",
              help="Managed policy to attach (AWS managed name or full ARN); teardown detaches it again.")
@click.option("--least-privilege", is_flag=True,
              help="Instead of --policy, create a streamlab policy allowing only a producer's/consumer's actions on --stream.")
@click.option("--stream", default=None, metavar="NAME", help="The one Kinesis stream --least-privilege grants access to.")
@naming_options
@plan_options
def iam(role: str, policy: str, least_privilege: bool, stream: Optional[str], namer, lab: Optional[str], diagram: bool,
        yes: bool, dry_run: bool, settings) -> None:
    """Attach a managed policy to an existing role (default: Kinesis access for EMR's EC2 role).

    Recorded so `streamlab teardown` detaches exactly this attachment; the role is never deleted,
    and an attachment that was already there is left alone.
    """
    from streamlab.aws import blueprints

    blueprints.check_iam_options(least_privilege, stream)
    lab_name = lab or settings.lab
    _run(settings, lab, lambda arns: blueprints.iam(role, policy, least_privilege, stream, namer(lab_name, arns), arns), yes, dry_run, diagram)


@command.command("bucket")
@click.option("--name", required=True, help="Bucket name (lower case, globally unique).")
@click.option("--public-read", is_flag=True,
              help="Let any authenticated AWS account list and read objects (never write, never anonymous). Off: private.")
@plan_options
def bucket(name: str, public_read: bool, lab: Optional[str], diagram: bool, yes: bool, dry_run: bool, settings) -> None:
    """Create an S3 bucket: private, public access blocked (unless --public-read)."""
    from streamlab import console
    from streamlab.aws import blueprints

    if public_read and not diagram:
        console.warn(blueprints.public_read_warning(name))
    _run(settings, lab, lambda arns: blueprints.bucket(name, public_read), yes, dry_run, diagram)


@command.command("firehose")
@click.option("--name", "--delivery-stream", "name", required=True, help="Delivery stream name (what `--sink firehose --delivery-stream` writes to).")
@click.option("--bucket", required=True, help="Destination bucket; created (private) if missing, used as is otherwise.")
@click.option("--prefix", default="", help="Key prefix inside the bucket, e.g. ticker/.")
@plan_options
def firehose(name: str, bucket: str, prefix: str, lab: Optional[str], diagram: bool, yes: bool, dry_run: bool, settings) -> None:
    """Create a Firehose delivery stream (DirectPut) to S3, with its IAM role, and the bucket if missing."""
    from streamlab.aws import blueprints
    from streamlab.aws.resources.s3 import validate_bucket_name

    validate_bucket_name(bucket)
    _run(settings, lab, lambda arns: blueprints.firehose(name, bucket, prefix, arns), yes, dry_run, diagram)


@command.command("ticker-pipeline")
@click.option("--email", "emails", multiple=True, metavar="ADDRESS", help="Send failure alerts to this address (repeatable).")
@click.option("--bucket", default=None, help="Bucket for the ticks. [default: streamlab-streaming-bucket-<account>-<region> (S3 names are global); with --name-template: its name for service streaming-bucket, lower-cased]")
@click.option("--prefix", default="ticker/", show_default=True, help="Key prefix of the ticks in the bucket.")
@click.option("--schedule", default="rate(1 minute)", show_default=True, help="How often the generator runs (EventBridge rate/cron).")
@naming_options
@plan_options
def ticker_pipeline(emails: tuple[str, ...], bucket: Optional[str], prefix: str, schedule: str, namer, lab: Optional[str],
                    diagram: bool, yes: bool, dry_run: bool, settings) -> None:
    """The serverless lab in one command: DynamoDB prices, a scheduled generator Lambda -> Firehose -> S3,
    failures -> notification Lambda -> SNS email, with the IAM roles and policies they need."""
    from streamlab.aws import blueprints

    lab_name = lab or settings.lab
    _run(settings, lab, lambda arns: blueprints.ticker_pipeline(namer(lab_name, arns), arns, list(emails), bucket, prefix, schedule),
         yes, dry_run, diagram)


@command.command("alerts")
@click.option("--email", "emails", multiple=True, metavar="ADDRESS", help="Mail the alerts to this address (repeatable); AWS asks each to confirm.")
@click.option("--topic", default=None, metavar="NAME", help="Name of the SNS topic. [default: the name template's, for service price-alerts: streamlab-price-alerts]")
@naming_options
@plan_options
def alerts(emails: tuple[str, ...], topic: Optional[str], namer, lab: Optional[str], diagram: bool, yes: bool, dry_run: bool,
           settings) -> None:
    """An SNS topic for `streamlab alert --notify sns:TOPIC`, with an email subscription per --email:
    tagged and recorded, so `streamlab teardown` removes it like everything else."""
    from streamlab.aws import blueprints

    lab_name = lab or settings.lab
    _run(settings, lab, lambda arns: blueprints.alerts(topic or namer(lab_name, arns).name("price-alerts"), list(emails)),
         yes, dry_run, diagram)
