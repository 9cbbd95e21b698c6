"""`streamlab produce <source> --sink <sink>`: one subcommand per registered source.

Each subcommand carries its source's own options, every sink's options and the run limits, so
`streamlab produce synthetic --help` documents everything that applies. A new source or sink
appears here by being registered; nothing in this module changes.

The run itself is `streamlab.produce.produce(ProduceRequest)`; this module only turns flags into
the request.

A sink option whose name or flag a source also uses (Binance's feed `--host` vs the socket sink's
listen `--host`) appears on that source's command as `--sink-<name>` (`--sink-host`): the two
never share a value, and every other command keeps the plain name.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

import click

from streamlab.commands.common import aws_handle, aws_options
from streamlab.pipeline import Limits
from streamlab.produce import ProduceRequest, produce
from streamlab.sinks import SINKS
from streamlab.sources import SOURCES
from streamlab.sources.params import FiniteFloat

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings


def _sink_params() -> list[click.Parameter]:
    seen: dict[str, click.Parameter] = {}
    for sink in SINKS.values():
        for p in sink.options:
            seen.setdefault(p.name, p)
    return list(seen.values())


RUN_OPTIONS = [
    click.Option(["--sink"], type=click.Choice(sorted(SINKS)), default="stdout", show_default=True, help="Where records go."),
    click.Option(["--count"], type=click.IntRange(min=0), default=None, help="Stop after this many records."),
    click.Option(["--duration"], type=FiniteFloat(min=0), default=None, help="Stop after this many seconds."),
    click.Option(["--rate"], type=FiniteFloat(min=0), default=0.0, help="Records per second (0 = as fast as possible).", show_default=True),
    click.Option(["--quiet", "-q"], is_flag=True, help="No progress or summary; errors only."),
    click.Option(["--dead-letter"], type=click.Path(dir_okay=False), default=None, help="JSON-lines file for records that could not be delivered. [default: .streamlab/dead-letter/<sink>-<time>.jsonl]"),
    click.Option(["--max-outage"], type=FiniteFloat(min=0), default=60.0, show_default=True,
                 help="Seconds the sink may stay unreachable (refused, reset, timed out) before the run stops with exit 5; meanwhile sends back off and retry (counted as retried)."),
]


def _namespaced(p: click.Parameter) -> click.Parameter:
    """A copy of sink option `--x` as `--sink-x` (value `sink_x`), for a source that uses `--x`."""
    q = copy.copy(p)
    q.name = f"sink_{p.name}"
    q.opts = [f"--sink-{o.lstrip('-')}" for o in p.opts if o.startswith("--")] or [f"--sink-{p.name.replace('_', '-')}"]
    q.secondary_opts = [f"--no-sink-{o[5:]}" if o.startswith("--no-") else f"--sink-{o.lstrip('-')}" for o in p.secondary_opts]
    return q


def _make_command(source_cls) -> click.Command:
    source_names = {p.name for p in source_cls.options}
    source_flags = {o for p in source_cls.options for o in [*p.opts, *getattr(p, "secondary_opts", [])]}
    clashing = {p.name for p in _sink_params() if p.name in source_names or set(p.opts) & source_flags}
    sink_params = [_namespaced(p) if p.name in clashing else p for p in _sink_params()]

    @aws_options
    def callback(settings: Settings, sink: str, count, duration, rate, quiet, dead_letter, max_outage, **kw):
        source_opts = {p.name: kw.pop(p.name) for p in source_cls.options}
        sink_cls = SINKS[sink]
        keys = {p.name: f"sink_{p.name}" if p.name in clashing else p.name for p in sink_cls.options}
        sink_opts = {name: kw[key] for name, key in keys.items() if key in kw}
        request = ProduceRequest(
            settings=settings,
            source=source_cls.name,
            sink=sink,
            source_options=source_opts,
            sink_options=sink_opts,
            limits=Limits(count=count, duration=duration, rate=rate),
            quiet=quiet,
            dead_letter=Path(dead_letter) if dead_letter else None,
            max_outage=max_outage,
        )
        produce(request, aws_handle(settings))

    cmd = click.Command(
        source_cls.name,
        callback=callback,
        params=list(source_cls.options) + RUN_OPTIONS + sink_params,
        help=source_cls.summary,
        short_help=source_cls.summary,
    )
    # aws_options decorated `callback`: its click params live on __click_params__
    cmd.params.extend(getattr(callback, "__click_params__", [])[::-1])
    return cmd


@click.group("produce")
def command() -> None:
    """Stream records from a source into a sink, batched and retried, until a limit or Ctrl-C.

    Example: streamlab produce synthetic --sink kinesis --stream ticker --count 1000

    Every source takes --count, --duration, --rate, --quiet, --dead-letter and --max-outage
    SECONDS: how long an unreachable sink (refused, reset, timed out, a broker gone) is ridden
    out with backoff, every attempt counted as retried (default 60); past it the run stops
    with exit 5. Records left in the dead-letter file exit 6.
    `streamlab produce SOURCE --help` lists them all.
    """


for _cls in SOURCES.values():
    command.add_command(_make_command(_cls))

__all__ = ["command"]
