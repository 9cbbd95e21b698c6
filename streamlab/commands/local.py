"""`streamlab local up|down|status`: the local AWS emulator on 127.0.0.1. Logic: streamlab.aws.localctl."""

from __future__ import annotations

import json

import click

from streamlab import console
from streamlab.settings import load_settings


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
def up(port: int, detach: bool) -> None:
    """Start the emulator: in the foreground until Ctrl-C, or in the background with --detach."""
    from streamlab.aws import localctl

    settings = load_settings()
    if detach:
        state = localctl.start_detached(settings, port)
        _how_to_use(state["url"])
        console.info(f"pid {state['pid']}, log {state['log']}; stop it with: streamlab local down")
        click.echo(state["url"])  # stdout: URL=$(streamlab local up --detach)
        return

    def ready(state: dict) -> None:
        _how_to_use(state["url"])
        console.info("Ctrl-C stops it")

    localctl.serve_foreground(settings, port, on_ready=ready)
    console.info("local emulator stopped")


@command.command("down")
def down() -> None:
    """Stop the emulator started by `streamlab local up` (nothing to do is fine)."""
    from streamlab.aws import localctl

    result = localctl.stop(load_settings())
    if result["stopped"]:
        console.info(f"stopped the local emulator at {result['was'].get('url')}")
    if result["note"]:
        console.info(result["note"])


@command.command("status")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format (on stdout).")
def status(output: str) -> None:
    """Say whether the emulator is running, and its URL."""
    from streamlab.aws import localctl

    now = localctl.current(load_settings())
    if output == "json":
        click.echo(json.dumps({k: now.get(k) for k in ("running", "url", "pid", "port", "started", "mode", "log")}))
    elif now["running"]:
        click.echo(f"running at {now['url']} (pid {now.get('pid')}, {now.get('mode', 'detached')}, since {now.get('started', '?')})")
    else:
        click.echo("not running" + (" (stale state cleared on next `local up`)" if now["stale"] else ""))
