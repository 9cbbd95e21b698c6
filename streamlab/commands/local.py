"""`streamlab local up|down|status`: the local AWS emulator on 127.0.0.1. Logic: streamlab.local (aws, kafka, redis_server)."""

from __future__ import annotations

import json

import click

from streamlab import console
from streamlab.sources.params import FiniteFloat


@click.group(name="local")
def command() -> None:
    """Start, stop or inspect the local AWS emulator (moto server, 127.0.0.1 only), and with it a Kafka
    broker (--kafka) and a Redis-compatible server (--redis).

    Commands use it when given --local, or with STREAMLAB_ENDPOINT_URL set to its URL.
    """


def _how_to_use(url: str) -> None:
    console.info(f"local AWS emulator running at {url}")
    console.info(f"use it with: export STREAMLAB_ENDPOINT_URL={url}   (or pass --local to each command)")


@command.command("up")
@click.option("--port", type=click.IntRange(1, 65535), default=4566, show_default=True, help="Port on 127.0.0.1.")
@click.option("--detach", "-d", is_flag=True, help="Run in the background and return; stop it with `streamlab local down`.")
@click.option("--kafka", is_flag=True, help="Also start a local Kafka broker (tansu, memory storage, 127.0.0.1).")
@click.option("--kafka-port", type=click.IntRange(1, 65535), default=9092, show_default=True, help="Port of the local Kafka broker.")
@click.option("--redis", is_flag=True, help="Also start a local Redis-compatible server (Valkey, memory only, 127.0.0.1) for `alert --cache` and `prices`.")
@click.option("--redis-port", type=click.IntRange(1, 65535), default=6379, show_default=True, help="Port of the local Redis server.")
@click.option("--time-scale", type=FiniteFloat(min=0.001, max=3600), default=1.0, show_default=True,
              help="Speed of the Lambda scheduler's clock: 60 runs a 1-minute EventBridge schedule every second.")
@click.option("--no-scheduler", is_flag=True, help="Do not run streamlab's scheduled Lambda functions.")
def up(port: int, detach: bool, kafka: bool, kafka_port: int, redis: bool, redis_port: int, time_scale: float,
       no_scheduler: bool) -> None:
    """Start the emulator (with --kafka a Kafka broker, with --redis a Redis server): in the foreground
    until Ctrl-C, or in the background with --detach.

    While it runs, a scheduler invokes the Lambda functions streamlab deployed on the emulator on
    their EventBridge schedules (rate/cron), with retries and on-failure destinations, as AWS
    would; `local messages` shows what they published to SNS, `local logs NAME` their output."""
    scale = None if no_scheduler else time_scale
    from streamlab.local import aws as local_aws
    from streamlab.settings import load_settings  # not at import: `--help` stays fast

    settings = load_settings()
    if detach:
        if (kafka or redis) and local_aws.current(settings)["running"]:
            extras = " and ".join(name for name, on in (("Kafka", kafka), ("Redis", redis)) if on)
            console.info(f"the local AWS emulator is already running at {local_aws.current(settings)['url']}; starting {extras} only")
        else:
            state = local_aws.start_detached(settings, port, time_scale=scale)
            _how_to_use(state["url"])
            console.info(f"pid {state['pid']}, log {state['log']}; stop it with: streamlab local down")
            click.echo(state["url"])  # stdout: URL=$(streamlab local up --detach)
        if kafka:
            broker = _start_kafka(settings, kafka_port, detach=True)
            click.echo(broker.bootstrap)
        if redis:
            click.echo(_start_redis(settings, redis_port, detach=True).url)
        return

    broker = cache = None

    def ready(state: dict) -> None:
        _how_to_use(state["url"])
        console.info("Ctrl-C stops " + ("them all" if broker or cache else "it"))

    try:
        broker = _start_kafka(settings, kafka_port, detach=False) if kafka else None
        cache = _start_redis(settings, redis_port, detach=False) if redis else None  # failing: the broker is stopped
        local_aws.serve_foreground(settings, port, on_ready=ready, time_scale=scale)
    finally:
        if broker is not None:
            from streamlab.local import kafka as local_broker

            local_broker.stop(broker.info, proc=broker.proc, state_dir=settings.state_dir)
            console.info("local Kafka broker stopped")
        if cache is not None:
            from streamlab.local import redis_server

            redis_server.stop(cache.info, proc=cache.proc, state_dir=settings.state_dir)
            console.info("local Redis server stopped")
    console.info("local emulator stopped")


def _start_redis(settings, port: int, detach: bool):
    from streamlab.local import redis_server
    from streamlab.errors import ConfigError

    running = redis_server.running_server(settings.state_dir)
    if running is not None:
        raise ConfigError(f"a local Redis server is already running at {running.url} (pid {running.pid})",
                          "use it (`alert --cache` and `prices` find it), or stop it with `streamlab local down`")
    server = redis_server.start(port, detach=detach, state_dir=settings.state_dir)
    console.info(f"local Redis server (Valkey) running at {server.url} (memory only: the cache is gone when it stops)")
    console.info(f"cache prices in it with: streamlab alert ... --cache {server.url}; read them with: streamlab prices")
    return server


def _start_kafka(settings, port: int, detach: bool):
    from streamlab.local import kafka as local_broker
    from streamlab.errors import ConfigError

    running = local_broker.running_broker(settings.state_dir)
    if running is not None:
        raise ConfigError(
            f"a local Kafka broker is already running at {running.bootstrap} (pid {running.pid})",
            "use it (produce picks it up when no --bootstrap is given), or stop it with `streamlab local down`",
        )
    broker = local_broker.start(port, detach=detach, state_dir=settings.state_dir)
    console.info(f"local Kafka broker running at {broker.bootstrap} (PLAINTEXT, memory storage: data is gone when it stops)")
    console.info(f"produce to it with: --sink kafka --topic NAME (no --bootstrap needed), or --bootstrap {broker.bootstrap}")
    return broker


@command.command("down")
def down() -> None:
    """Stop the emulator (and Kafka broker, Redis server) started by `streamlab local up` (nothing to do is fine)."""
    from streamlab.local import kafka as local_broker
    from streamlab.local import redis_server
    from streamlab.local import aws as local_aws
    from streamlab.settings import load_settings  # not at import: `--help` stays fast

    settings = load_settings()
    result = local_aws.stop(settings)
    if result["stopped"]:
        console.info(f"stopped the local emulator at {result['was'].get('url')}")
    if result["note"]:
        console.info(result["note"])
    for what, module in (("Kafka broker", local_broker), ("Redis server", redis_server)):
        info = module.load_state(settings.state_dir)
        if info is None:
            continue
        if module.stop(info, state_dir=settings.state_dir):
            console.info(f"stopped the local {what} at {info.address}")
        else:
            console.info(f"the recorded {what} had already exited: state cleared")


@command.command("status")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format (on stdout).")
def status(output: str) -> None:
    """Say whether the emulator (and the Kafka broker, the Redis server) are running, and where."""
    from streamlab.local import kafka as local_broker
    from streamlab.local import redis_server
    from streamlab.local import aws as local_aws
    from streamlab.settings import load_settings  # not at import: `--help` stays fast

    settings = load_settings()
    now = local_aws.current(settings)
    broker = local_broker.running_broker(settings.state_dir)
    cache = redis_server.running_server(settings.state_dir)
    if output == "json":
        doc = {k: now.get(k) for k in ("running", "url", "pid", "port", "started", "mode", "log", "scheduler")}
        doc["kafka"] = {"running": broker is not None, "bootstrap": broker.bootstrap if broker else None}
        doc["redis"] = {"running": cache is not None, "url": cache.url if cache else None}
        click.echo(json.dumps(doc))
        return
    if now["running"]:
        click.echo(f"running at {now['url']} (pid {now.get('pid')}, {now.get('mode', 'detached')}, since {now.get('started', '?')}; "
                   f"Lambda scheduler {now.get('scheduler', 'off')})")
    else:
        click.echo("not running" + (" (stale state cleared on next `local up`)" if now["stale"] else ""))
    if broker is not None:
        click.echo(f"kafka: running at {broker.bootstrap} (pid {broker.pid})")
    if cache is not None:
        click.echo(f"redis: running at {cache.url} (pid {cache.pid})")


def _emulator_url(settings) -> str:
    """--endpoint-url / STREAMLAB_ENDPOINT_URL, else the emulator of `streamlab local up`."""
    from streamlab.local.aws import running_emulator_url
    from streamlab.errors import ConfigError

    url = settings.endpoint_url or running_emulator_url(settings)
    if not url:
        raise ConfigError("no local emulator is running", "start it with `streamlab local up --detach`, or pass --endpoint-url")
    return url


@command.command("messages")
@click.option("--topic", default=None, metavar="NAME|ARN", help="Only this SNS topic's messages.")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format (on stdout).")
@click.option("--endpoint-url", default=None, help="The emulator's URL. [env: STREAMLAB_ENDPOINT_URL; default: the one `local up` started]")
def messages(topic, output: str, endpoint_url) -> None:
    """Print what was published to the emulator's SNS topics (email cannot be delivered locally)."""
    from streamlab.local import messages as local_messages
    from streamlab.settings import load_settings

    found = local_messages.fetch(_emulator_url(load_settings(endpoint_url=endpoint_url)), topic)
    if output == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        console.info("no SNS message published yet" + (f" to {topic}" if topic else ""))
    for m in found:
        click.echo(f"--- {m['topic'].rsplit(':', 1)[-1]}: {m.get('subject') or '(no subject)'}")
        click.echo(m["message"])


@command.command("logs")
@click.argument("function")
@click.option("--endpoint-url", default=None, help="The emulator's URL. [env: STREAMLAB_ENDPOINT_URL; default: the one `local up` started]")
def logs(function: str, endpoint_url) -> None:
    """Print a Lambda function's log (/aws/lambda/FUNCTION) as the local scheduler wrote it."""
    from streamlab.aws.session import AWS
    from streamlab.local import messages as local_messages
    from streamlab.settings import load_settings

    settings = load_settings(endpoint_url=endpoint_url)
    aws = AWS(load_settings(endpoint_url=_emulator_url(settings)), note=False)
    for _, line in local_messages.log_lines(aws.client("logs"), function):
        click.echo(line)
