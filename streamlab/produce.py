"""One produce run as a library call: `produce(ProduceRequest(...), aws)`.

What `streamlab produce`, the demo and the benchmarks all run: build the source, the sink and the
batcher, run the pipeline until a limit, Ctrl-C or an error, print the summary. The command only
turns flags into a `ProduceRequest`; nothing here knows about click.

Sinks that talk to AWS say so with `needs_aws = True` and take the command's one `AWS` handle as
`aws=` (built here from the settings when the caller passes none); every other sink is built
with its own options only, so a new sink stays one file plus a registry line.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional

from streamlab import console
from streamlab.errors import ConfigError, Interrupted, PartialDelivery
from streamlab.paths import HOME_HINT
from streamlab.pipeline import Limits, RunResult, run
from streamlab.sinks import SINKS, Batcher, DeadLetter, Stats
from streamlab.sinks.base import RetryPolicy, SinkUnreachable
from streamlab.sources import SOURCES

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.aws.session import AWS
    from streamlab.settings import Settings


@dataclass(frozen=True)
class ProduceRequest:
    """Everything one produce run needs, as parsed from flags (or written by the demo/benchmarks)."""

    settings: Settings
    source: str  # a SOURCES name
    sink: str = "stdout"  # a SINKS name
    source_options: Mapping[str, Any] = field(default_factory=dict)
    sink_options: Mapping[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    quiet: bool = False
    dead_letter: Optional[Path] = None  # default: .streamlab/dead-letter/<sink>-<time>.jsonl
    max_outage: float = 60.0  # seconds the sink may stay unreachable before the run stops (exit 5)


def default_dead_letter(settings: Settings, sink: str) -> Path:
    return settings.state_dir / "dead-letter" / f"{sink}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"


def open_sink(request: ProduceRequest, aws: Optional[AWS] = None):
    """The request's sink, opened (its target checked); AWS sinks get `aws` (or a handle of their own)."""
    sink_cls = SINKS[request.sink]
    options = dict(request.sink_options)
    if getattr(sink_cls, "needs_aws", False):
        if aws is None:
            from streamlab.aws.session import AWS

            aws = AWS(request.settings)
        options["aws"] = aws
    sink = sink_cls(request.settings, **options)
    sink.open()
    return sink


def produce(request: ProduceRequest, aws: Optional[AWS] = None) -> RunResult:
    """Build source, sink and batcher, run the pipeline, print the summary; raises the run's error."""
    settings = request.settings
    dl = DeadLetter(Path(request.dead_letter) if request.dead_letter else default_dead_letter(settings, request.sink))
    try:
        dl.check()  # an unwritable path fails now, not when the first record needs it
    except ConfigError as exc:
        if request.dead_letter is not None:
            raise
        raise ConfigError(exc.message, f"{HOME_HINT}, or pass --dead-letter FILE") from None
    source = SOURCES[request.source](settings, **dict(request.source_options))
    sink = open_sink(request, aws)
    batcher = Batcher(sink, dl, Stats(), RetryPolicy(max_outage=request.max_outage))
    quiet = request.quiet
    if not quiet:
        console.info(f"producing {source.describe()} -> {sink.describe()} (Ctrl-C stops and flushes)")
    started = time.monotonic()

    def render() -> str:
        return console.progress_text(batcher.stats, time.monotonic() - started, source.counters())

    # Everything alive now (modules, clients, settings) lives for the whole run: keep it out of
    # the cyclic collector's generations, so the full collections a fast run triggers (it makes a
    # few objects per record) do not walk the imports' few hundred thousand objects each time:
    # ~5 % of a 100k-record Kafka run's CPU here. Reference counting still frees them; only cycles
    # that are garbage at this moment stay uncollected.
    gc.freeze()
    with console.quieted(quiet), console.live_line(render, enabled=not quiet):
        result = run(source, batcher, request.limits)
    if not quiet:
        _summary(result, request.source, sink, dl)
    elif dl.count:
        _dead_letter_line(dl)
    _raise_outcome(result, dl)
    return result


def _raise_outcome(result: RunResult, dl: DeadLetter) -> None:
    """The exit code a script can trust: 130 aborted, the sink's error, 6 when records were set aside."""
    s = result.stats
    if result.reason == "aborted":
        raise Interrupted("aborted by a second Ctrl-C/SIGTERM",
                          f"{dl.count:,} records set aside in {dl.path}" if dl.count else "nothing was left undelivered")
    if isinstance(result.error, SinkUnreachable):
        raise SinkUnreachable(f"{result.error.message}: stopped after {s.produced:,} produced, {s.sent:,} sent, "
                              f"{s.failed:,} dead-lettered", result.error.hint)
    if result.error is not None:
        raise result.error
    if dl.count:
        raise PartialDelivery(f"{dl.count:,} of {s.produced:,} records were not delivered",
                              f"they are in {dl.path} (field data) with the reason")


def _dead_letter_line(dl: DeadLetter) -> None:
    unsure = f" ({dl.unknown:,} marked 'delivery unknown': they may be in the target already)" if dl.unknown else ""
    console.warn(f"{dl.count:,} records could not be delivered; they are in {dl.path}{unsure}")


def _summary(result: RunResult, source_name: str, sink, dl: DeadLetter) -> None:
    s = result.stats
    line = (
        f"done ({result.reason}): {s.produced:,} produced, {s.sent:,} sent to {sink.describe()} "
        f"in {result.elapsed:.1f}s ({result.rate:,.0f}/s), {s.retried:,} retried, {s.failed:,} failed"
        + (f", {s.dropped:,} dropped" if s.dropped else "")
    )
    extra = ", ".join(f"{k} {v:,}" for k, v in result.source_counters.items())
    console.info(line + (f"; {source_name}: {extra}" if extra else ""))
    if dl.count:
        _dead_letter_line(dl)
