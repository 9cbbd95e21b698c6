"""`streamlab demo --lab ticker-pipeline`: the serverless lab (Lab 2) rehearsed offline, ending by itself.

emulator with its Lambda scheduler (child process, free port, time sped up so the 1-minute schedule
runs every few seconds) -> `provision ticker-pipeline` (all its resources, on the emulator) -> the
schedule runs the generator: prices move in DynamoDB, ticks land in S3 through Firehose -> one
failure injected (the generator is pointed at a table that does not exist, for one run and its
retries) -> the notification function publishes to SNS, and the message is shown -> teardown ->
emulator stopped. Everything it starts is stopped in `finally`; nothing is left running.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from streamlab import console
from streamlab.errors import StreamlabError

LAB = "demo-ticker"
#: a 1-minute schedule every 3 s; AWS's 1- and 2-minute retry delays become 3 and 6 s
TIME_SCALE = 20.0
MISSING_TABLE = "streamlab-demo-missing-table"


@dataclass
class TickerDemoResult:
    runs: int
    ticks: int
    prices: dict[str, float]
    messages: list[dict] = field(default_factory=list)
    leftover: int = -1
    chart: Optional[Path] = None
    elapsed: float = 0.0


def _wait(what: str, check: Callable[[], Optional[object]], timeout: float, poll: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise StreamlabError(f"the demo waited {timeout:.0f}s for {what} and gave up", "rerun with --traceback, or see `streamlab local logs`")


class _Pipeline:
    """The provisioned resources' names and the few reads the demo shows."""

    def __init__(self, aws, applied):
        names = {a.row.kind: [] for a in applied}
        for a in applied:
            names[a.row.kind].append(a.row.name)
        self.aws = aws
        self.table = names["dynamodb"][0]
        self.bucket = names["s3-bucket"][0]
        self.generator = next(n for n in names["lambda"] if "streaming" in n)
        self.count = len(applied)

    def prices(self) -> dict[str, float]:
        items = self.aws.client("dynamodb").scan(TableName=self.table, ConsistentRead=True)["Items"]
        return {i["symbol"]["S"]: float(i["price"]["N"]) for i in items}

    def deliveries(self) -> list[list[dict]]:
        """Every object Firehose delivered (one per generator run), as its ticks in the wire form."""
        s3 = self.aws.client("s3")
        return [[json.loads(line) for line in s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read().splitlines()]
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
                for obj in page.get("Contents", [])]

    def ticks(self) -> tuple[int, int]:
        """(objects, records) Firehose delivered to the bucket."""
        runs = self.deliveries()
        return len(runs), sum(len(r) for r in runs)

    def trades(self) -> list[dict]:
        """Every tick Firehose delivered, in the wire form."""
        return [tick for run in self.deliveries() for tick in run]

    def set_table(self, table: str) -> None:
        lam = self.aws.client("lambda")
        env = lam.get_function_configuration(FunctionName=self.generator)["Environment"]["Variables"]
        lam.update_function_configuration(FunctionName=self.generator, Environment={"Variables": {**env, "TABLE_NAME": table}})


def _price_chart(trades: list[dict], path: Path) -> Optional[Path]:
    """The generator's prices over the runs as a PNG, when the charts extra (matplotlib) is there."""
    try:
        from streamlab.charts import aggregate, render_png
        from streamlab.charts.build import Chart

        data = dict(sorted(aggregate.price_series(trades).items()))
        path.parent.mkdir(parents=True, exist_ok=True)
        render_png.render(Chart("price", "Ticker pipeline prices: " + ", ".join(data), data, "one point per scheduled run"), path, 1200, 700)
        return path
    except StreamlabError as exc:  # e.g. matplotlib missing: the demo itself succeeded
        console.info(f"note: no price chart: {exc.one_line()}")
        return None


def run_ticker_demo(runs: int = 5, time_scale: float = TIME_SCALE, chart_path: Path = Path("streamlab-output/ticker-prices.png")) -> TickerDemoResult:
    from streamlab.aws import blueprints
    from streamlab.aws.naming import Namer
    from streamlab.aws.provision import provision_blueprint
    from streamlab.aws.session import AWS
    from streamlab.aws.teardown import teardown
    from streamlab.local import messages as local_messages
    from streamlab.local.emulator import Emulator
    from streamlab.settings import load_settings

    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="streamlab-demo-ticker-"))
    emulator = Emulator(scheduler_time_scale=time_scale)
    try:
        console.info(f"[bold]1/5[/] starting the local AWS emulator with its Lambda scheduler on {emulator.url} "
                     f"(time x{time_scale:g}: the 1-minute schedule runs every {60 / time_scale:g}s) ...")
        emulator.start()
        settings = load_settings(endpoint_url=emulator.url, home=home, lab=LAB)
        aws = AWS(settings)

        console.info("[bold]2/5[/] provisioning the ticker pipeline on the emulator ...")
        applied = provision_blueprint(aws, lambda arns: blueprints.ticker_pipeline(
            Namer("streamlab-demo-{service}", lab=LAB, account=arns.account, region=arns.region), arns, []), yes=True)
        p = _Pipeline(aws, applied)
        console.info(f"      {p.count} resources: generator {p.generator}, table {p.table}, bucket {p.bucket}")

        console.info(f"[bold]3/5[/] waiting for {runs} scheduled runs of the generator ...")
        before = p.prices()
        objects, ticks = _show_runs(p, runs, before, timeout=runs * 60 / time_scale + 60)

        console.info("[bold]4/5[/] injecting one failure: the generator is pointed at a missing table ...")
        seen = len(local_messages.fetch(emulator.url))
        p.set_table(MISSING_TABLE)
        retry_wait = 60 + 180 * 60 / time_scale
        new = _wait("the failure notification", lambda: local_messages.fetch(emulator.url)[seen:], timeout=retry_wait)
        p.set_table(p.table)  # the retries still queued succeed again
        for m in new:
            console.info(f"      SNS {m['topic'].rsplit(':', 1)[-1]}: {m.get('subject') or ''}")
            console.info("      " + "\n      ".join(m["message"].splitlines()[:4]))

        prices = p.prices()
        chart = _price_chart(p.trades(), chart_path)
        console.info("[bold]5/5[/] tearing down what the demo created ...")
        report = teardown(aws, lab=LAB, yes=True)
        return TickerDemoResult(runs=objects, ticks=ticks, prices=prices, messages=new, chart=chart,
                                leftover=len(report.left), elapsed=time.monotonic() - started)
    finally:
        emulator.stop()
        shutil.rmtree(home, ignore_errors=True)


def _show_runs(p: _Pipeline, runs: int, start: dict[str, float], timeout: float) -> tuple[int, int]:
    """Print one line per delivered run (prices now, moved since the start); returns (runs, ticks)."""
    shown = ticks = 0
    deadline = time.monotonic() + timeout
    while shown < runs:
        if time.monotonic() > deadline:
            raise StreamlabError(f"only {shown} of {runs} scheduled runs arrived within {timeout:.0f}s",
                                 "see the generator's log: streamlab local logs NAME")
        objects, ticks = p.ticks()
        if objects > shown:
            shown = objects
            now = p.prices()
            moves = ", ".join(f"{s} {now[s]:,.2f} ({(now[s] / start[s] - 1) * 100:+.2f}%)" for s in sorted(now) if s in start)
            console.info(f"      run {shown}: {ticks} ticks in S3; {moves}")
        time.sleep(0.3)
    return shown, ticks


def summary(r: TickerDemoResult) -> str:
    chart = f" (price chart: {r.chart})" if r.chart else ""
    return (f"ticker demo done in {r.elapsed:.0f}s: {r.runs} scheduled runs, {r.ticks} ticks in S3, "
            f"{len(r.messages)} failure notification(s) on SNS; {r.leftover} resources left{chart}")
