"""`streamlab sample`: read N records of a stream, trades, units and USD value per symbol (see
streamlab.sample). No Spark."""

from __future__ import annotations

from pathlib import Path

import click

from streamlab.commands.common import aws_handle, aws_options
from streamlab.kafka.settings import SASL_MECHANISMS, SECURITY_PROTOCOLS


@click.command("sample")
@click.option("--source", type=click.Choice(["kinesis", "kafka"]), default="kinesis", show_default=True, help="Where records come from.")
@click.option("--stream", default=None, metavar="NAME", help="Kinesis stream (--source kinesis); every shard is read.")
@click.option("--topic", default=None, help="Kafka topic (--source kafka); every partition is read.")
@click.option("--count", type=click.IntRange(min=1), default=250, show_default=True, help="How many records to read (a Finnhub record may hold several trades).")
@click.option("--from", "start", default="trim-horizon", show_default=True, metavar="trim-horizon|latest|TIME",
              help="Where to start: the oldest record, only new ones, or a time (ISO 8601, UTC unless a zone is given, or epoch seconds).")
@click.option("--wait", type=click.FloatRange(min=0), default=5.0, show_default=True, metavar="SECONDS",
              help="Stop early once caught up and no new record arrived for this long.")
@click.option("--prices", type=click.Choice(["stream", "binance"]), default="stream", show_default=True,
              help="USD prices for quotes that are not USD (ETHBTC): the latest <asset>USDT trade in the sample, or Binance's public REST ticker.")
@click.option("--host", default=None, metavar="HOST|URL", help="Binance REST host for --prices binance, e.g. api.binance.us, or a full URL. [default: api.binance.com]")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Also draw the units per symbol barplot: .png, .svg (matplotlib: the charts extra) or .html.")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format (on stdout).")
@click.option("--bootstrap", default=None, metavar="HOST:PORT", help="Kafka bootstrap servers. [env: HWE_BOOTSTRAP; default: the broker of `streamlab local up --kafka`]")
@click.option("--security-protocol", type=click.Choice(SECURITY_PROTOCOLS, case_sensitive=False), default=None, help="Kafka security protocol. [env: STREAMLAB_KAFKA_SECURITY_PROTOCOL; default: SASL_SSL when HWE_USERNAME is set]")
@click.option("--sasl-mechanism", type=click.Choice(SASL_MECHANISMS, case_sensitive=False), default=None, help="Kafka SASL mechanism. [env: STREAMLAB_KAFKA_SASL_MECHANISM; default: SCRAM-SHA-512]")
@click.option("--ca-file", type=click.Path(dir_okay=False), default=None, help="PEM CA certificate for Kafka TLS. [env: STREAMLAB_KAFKA_CA_FILE]")
@aws_options
def command(settings, output: str, **opts) -> None:
    """Read N records of a stream (all shards or partitions) and count trades, units and value in
    USD per symbol: the Binance lab's minimal project, without Spark.

    Records may be streamlab's trades or the providers' own JSON (Finnhub messages, Binance trade
    events, combined-stream messages); others are counted with the reason.

    \b
      streamlab sample --stream binance --count 250
      streamlab sample --stream binance --from latest --prices binance --chart units.png
      streamlab sample --source kafka --topic trades --bootstrap 127.0.0.1:9092 -o json
    """
    from streamlab.sample import SampleRequest, run_sample
    from streamlab.sample.render import print_json, print_table

    request = SampleRequest(settings, **opts)
    report = run_sample(request, aws_handle(settings) if request.source == "kinesis" else None)
    if output == "json":
        print_json(report)
    else:
        print_table(report, request.where)
    if request.chart is not None:
        from streamlab import console

        console.info(f"wrote {report.chart} (units per symbol)" if report.chart else f"note: no chart: no trades in the sample, {request.chart} not written")
