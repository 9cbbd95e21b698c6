"""`streamlab demo`: the whole pipeline, offline, on the local emulator, ending by itself.

emulator (child process, free port) -> provision a 2-shard Kinesis stream -> synthetic ticker at
`rate` records/s for `duration` s on a thread (2 s of it first, the rest once Spark has shown its
first table: see `_Producer`) -> Spark reads the stream every 2 s, shows the live
window table and writes Parquet until it has read everything the producer sent -> one
`available-now` pass on the same checkpoint closes what is left -> teardown -> emulator stopped.

Windows are 10 s with a 5 s watermark here (not the 1 minute default) so a 30 s run closes some.
Everything it starts is stopped in `finally`, including on Ctrl-C; no process is left running.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from streamlab import console
from streamlab.errors import ConfigError

STREAM = "streamlab-demo-ticker"
LAB = "demo"
WINDOW, WATERMARK = "10 seconds", "5 seconds"
WARM_UP_SECONDS = 2.0  # produced first; the rest once Spark has shown its first table (see _Producer)
WARM_UP_WAIT_SECONDS = 60.0  # ... or after this long, whatever Spark is doing
CHART = "candles.png"  # the demo's last step draws its windows here, in the output folder


@dataclass
class DemoResult:
    produced: int
    consumed: int
    windows_written: int
    quarantined: int
    output: Path
    elapsed: float
    leftover: int
    chart: Optional[Path] = None  # candles.png in the output folder; None without the charts extra


def _prepare_output(output: Path) -> None:
    """The demo owns its output folder: clear a previous demo's, refuse anything else."""
    if not output.exists():
        return
    ours = {"trades", "windows", "windows_open", "_checkpoint", "_quarantine", CHART}
    entries = {p.name for p in output.iterdir()}
    if entries and not entries <= ours:
        raise ConfigError(
            f"{output} exists and does not look like demo output",
            "move it away or pass --output to another folder",
        )
    shutil.rmtree(output)


class _Producer(threading.Thread):
    """The synthetic ticker into the stream, in two parts: `WARM_UP_SECONDS` of it, then (once Spark
    has shown its first table, see `consumed_all`) the rest. Why: the first batch of each query is
    slow (Python workers, code generation, the windows' state store: 15-20 s on 2 cores), longer
    than most of the run; produced all at once, the records pile up meanwhile and arrive in one or
    two late batches, and the live table shows once. Warm, a batch takes a second or two."""

    def __init__(self, aws, duration: float, rate: float):
        super().__init__(name="demo-producer", daemon=True)
        self.aws, self.duration, self.rate = aws, duration, rate
        self.sent = 0  # records sent, both parts
        self.warm = threading.Event()  # Spark has shown its first windows table
        self.error: Optional[BaseException] = None

    def consumed_all(self, stats) -> bool:
        """True once producing ended and the consumer's stats show every record sent was read."""
        if stats.windows_updated:
            self.warm.set()
        if self.is_alive():
            return False
        return self.error is not None or stats.input_rows >= self.sent

    def run(self) -> None:
        total = round(self.duration * self.rate)  # the counts cap what the rate's pacing may add at the end
        first = min(self.duration, WARM_UP_SECONDS)
        try:
            self.sent += self._produce(min(total, round(first * self.rate)), first)
            self.warm.wait(WARM_UP_WAIT_SECONDS)
            if total > self.sent and self.duration > first:
                self.sent += self._produce(total - self.sent, self.duration - first)
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def _produce(self, count: int, duration: float) -> int:
        from streamlab.pipeline import Limits
        from streamlab.produce import ProduceRequest, produce

        request = ProduceRequest(
            settings=self.aws.settings, source="synthetic", sink="kinesis", sink_options={"stream": STREAM},
            limits=Limits(count=count, duration=duration, rate=self.rate), quiet=True,
        )
        return produce(request, self.aws).stats.sent


def _consume(settings, spark, output: Path, duration: float, producer: _Producer):
    """Spark reads the stream every 2 s while the producer runs, then one available-now pass on the
    same checkpoint; (live summary, last pass summary)."""
    from streamlab.aws.session import AWS
    from streamlab.spark.job import run_consume
    from streamlab.spark.request import ConsumeRequest

    request = ConsumeRequest(
        settings, source="kinesis", stream=STREAM, dataset="ticker", sink=("console", "parquet"), path=str(output),
        window=WINDOW, watermark=WATERMARK, trigger="2s", timeout=duration + 90,
    )
    aws = AWS(settings)  # one handle for both passes
    # Stop once the producer is done and Spark has read all it sent, between batches (stopping
    # mid-batch wastes it and makes Spark print a long stack); the timeout is only a backstop.
    live = run_consume(request, aws=aws, spark=spark, stop_when=producer.consumed_all)
    producer.join()
    if producer.error is not None:
        raise producer.error
    # the same checkpoint, available-now: reads anything left and closes the relayed windows
    rest = run_consume(replace(request, trigger="available-now", timeout=None, quiet=True), aws=aws, spark=spark)
    return live, rest


def run_demo(duration: float = 30.0, rate: float = 50.0, output: Path = Path("streamlab-output")) -> DemoResult:
    from streamlab.local.emulator import Emulator
    from streamlab.aws.provision import provision
    from streamlab.aws.resources import Spec
    from streamlab.aws.session import AWS
    from streamlab.aws.teardown import teardown
    from streamlab.charts import write_demo_chart
    from streamlab.settings import load_settings
    from streamlab.spark.session import get_session, require_spark

    started = time.monotonic()
    require_spark()  # Java and pyspark, before starting anything
    output = output.resolve()
    _prepare_output(output)
    home = Path(tempfile.mkdtemp(prefix="streamlab-demo-"))
    emulator = Emulator()
    spark = None
    producer: Optional[_Producer] = None
    leftover = -1
    try:
        console.info(f"[bold]1/5[/] starting the local AWS emulator on {emulator.url} ...")
        emulator.start()
        settings = load_settings(endpoint_url=emulator.url, home=home, lab=LAB)
        aws = AWS(settings)  # the demo's one handle: provision, producer and teardown share it

        console.info(f"[bold]2/5[/] creating Kinesis stream {STREAM} (2 shards) on the emulator ...")
        provision(aws, [Spec("kinesis", STREAM, {"shards": 2, "on_demand": False})], yes=True)

        console.info("[bold]3/5[/] starting Spark (local mode) ...")
        spark = get_session("streamlab demo")

        console.info(f"[bold]4/5[/] producing the synthetic ticker at {rate:g} records/s for {duration:g}s; Spark reads every 2s")
        producer = _Producer(aws, duration, rate)
        producer.start()  # the warm-up part now: Spark's first batch finds it when its queries start
        live, rest = _consume(settings, spark, output, duration, producer)

        console.info("[bold]5/5[/] tearing down what the demo created ...")
        report = teardown(aws, lab=LAB, yes=True)
        leftover = len(report.left)
        produced = producer.sent
        chart = write_demo_chart(output, CHART)  # None, with a note, without matplotlib (the charts extra)
        return DemoResult(
            produced=produced,
            consumed=live.input_rows + rest.input_rows,
            windows_written=live.windows_written + rest.windows_written,
            quarantined=live.quarantined + rest.quarantined,
            output=output,
            elapsed=time.monotonic() - started,
            leftover=leftover,
            chart=chart,
        )
    finally:
        if producer is not None and producer.is_alive():
            producer.join(timeout=10)
        if spark is not None:
            spark.stop()
        emulator.stop()
        shutil.rmtree(home, ignore_errors=True)
