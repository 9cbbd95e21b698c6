"""One alert run: `run_alert(AlertRequest, aws)` follows a stream, evaluates the rules, notifies.

Everything a user can get wrong (rules, --notify specs, the dead-letter path, the stream or topic,
an SNS topic, the --cache server) is checked before the first record is read. Records are parsed by `request.parse`
(bytes -> trades; by default every shape `streamlab.trade_shapes` reads); a record it cannot parse, or a trade without a usable
price/time, is counted as unparsable and the follower goes on.

Exit: `--once` returns 1 when an alert fired, 0 when none did; a live run returns 0 when stopped
(Ctrl-C/SIGTERM or --duration; a second signal interrupts at once, exit 130). If any notification
ended in the dead-letter file, PartialDelivery (exit 6) is raised after the summary, whatever else
happened.

With `cache` (a redis:// URL), each page read writes its newest trade per symbol to the latest-price
cache (`streamlab.price_cache`: `price:SYMBOL` plus a `trade:SYMBOL` hash, never backwards in event
time); a cache that stops answering mid-run ends the run with ConnectionFailed (exit 5).
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from streamlab import console, trade_shapes
from streamlab.alerts.evaluate import Alert, Evaluator
from streamlab.alerts.follow import check_start
from streamlab.alerts.notify import Dispatcher, parse_targets
from streamlab.alerts.rules import gather_rules
from streamlab.timefmt import parse_duration
from streamlab.errors import ConfigError, PartialDelivery
from streamlab.jsonl import SetAside
from streamlab.records import Trade

SOURCES = ("kinesis", "kafka")
#: pause after an empty read that is not yet at the end (GetRecords allows 5 calls/s per shard)
BEHIND_PAUSE_S = 0.2


def parse_trades(data: bytes) -> list[Trade]:
    """The default parser, the same shapes `consume` and `sample` read (`streamlab.trade_shapes`):
    streamlab's wire form, Finnhub messages, raw Binance events and the combined-stream wrapper.
    A ping holds no trade (nothing to count); a record that is none of these raises (counted)."""
    parsed = trade_shapes.parse(data)
    if parsed.reason is not None:
        raise ValueError(parsed.reason)
    return parsed.trades


@dataclass(frozen=True)
class AlertRequest:
    settings: Any
    source: str = "kinesis"
    stream: Optional[str] = None
    topic: Optional[str] = None
    bootstrap: Optional[str] = None
    start: Optional[str] = None  # default: latest, or trim-horizon with --once
    once: bool = False
    rules: tuple[str, ...] = ()
    rules_file: Optional[Path] = None
    cooldown: Optional[str] = None
    notify: tuple[str, ...] = ()
    dead_letter: Optional[Path] = None
    notify_attempts: int = 4
    duration: Optional[float] = None
    quiet: bool = False
    parse: Callable[[bytes], Iterable[Trade]] = parse_trades
    cache: Optional[str] = None  # redis://HOST:PORT/DB: the latest-price cache to write
    idle_s: float = 1.0  # an idle follower's pause between polls

    @property
    def start_at(self) -> str:
        return self.start or ("trim-horizon" if self.once else "latest")

    def check(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError(f"unknown source {self.source!r}", "use --source kinesis or --source kafka")
        if self.source == "kinesis" and not self.stream:
            raise ConfigError("--source kinesis needs --stream NAME", "pass the Kinesis stream to follow, e.g. --stream trades")
        if self.source == "kafka" and not self.topic:
            raise ConfigError("--source kafka needs --topic NAME", "pass the Kafka topic to follow, e.g. --topic trades")
        check_start(self.start_at)
        if self.once and self.start_at != "trim-horizon":
            raise ConfigError("--once reads everything the stream retains, from its oldest record", "drop --from latest, or drop --once to follow live")


@dataclass
class AlertResult:
    alerts: list[Alert] = field(default_factory=list)
    records: int = 0
    trades: int = 0
    unparsable: int = 0
    cached: int = 0  # cache writes that moved a price forward
    dead_letter: Optional[Path] = None
    exit_code: int = 0


def _default_dead_letter(settings) -> Path:
    return settings.state_dir / "dead-letter" / f"alert-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"


def _follower(request: AlertRequest, aws):
    if request.source == "kinesis":
        from streamlab.alerts.follow import KinesisFollower

        return KinesisFollower(aws, request.stream, request.start_at, idle_s=request.idle_s)
    from streamlab.alerts.follow import KafkaFollower
    from streamlab.kafka.settings import resolve

    return KafkaFollower(resolve(request.settings, bootstrap=request.bootstrap), request.topic, request.start_at,
                         idle_s=min(request.idle_s, 0.5))


def run_alert(request: AlertRequest, aws=None, stop: Optional[threading.Event] = None) -> AlertResult:
    request.check()
    ruleset = gather_rules(request.rules, request.rules_file)
    cooldown_ms = parse_duration(request.cooldown) if request.cooldown else (ruleset.cooldown_ms or 0)
    dead = SetAside(request.dead_letter or _default_dead_letter(request.settings))
    dead.check()
    dispatcher = Dispatcher(parse_targets(request.notify, request.settings, aws), dead, attempts=request.notify_attempts)
    evaluator = Evaluator(ruleset.rules, cooldown_ms)
    cache = _open_cache(request)
    follower = _follower(request, aws)
    follower.open()
    result = AlertResult(dead_letter=dead.path)
    stop = stop or threading.Event()
    try:
        dispatcher.open()
        if not request.quiet:
            console.info(f"following {follower.describe()} from {request.start_at}{' until its end' if request.once else ''}; "
                         f"{len(ruleset.rules)} rules; notify {', '.join(n.name for n in dispatcher.notifiers)}")
        with _signals_stop(stop):
            _loop(request, follower, evaluator, dispatcher, result, stop, cache)
    finally:
        follower.close()
        dispatcher.close()
        if cache is not None:
            cache.close()
    _summary(request, result, evaluator, dispatcher)
    if dispatcher.stats.dead_lettered:
        raise PartialDelivery(f"{dispatcher.stats.dead_lettered} notifications could not be delivered; they are in {dead.path}",
                              "check the notifier (URL, topic, network); the alerts themselves fired")
    result.exit_code = 1 if request.once and evaluator.stats.fired else 0
    return result


def _open_cache(request: AlertRequest):
    if not request.cache:
        return None
    from streamlab.price_cache import PriceCache

    return PriceCache.open(request.settings, request.cache)


def _loop(request: AlertRequest, follower, evaluator: Evaluator, dispatcher: Dispatcher, result: AlertResult,
          stop: threading.Event, cache=None) -> None:
    ends = None if request.duration is None else time.monotonic() + request.duration
    # looked up once, and counted per page: the loop body runs once per record
    parse, observe, deliver, keep = request.parse, evaluator.observe, dispatcher.deliver, result.alerts.append
    while not stop.is_set() and (ends is None or time.monotonic() < ends):
        payloads = follower.poll()
        page: Optional[list[Trade]] = [] if cache is not None else None
        observed = unparsable = 0
        for data in payloads:
            try:
                trades = parse(data)
                if type(trades) is not list:
                    trades = list(trades)
            except Exception:  # whatever the parser raises: counted, never fatal
                unparsable += 1
                continue
            for trade in trades:
                try:
                    alerts = observe(str(trade.symbol), trade.price, int(trade.event_time))
                except Exception:  # a price or time that is not a number
                    unparsable += 1
                    continue
                observed += 1
                if page is not None:
                    page.append(trade)
                for alert in alerts:
                    keep(alert)
                    deliver(alert)
        result.records += len(payloads)
        result.trades += observed
        result.unparsable += unparsable
        if page:
            from streamlab.price_cache import latest_per_symbol

            result.cached += cache.put(latest_per_symbol(page).values())
        if payloads:
            continue
        if follower.caught_up:
            if request.once:
                return
            follower.idle()
        else:  # an empty page short of the end (a sparse shard, a parent's child waiting): no busy loop
            time.sleep(BEHIND_PAUSE_S)


class _signals_stop:
    """SIGTERM (and Ctrl-C) set the stop flag: the loop ends after the current poll and the summary
    is printed; a second one interrupts at once (exit 130). Main thread only."""

    def __init__(self, stop: threading.Event):
        self.stop, self.old = stop, {}

    def _handle(self, *_: Any) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.stop.set()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self.old.items():
            signal.signal(sig, handler)


def _summary(request: AlertRequest, result: AlertResult, evaluator: Evaluator, dispatcher: Dispatcher) -> None:
    if request.quiet and not result.unparsable:
        return
    s, d = evaluator.stats, dispatcher.stats
    line = (f"read {result.records:,} records ({result.unparsable:,} unparsable), {s.symbols:,} symbols; "
            f"alerts fired {s.fired:,}, cleared {s.cleared:,}, held back by the cooldown {s.suppressed:,}; "
            f"notifications sent {d.sent:,}, retried {d.retried:,}, dead-lettered {d.dead_lettered:,}")
    if s.late:
        line += f"; {s.late:,} records arrived out of event-time order"
    if request.cache:
        line += f"; cache writes {result.cached:,}"
    console.info(line)
