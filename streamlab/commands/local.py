"""`streamlab local up|down|status`: the local AWS emulator on 127.0.0.1. Logic: streamlab.local (aws, kafka)."""

from __future__ import annotations

import json

import click

from streamlab import console


@click.group(name="local")
def command() -> None:
    """Start, stop or inspect the local AWS emulator (moto server, 127.0.0.1 only).

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
def up(port: int, detach: bool, kafka: bool, kafka_port: int) -> None:
    """Start the emulator (and with --kafka a Kafka broker): in the foreground until Ctrl-C, or in the
    background with --detach."""
    from streamlab.local import aws as local_aws
    from streamlab.settings import load_settings  # not at import: `--help` stays fast

    settings = load_settings()
    if detach:
        if kafka and local_aws.current(settings)["running"]:
            console.info(f"the local AWS emulator is already running at {local_aws.current(settings)['url']}; starting Kafka only")
        else:
            state = local_aws.start_detached(settings, port)
            _how_to_use(state["url"])
            console.info(f"pid {state['pid']}, log {state['log']}; stop it with: streamlab local down")
            click.echo(state["url"])  # stdout: URL=$(streamlab local up --detach)
        if kafka:
            broker = _start_kafka(settings, kafka_port, detach=True)
            click.echo(broker.bootstrap)
        return

    broker = _start_kafka(settings, kafka_port, detach=False) if kafka else None

    def ready(state: dict) -> None:
        _how_to_use(state["url"])
        console.info("Ctrl-C stops " + ("both" if broker else "it"))

    try:
        local_aws.serve_foreground(settings, port, on_ready=ready)
    finally:
        if broker is not None:
            from streamlab.local import kafka as local_broker

            local_broker.stop(broker.info, proc=broker.proc, state_dir=settings.state_dir)
            console.info("local Kafka broker stopped")
    console.info("local emulator stopped")


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
    """Stop the emulator (and Kafka broker) started by `streamlab local up` (nothing to do is fine)."""
    from streamlab.local import kafka as local_broker
    from streamlab.local import aws as local_aws
    from streamlab.settings import load_settings  # not at import: `--help` stays fast

    settings = load_settings()
    result = local_aws.stop(settings)
    if result["stopped"]:
        console.info(f"stopped the local emulator at {result['was'].get('url')}")
    if result["note"]:
        console.info(result["note"])
    info = local_broker.load_state(settings.state_dir)
    if info is not None:
        if local_broker.stop(info, state_dir=settings.state_dir):
            console.info(f"stopped the local Kafka broker at {info.bootstrap}")
        else:
            console.info("the recorded Kafka broker had already exited: state cleared")


@command.command("status")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format (on stdout).")
def status(output: str) -> None:
    """Say whether the emulator (and the Kafka broker) are running, and where."""
    from streamlab.local import kafka as local_broker
    from streamlab.local import aws as local_aws
    from streamlab.settings import load_settings  # not at import: `--help` stays fast

    settings = load_settings()
    now = local_aws.current(settings)
    broker = local_broker.running_broker(settings.state_dir)
    if output == "json":
        doc = {k: now.get(k) for k in ("running", "url", "pid", "port", "started", "mode", "log")}
        doc["kafka"] = {"running": broker is not None, "bootstrap": broker.bootstrap if broker else None}
        click.echo(json.dumps(doc))
        return
    if now["running"]:
        click.echo(f"running at {now['url']} (pid {now.get('pid')}, {now.get('mode', 'detached')}, since {now.get('started', '?')})")
    else:
        click.echo("not running" + (" (stale state cleared on next `local up`)" if now["stale"] else ""))
    if broker is not None:
        click.echo(f"kafka: running at {broker.bootstrap} (pid {broker.pid})")
