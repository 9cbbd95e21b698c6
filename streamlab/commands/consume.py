"""`streamlab consume`: a Spark Structured Streaming job over a stream (see `streamlab.spark`).

Thin: flags -> `streamlab.spark.request.ConsumeRequest` -> `streamlab.spark.job.run_consume`, with
the one AWS handle of the run when it talks to AWS. pyspark is imported only once the job runs, so
`streamlab consume --help` stays quick. Options are grouped by what they configure (source, Kafka,
dataset, sink); a new option is one more decorator in its group and one field of `ConsumeRequest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from streamlab.commands.common import aws_options
from streamlab.sources.params import FiniteFloat
from streamlab.spark.datasets import DATASETS
from streamlab.spark.readers import FILE_FORMATS, READER_CHOICES, READERS
from streamlab.spark.writers import WRITERS

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings

SOURCE_OPTIONS = (
    click.option("--source", type=click.Choice(sorted(READERS)), default="kinesis", show_default=True, help="Where records come from."),
    click.option("--stream", default=None, metavar="NAME", help="Kinesis stream name (--source kinesis)."),
    click.option("--reader", type=click.Choice(READER_CHOICES), default="auto", show_default=True, help="auto: the JVM connector when on the classpath (EMR 7.1+, spark-sql-kafka), else streamlab's Python reader."),
    click.option("--starting-position", type=click.Choice(["trim-horizon", "latest"]), default="trim-horizon", show_default=True, help="Where a new checkpoint starts reading (Kinesis; Kafka unless --starting-offsets)."),
    click.option("--max-records-per-batch", type=click.IntRange(min=1), default=None, help="Cap records per batch (Python Kinesis source). [default: 100000]"),
    click.option("--host", default="127.0.0.1", show_default=True, help="Host of the socket producer (--source socket)."),
    click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port of the socket producer (--source socket), e.g. 9999."),
    click.option("--input", "input_path", default=None, metavar="DIR", help="Folder the file source watches (--source files); --path works too when no sink writes files."),
    click.option("--format", "file_format", type=click.Choice(FILE_FORMATS), default="text", show_default=True, help="What the input files' lines are (--source files): tsv skips header rows, json blank lines."),
)
KAFKA_OPTIONS = (
    click.option("--topic", default=None, help="Kafka topic (--source kafka)."),
    click.option("--bootstrap", default=None, metavar="HOST:PORT", help="Kafka bootstrap servers. [env: HWE_BOOTSTRAP; default: the broker of `streamlab local up --kafka`]"),
    click.option("--starting-offsets", type=click.Choice(["earliest", "latest"]), default=None, help="Where a new checkpoint starts in the topic. [default: earliest]"),
    click.option("--max-offsets-per-trigger", type=click.IntRange(min=1), default=None, help="Cap Kafka records per batch, split across partitions."),
    click.option("--isolation-level", type=click.Choice(["read_uncommitted", "read_committed"]), default="read_uncommitted",
                 show_default=True, help="Kafka: read_committed skips records of aborted transactions and stops at the last stable offset."),
    click.option("--packages", is_flag=True, help="Use Spark's kafka connector, downloaded by Spark (spark.jars.packages matched to this Spark/Scala)."),
    click.option("--security-protocol", default=None, help="PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL. [env: STREAMLAB_KAFKA_SECURITY_PROTOCOL; default: SASL_SSL when a username is set]"),
    click.option("--sasl-mechanism", default=None, help="SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN. [env: STREAMLAB_KAFKA_SASL_MECHANISM]"),
    click.option("--ca-file", default=None, type=click.Path(dir_okay=False), help="PEM CA certificate for TLS. [env: STREAMLAB_KAFKA_CA_FILE]"),
)
DATASET_OPTIONS = (
    click.option("--dataset", type=click.Choice(sorted(DATASETS)), default="ticker", show_default=True, help="How records are parsed: ticker/trades (windows per symbol), reviews (15 TSV columns), tweets (hashtag counts), raw."),
    click.option("--window", default=None, help="Window length, e.g. 1m, 30s, '1 minute'. [default: 1 minute]"),
    click.option("--slide", default=None, help="Slide for sliding windows, e.g. 10s. [default: tumbling]"),
    click.option("--watermark", default=None, help="How late an event may arrive and still count. [default: 30 seconds]"),
    click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Hashtags shown/written per window (--dataset tweets)."),
    click.option("--max-future", type=FiniteFloat(min=0), default=3600.0, show_default=True, metavar="SECONDS",
                 help="Trades whose event time is further than this ahead of their arrival are quarantined, so one wrong clock "
                      "(e.g. microseconds) cannot move the watermark and end all windows (--dataset trades)."),
    click.option("--date-column", type=click.Choice(["review_date", "purchase_date"]), default="review_date", show_default=True, help="Name of the reviews' date column (the Kafka lab says purchase_date)."),
)
SINK_OPTIONS = (
    click.option("--sink", type=click.Choice(sorted(WRITERS)), multiple=True, default=("console",), show_default=True, help="console: live table; parquet: files under --path; s3: Parquet under s3://bucket/prefix; memory: temp views; redis: the latest price per symbol into --cache. Repeat for several."),
    click.option("--path", default=None, metavar="DIR|URL", help="Output folder or s3://, s3a:// URL (parquet, s3). For --source files with console only: the input folder."),
    click.option("--partition-by", multiple=True, metavar="COLUMN", help="Partition the Parquet output by this column (repeatable)."),
    click.option("--name", default=None, help="View name for --sink memory. [default: the dataset name]"),
    click.option("--cache", default=None, metavar="redis://HOST:PORT/DB", help="Where --sink redis keeps the latest price per symbol (read it with `streamlab prices`). Password: REDIS_PASSWORD. [env: STREAMLAB_CACHE_URL; default: the server of `streamlab local up --redis`]"),
    click.option("--checkpoint", default=None, metavar="DIR", help="Checkpoint folder; reuse it to continue where the last run stopped. Required when --path is not local. [default: <path>/_checkpoint, else a temporary one]"),
    click.option("--trigger", default="5s", show_default=True, help="Batch interval (5s, 500ms, 1m) or available-now (read the backlog, then stop)."),
    click.option("--timeout", type=FiniteFloat(min=0), default=None, metavar="SECONDS", help="Stop after this many seconds of streaming, counted from when the queries start: Spark's start-up is not included (it is printed apart). Committed batches are kept."),
    click.option("--quiet", "-q", is_flag=True, help="No table or progress; errors and nothing else."),
    click.option("--verbose", "-v", is_flag=True, help="At the end, where the start-up went (checks, Spark session, source, plans, Python workers) and how long each query's batches took."),
    click.option("--dashboard", is_flag=True, help="Also serve the live dashboard of --path on 127.0.0.1 while consume runs (see `streamlab dashboard`)."),
    click.option("--dashboard-port", type=click.IntRange(0, 65535), default=8050, show_default=True, help="Port of --dashboard (0: any free port)."),
)
SUBMIT_OPTIONS = (
    click.option("--print-spark-submit", is_flag=True, help="Print the equivalent spark-submit command for a cluster (EMR) and exit; runs nothing."),
    click.option("--deploy-mode", type=click.Choice(["client", "cluster"]), default="client", show_default=True, help="With --print-spark-submit: where the driver runs (client keeps .env on the primary node)."),
    click.option("--cluster-spark", default=None, metavar="VERSION", help="With --print-spark-submit: the cluster's Spark version, for matching --packages. [default: EMR 7.x's 3.5.6]"),
)


def _apply(options):
    def deco(fn):
        for opt in reversed(options):
            fn = opt(fn)
        return fn

    return deco


@click.command("consume")
@_apply(SOURCE_OPTIONS)
@_apply(KAFKA_OPTIONS)
@_apply(DATASET_OPTIONS)
@_apply(SINK_OPTIONS)
@_apply(SUBMIT_OPTIONS)
@aws_options
def command(settings: Settings, **opts) -> None:
    """Read a stream with Spark, parse it for a dataset, and show or write the result.

    Malformed records are counted and kept in a quarantine output, never dropped silently.

    Examples:

    \b
      streamlab consume --local --stream ticker --sink console

      streamlab consume --source kafka --topic reviews --dataset reviews --sink s3 --path s3a://bucket/me/bronze/reviews --checkpoint /tmp/kafka-checkpoint

      streamlab consume --source socket --port 9999 --dataset tweets --trigger 5s
    """
    print_submit, deploy_mode, cluster_spark = (opts.pop(k) for k in ("print_spark_submit", "deploy_mode", "cluster_spark"))
    if print_submit:
        _print_spark_submit(opts, deploy_mode, cluster_spark)
        return
    from streamlab.spark.job import run_consume
    from streamlab.spark.request import ConsumeRequest

    request = ConsumeRequest(settings, **opts)
    aws = None
    if request.needs_aws:  # Kinesis or S3: one handle for the whole run (the endpoint is resolved once)
        from streamlab.aws.session import AWS

        aws = AWS(settings)
    run_consume(request, aws=aws)


def _given_args(ctx: click.Context) -> list[str]:
    """The consume flags the user set (not defaults), rebuilt from what click parsed."""
    args: list[str] = []
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name in ("print_spark_submit", "deploy_mode", "cluster_spark"):
            continue
        value = ctx.params.get(param.name)
        if ctx.get_parameter_source(param.name) is not click.core.ParameterSource.COMMANDLINE or value in (None, False, ()):
            continue
        flag = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
        if param.is_flag:
            args.append(flag)
        else:
            for v in value if param.multiple else (value,):
                args += [flag, str(v)]
    return args


def _print_spark_submit(opts: dict, deploy_mode: str, cluster_spark) -> None:
    import os

    from streamlab.spark import submit

    kwargs = {"spark_version": cluster_spark} if cluster_spark else {}
    cmd = submit.spark_submit_command(
        _given_args(click.get_current_context()),
        source=opts["source"],
        packages=opts.get("packages", False),
        deploy_mode=deploy_mode,
        env_names=submit.forwardable_env(os.environ, source=opts["source"], security_protocol=opts.get("security_protocol")),
        env_file=".env" if os.path.exists(".env") else None,
        **kwargs,
    )
    click.echo(submit.format_command(cmd))
