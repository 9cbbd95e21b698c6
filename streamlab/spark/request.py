"""`ConsumeRequest`: everything one consume run needs, checked before the JVM starts.

The `consume` command builds one from its flags, the demo and the benchmarks build theirs, and
`streamlab.spark.job.run_consume` runs it. Construction checks what needs no network and no Spark:
known source, dataset and sinks, the trigger, the dataset's options, the paths (made absolute).
Reaching the source (stream, topic, folder) and the bucket is checked by `run_consume`, still
before the SparkSession starts. No pyspark import here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

from streamlab.errors import ConfigError
from streamlab.paths import check_writable_dir
from streamlab.spark.datasets import DATASETS, create
from streamlab.spark.outputs import S3_SCHEMES, check_path, is_remote, scheme_of
from streamlab.spark.readers import READERS, ReadRequest
from streamlab.spark.writers import WRITERS

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.settings import Settings

AVAILABLE_NOW = "available-now"
STARTING_POSITIONS = ("trim-horizon", "latest")
#: the windows query runs at most this often. On 2 cores a windows batch every second competes with
#: the records query and doubles its batch time; windows wait for a watermark (30 s by default) to
#: close anyway, so a few seconds more between refreshes costs them little.
WINDOWS_MIN_INTERVAL_MS = 5_000


@dataclass(frozen=True)
class ConsumeRequest:
    """One consume run; the fields are `streamlab consume`'s flags (see `streamlab consume --help`).

    On construction `sink` and `partition_by` become tuples, and with `--source files` and no sink
    that writes files, `path` is taken as the input folder (`input_path`). A variant of a request
    (the demo's second, available-now pass) is `dataclasses.replace(request, trigger=...)`, checked again."""

    settings: "Settings"
    source: str = "kinesis"
    stream: Optional[str] = None
    dataset: str = "ticker"
    sink: Union[str, Sequence[str]] = ("console",)
    path: Optional[str] = None
    checkpoint: Optional[str] = None
    trigger: str = "5s"
    starting_position: str = "trim-horizon"
    timeout: Optional[float] = None
    reader: str = "auto"
    window: Optional[str] = None
    watermark: Optional[str] = None
    slide: Optional[str] = None
    max_records_per_batch: Optional[int] = None
    # kafka
    topic: Optional[str] = None
    bootstrap: Optional[str] = None
    starting_offsets: Optional[str] = None
    max_offsets_per_trigger: Optional[int] = None
    isolation_level: str = "read_uncommitted"
    packages: bool = False
    security_protocol: Optional[str] = None
    sasl_mechanism: Optional[str] = None
    ca_file: Optional[str] = None
    # socket, files
    host: str = "127.0.0.1"
    port: Optional[int] = None
    input_path: Optional[str] = None
    file_format: str = "text"
    # dataset options
    date_column: str = "review_date"
    top: int = 10
    max_future: float = 3600.0  # trades: seconds an event time may be ahead of its arrival
    # sinks
    partition_by: Sequence[str] = ()
    name: Optional[str] = None
    cache: Optional[str] = None  # --sink redis: redis://HOST:PORT/DB (default: STREAMLAB_CACHE_URL, the local server)
    quiet: bool = False
    verbose: bool = False  # print where the start-up went and how long each query's batches took
    # a live page of what the run writes (streamlab.dashboard), served beside it
    dashboard: bool = False
    dashboard_port: int = 8050

    def __post_init__(self) -> None:
        if self.source not in READERS:
            raise ConfigError(f"unknown source {self.source!r}", f"choose one of: {', '.join(sorted(READERS))}")
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}", f"choose one of: {', '.join(sorted(DATASETS))}")
        if self.starting_position not in STARTING_POSITIONS:
            raise ConfigError(f"unknown starting position {self.starting_position!r}", "use trim-horizon or latest")
        object.__setattr__(self, "sink", _sinks(self.sink))
        object.__setattr__(self, "partition_by", tuple(self.partition_by or ()))
        trigger = self.spark_trigger  # a trigger that does not parse fails here
        if self.source == "socket" and trigger is None:
            raise ConfigError("the socket source has no backlog to read available-now", "use an interval, e.g. --trigger 2s (with --timeout to stop)")
        if self.source == "files" and self.input_path is None and not self.writes_files:
            # `--source files --path DIR --sink console`: --path is the input
            object.__setattr__(self, "input_path", self.path)
            object.__setattr__(self, "path", None)
        self._check_intervals(self.make_dataset())  # the dataset's options (reviews' --date-column) too
        self._check_cache()
        if self.dashboard and not self.writes_files:
            raise ConfigError("--dashboard shows what consume writes, and this run writes no files",
                              "add --sink parquet --path DIR (or --sink s3 --path s3://bucket/prefix)")
        if is_remote(self.out_path) and self.checkpoint is None:
            raise ConfigError(
                f"--path {self.out_path} is not a local folder: give the checkpoint folder too",
                "add --checkpoint DIR (e.g. --checkpoint /tmp/kafka-checkpoint); reuse it to continue where a run stopped",
            )
        for flag, folder in (("--path", self.out_path), ("--checkpoint", self.checkpoint)):
            if folder and not is_remote(folder):
                check_writable_dir(str(Path(folder.removeprefix("file://")).expanduser().resolve()), flag)

    def _check_cache(self) -> None:
        """--sink redis needs a dataset with a latest view and a cache URL; --cache needs --sink redis."""
        if "redis" not in self.sink:
            if self.cache:
                raise ConfigError("--cache is where --sink redis writes, and no redis sink was asked for", "add --sink redis, or drop --cache")
            return
        if not DATASETS[self.dataset].has_latest:
            raise ConfigError(f"--sink redis caches the latest price per symbol, and the {self.dataset} dataset has none",
                              "use it with --dataset trades (or ticker)")
        from streamlab.price_cache import resolve_url

        object.__setattr__(self, "cache", resolve_url(self.settings, self.cache))

    def _check_intervals(self, dataset) -> None:
        """--window, --slide (at most the window, as Spark wants) and --watermark, before Spark."""
        if self.watermark:
            parse_interval(self.watermark, "--watermark", zero=True)
        window_ms = parse_interval(self.window, "--window")[1] if self.window else None
        if self.slide:
            slide_ms = parse_interval(self.slide, "--slide")[1]
            if window_ms is None and getattr(dataset, "default_window", None):
                window_ms = parse_interval(dataset.default_window)[1]
            if window_ms is not None and slide_ms > window_ms:
                raise ConfigError(f"--slide {self.slide} is longer than the window ({self.window or dataset.default_window})",
                                  "give a slide no longer than --window (or leave it out for tumbling windows)")

    @cached_property
    def spark_trigger(self) -> Optional[str]:
        """Spark's processing-time interval, or None for available-now."""
        return parse_trigger(self.trigger)

    @property
    def writes_files(self) -> bool:
        return any(WRITERS[s].writes_files for s in self.sink)

    @property
    def file_sink(self) -> str:
        """The sink that writes files (the first sink when none does): the one --path errors name."""
        return next((s for s in self.sink if WRITERS[s].writes_files), self.sink[0])

    @cached_property
    def out_path(self) -> Optional[str]:
        """Where the file sinks write (local paths absolute); None when no sink writes files."""
        out = check_path(self.path, self.writes_files, self.file_sink)
        return out if self.writes_files else None  # console/memory only: --path has nothing to write

    @property
    def writes_s3(self) -> bool:
        return bool(self.out_path) and scheme_of(self.out_path) in S3_SCHEMES

    @property
    def needs_aws(self) -> bool:
        """Whether the run talks to AWS (a Kinesis source or an S3 path): then it needs an AWS handle."""
        return self.source == "kinesis" or self.writes_s3

    def make_dataset(self):
        """The `streamlab.spark.datasets.Dataset`, with this request's options."""
        return create(self.dataset, date_column=self.date_column, top=self.top, max_future=self.max_future)

    def read_request(self) -> ReadRequest:
        """What the source needs of this run (a fresh, mutable copy: its check resolves into it)."""
        names = {f.name for f in fields(ReadRequest)} - {"kafka"}
        return ReadRequest(**{n: getattr(self, n) for n in names})


def _sinks(sink: Union[str, Sequence[str]]) -> tuple[str, ...]:
    names = [sink] if isinstance(sink, str) else list(sink or ())
    names = list(dict.fromkeys(n for n in names if n))
    for n in names:
        if n not in WRITERS:
            raise ConfigError(f"unknown sink {n!r}", f"choose one of: {', '.join(sorted(WRITERS))}")
    return tuple(names) or ("console",)


def parse_trigger(text: str) -> Optional[str]:
    """'available-now' -> None; '5s', '500ms', '2 seconds', '1m' -> Spark's interval text."""
    t = (text or "").strip().lower()
    if t in (AVAILABLE_NOW, "availablenow", "available_now"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?)", t)
    if not m:
        raise ConfigError(f"--trigger {text!r} is not understood", "use available-now or an interval like 5s, 500ms, 1m")
    n, unit = float(m.group(1)), m.group(2)
    ms = n if unit.startswith("ms") or unit.startswith("milli") else n * 60_000 if unit.startswith("m") else n * 1000
    return f"{int(ms)} milliseconds"


#: unit spellings -> (Spark's unit, milliseconds per unit)
_UNITS = {
    **dict.fromkeys(("ms", "msec", "millisecond", "milliseconds"), ("milliseconds", 1)),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), ("seconds", 1_000)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), ("minutes", 60_000)),
    **dict.fromkeys(("h", "hr", "hour", "hours"), ("hours", 3_600_000)),
    **dict.fromkeys(("d", "day", "days"), ("days", 86_400_000)),
}
_INTERVAL = re.compile(r"\s*(-?\d+)\s*([a-z]+)\s*")


def parse_interval(text: str, flag: str = "--window", *, zero: bool = False) -> tuple[str, int]:
    """'10s', '10 seconds', '1 minute', '5m' -> (Spark's interval text, milliseconds).

    Spark itself only fails on a bad interval once its session is up (and with a Java stack), so
    every interval flag is parsed here: a whole number and one unit, above 0 (or 0 with `zero`)."""
    m = _INTERVAL.fullmatch((text or "").lower())
    unit = _UNITS.get(m.group(2)) if m else None
    example = "e.g. 10s, 30 seconds, 1m, '1 minute'"
    if unit is None:
        raise ConfigError(f"{flag} {text!r} is not an interval", f"give a whole number and a unit (ms, s, m, h, d), {example}")
    n = int(m.group(1))
    if n < 0 or (n == 0 and not zero):
        raise ConfigError(f"{flag} {text!r} must be {'0 or more' if zero else 'more than 0'}", example)
    return f"{n} {unit[0]}", n * unit[1]


def interval(text: Optional[str]) -> Optional[str]:
    """'1m' -> '1 minutes', '10s' -> '10 seconds', '1 minute' -> '1 minutes' (Spark's form); None stays None."""
    return parse_interval(text)[0] if text else None


def windows_trigger(trigger: Optional[str]) -> Optional[str]:
    """The windows query's trigger: the records query's, but no more often than WINDOWS_MIN_INTERVAL_MS."""
    if trigger is None:
        return None
    ms = int(trigger.split()[0])
    return f"{max(ms, WINDOWS_MIN_INTERVAL_MS)} milliseconds"
