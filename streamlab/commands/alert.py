"""`streamlab alert`: price rules over a Kinesis stream or a Kafka topic, without Spark.

Thin: flags -> `streamlab.alerts.run.AlertRequest` -> `run_alert(request, aws)`; the exit code is
the run's (`--once`: 1 when an alert fired).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from streamlab.commands.common import aws_handle, aws_options

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings


@click.command("alert")
@click.option("--source", type=click.Choice(["kinesis", "kafka"]), default="kinesis", show_default=True, help="What to follow.")
@click.option("--stream", default=None, metavar="NAME", help="Kinesis stream (--source kinesis); every shard, reshards followed.")
@click.option("--topic", default=None, metavar="NAME", help="Kafka topic (--source kafka); every partition.")
@click.option("--bootstrap", default=None, metavar="HOST:PORT", help="Kafka bootstrap servers; security settings come from the environment. [env: HWE_BOOTSTRAP; default: the broker of `streamlab local up --kafka`]")
@click.option("--from", "start", type=click.Choice(["latest", "trim-horizon"]), default=None, help="Where to start reading. [default: latest; --once: trim-horizon]")
@click.option("--once", is_flag=True, help="Read what the stream retains, evaluate, print the alerts and exit: 0 when none fired, 1 when some did.")
@click.option("--rule", "rules", multiple=True, metavar="RULE", help="'BTCUSDT < 3800', 'BTCUSDT change > 200 in 1h', 'ETHUSDT change% > 5 in 1d', '* change% > 2 in 5m'. Repeatable.")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False), default=None, metavar="FILE", help="TOML (or YAML) file with a list `rules` and an optional `cooldown`.")
@click.option("--cooldown", default=None, metavar="DURATION", help="Quiet time after an alert before the same rule fires again for the same symbol, in event time, e.g. 10m. [default: the file's, else 0]")
@click.option("--notify", multiple=True, metavar="TARGET", help="console, sns:TOPIC (name or ARN), webhook:URL, slack (URL from SLACK_WEBHOOK_URL). Repeatable. [default: console]")
@click.option("--notify-attempts", type=click.IntRange(min=1), default=4, show_default=True, help="Tries per notification (backoff doubling from 0.5 s) before it goes to the dead-letter file.")
@click.option("--dead-letter", type=click.Path(dir_okay=False), default=None, help="JSON-lines file for notifications that could not be delivered. [default: .streamlab/dead-letter/alert-<time>.jsonl]")
@click.option("--cache", default=None, metavar="redis://HOST:PORT/DB", help="Also keep the latest price per symbol in this Redis: `price:SYMBOL` and a `trade:SYMBOL` hash; read them with `streamlab prices`. Password: REDIS_PASSWORD.")
@click.option("--duration", type=click.FloatRange(min=0), default=None, metavar="SECONDS", help="Stop following after this many seconds.")
@click.option("--poll-interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True, metavar="SECONDS", help="Pause between reads once the stream is caught up.")
@click.option("--quiet", "-q", is_flag=True, help="Only the alerts (and errors): no start line or summary.")
@aws_options
def command(settings: Settings, dead_letter, rules_file, poll_interval, **opts) -> int:
    """Follow a stream, keep the latest price per symbol and alert when a rule becomes true.

    Periods and the cooldown run on the trades' event time, so a replay fires the same alerts.

    Examples:

    \b
      streamlab alert --local --stream trades --rule 'BTCUSDT < 3800' --rule 'BTCUSDT > 4000' --notify slack
      streamlab alert --stream trades --once --rules examples/alerts/binance-lab.toml --notify sns:price-alerts
      streamlab alert --source kafka --topic trades --rule '* change% > 2 in 5m' --cooldown 10m
      streamlab alert --local --stream trades --rule 'BTCUSDT > 4000' --cache redis://127.0.0.1:6379/0
    """
    from streamlab.alerts.run import AlertRequest, run_alert

    request = AlertRequest(settings=settings, dead_letter=Path(dead_letter) if dead_letter else None,
                           rules_file=Path(rules_file) if rules_file else None, idle_s=poll_interval, **opts)
    aws = aws_handle(settings) if request.source == "kinesis" or any(n.startswith("sns:") for n in request.notify) else None
    return run_alert(request, aws).exit_code
