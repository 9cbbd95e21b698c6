"""`streamlab produce <source> --sink <sink>`: one subcommand per registered source.

Each subcommand carries its source's own options, every sink's options and the run limits, so
`streamlab produce synthetic --help` documents everything that applies. A new source or sink
appears here by being registered; nothing in this module changes.

A sink option whose name or flag a source also uses (Binance's feed `--host` vs the socket sink's
listen `--host`) appears on that source's command as `--sink-<name>` (`--sink-host`): the two
never share a value, and every other command keeps the plain name.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import click

from streamlab import console
from streamlab.commands.common import aws_options
from streamlab.errors import Interrupted, StreamlabError
from streamlab.pipeline import Limits, RunResult, run
from streamlab.sinks import SINKS, Batcher, DeadLetter, Stats
from streamlab.sources import SOURCES

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
    click.Option(["--duration"], type=click.FloatRange(min=0), default=None, help="Stop after this many seconds."),
    click.Option(["--rate"], type=click.FloatRange(min=0), default=0.0, help="Records per second (0 = as fast as possible).", show_default=True),
    click.Option(["--quiet", "-q"], is_flag=True, help="No progress or summary; errors only."),
    click.Option(["--dead-letter"], type=click.Path(dir_okay=False), default=None, help="JSON-lines file for records that could not be delivered. [default: .streamlab/dead-letter/<sink>-<time>.jsonl]"),
]


def default_dead_letter(settings: Settings, sink: str) -> Path:
    return settings.state_dir / "dead-letter" / f"{sink}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"


def produce(
    settings: Settings,
    source_name: str,
    sink_name: str,
    limits: Limits,
    *,
    source_opts: Optional[dict[str, Any]] = None,
    sink_opts: Optional[dict[str, Any]] = None,
    quiet: bool = False,
    dead_letter: Optional[str] = None,
) -> RunResult:
    """Build source, sink and batcher, run the pipeline, print the summary. Used by `demo` too."""
    dl = DeadLetter(Path(dead_letter) if dead_letter else default_dead_letter(settings, sink_name))
    dl.check()  # an unwritable path fails now, not when the first record needs it
    source = SOURCES[source_name](settings, **(source_opts or {}))
    sink = SINKS[sink_name](settings, **(sink_opts or {}))
    sink.open()
    batcher = Batcher(sink, dl, Stats())
    if not quiet:
        console.info(f"producing {source.describe()} -> {sink.describe()} (Ctrl-C stops and flushes)")
    started = time.monotonic()

    def render() -> str:
        return console.progress_text(batcher.stats, time.monotonic() - started, source.counters())

    with console.quieted(quiet), console.live_line(render, enabled=not quiet):
        result = run(source, batcher, limits)
    if not quiet:
        _summary(result, source_name, sink, dl)
    elif dl.count:
        _dead_letter_line(dl)
    if result.reason == "aborted":
        raise Interrupted("aborted by a second Ctrl-C/SIGTERM", f"{dl.count:,} records set aside in {dl.path}" if dl.count else "nothing was left undelivered")
    if result.error is not None:
        raise result.error
    return result


def _dead_letter_line(dl: DeadLetter) -> None:
    unsure = f" ({dl.unknown:,} marked 'delivery unknown': they may be in the target already)" if dl.unknown else ""
    console.warn(f"{dl.count:,} records could not be delivered; they are in {dl.path}{unsure}")


def _summary(result: RunResult, source_name: str, sink, dl: DeadLetter) -> None:
    s = result.stats
    line = (
        f"done ({result.reason}): {s.produced:,} produced, {s.sent:,} sent to {sink.describe()} "
        f"in {result.elapsed:.1f}s ({result.rate:,.0f}/s), {s.retried:,} retried, {s.failed:,} failed"
    )
    extra = ", ".join(f"{k} {v:,}" for k, v in result.source_counters.items())
    console.info(line + (f"; {source_name}: {extra}" if extra else ""))
    if dl.count:
        _dead_letter_line(dl)


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
    def callback(settings: Settings, sink: str, count, duration, rate, quiet, dead_letter, **kw):
        source_opts = {p.name: kw.pop(p.name) for p in source_cls.options}
        sink_cls = SINKS[sink]
        keys = {p.name: f"sink_{p.name}" if p.name in clashing else p.name for p in sink_cls.options}
        sink_opts = {name: kw[key] for name, key in keys.items() if key in kw}
        produce(
            settings,
            source_cls.name,
            sink,
            Limits(count=count, duration=duration, rate=rate),
            source_opts=source_opts,
            sink_opts=sink_opts,
            quiet=quiet,
            dead_letter=dead_letter,
        )

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
    """


for _cls in SOURCES.values():
    command.add_command(_make_command(_cls))

__all__ = ["command", "produce", "StreamlabError"]
