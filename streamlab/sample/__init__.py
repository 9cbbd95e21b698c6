"""`streamlab sample`: the Binance lab's minimal project without Spark. Read N records of a stream,
count trades, units and value in USD per symbol.

    readers.py   up to N records from every Kinesis shard / Kafka partition (boto3, kafka-python)
    tally.py     per-symbol sums (exact, Decimal) and their USD value; pure
    prices.py    USD prices from Binance's public REST ticker (`--prices binance`)
    render.py    the rich table, the JSON object, the units chart

Records are parsed by `streamlab.trade_shapes` (streamlab's wire form, Finnhub and Binance JSON).
One entry point, `run_sample(SampleRequest, aws)`, checked on construction before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

from streamlab.errors import ConfigError

if TYPE_CHECKING:  # annotations only: pydantic-settings costs ~0.15 s to import
    from streamlab.sample.tally import Report
    from streamlab.settings import Settings

SOURCES = ("kinesis", "kafka")
PRICES = ("stream", "binance")
STARTS = ("trim-horizon", "latest")


@dataclass(frozen=True)
class SampleRequest:
    settings: "Settings"
    source: str = "kinesis"
    stream: Optional[str] = None
    topic: Optional[str] = None
    count: int = 250
    start: str = "trim-horizon"  # trim-horizon, latest, or a time (ISO 8601 / epoch seconds)
    wait: float = 5.0
    prices: str = "stream"
    host: Optional[str] = None  # Binance REST host for --prices binance
    chart: Optional[Path] = None
    # kafka
    bootstrap: Optional[str] = None
    security_protocol: Optional[str] = None
    sasl_mechanism: Optional[str] = None
    ca_file: Optional[str] = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError(f"unknown --source {self.source!r}", f"use one of {', '.join(SOURCES)}")
        if self.source == "kinesis" and not self.stream:
            raise ConfigError("--source kinesis needs --stream", "add --stream NAME, e.g. --stream binance")
        if self.source == "kafka" and not self.topic:
            raise ConfigError("--source kafka needs --topic", "add --topic NAME, e.g. --topic trades")
        if self.count < 1:
            raise ConfigError(f"--count must be at least 1, not {self.count}", "e.g. --count 250")
        if self.prices not in PRICES:
            raise ConfigError(f"unknown --prices {self.prices!r}", f"use one of {', '.join(PRICES)}")
        self.start_at  # a bad --from is one line now, not after connecting
        if self.chart is not None:
            from streamlab.charts import check_target

            check_target(Path(self.chart), "--chart")

    @property
    def start_at(self) -> Union[str, int]:
        """'trim-horizon', 'latest' or epoch ms."""
        if self.start in STARTS:
            return self.start
        if self.start in ("earliest", "oldest"):
            return "trim-horizon"
        from streamlab.charts.aggregate import parse_time

        try:
            return parse_time(self.start)
        except ConfigError:
            raise ConfigError(f"cannot read --from {self.start!r}",
                              "use trim-horizon, latest, or a time: ISO 8601 (UTC unless a zone is given) or epoch seconds") from None

    @property
    def where(self) -> str:
        return f"Kinesis stream {self.stream}" if self.source == "kinesis" else f"Kafka topic {self.topic}"


def records(request: SampleRequest, aws=None):
    """The records' bytes, from the request's stream or topic (an iterator; reading is lazy)."""
    from streamlab.sample import readers

    if request.source == "kinesis":
        return readers.read_kinesis(aws, request.stream, request.count, request.start_at, request.wait)
    from streamlab.kafka.settings import resolve

    sec = resolve(request.settings, bootstrap=request.bootstrap, security_protocol=request.security_protocol,
                  sasl_mechanism=request.sasl_mechanism, ca_file=request.ca_file)
    return readers.read_kafka(sec, request.topic, request.count, request.start_at, request.wait)


def run_sample(request: SampleRequest, aws=None) -> "Report":
    """Read, tally, price, and draw the units chart when asked. Binance prices are fetched first:
    an unreachable host fails before any wait for records."""
    from streamlab.sample.prices import binance_prices, ticker_url
    from streamlab.sample.render import write_chart
    from streamlab.sample.tally import Tally, report

    fetched = binance_prices(request.host) if request.prices == "binance" else None
    tally = Tally().add_all(records(request, aws))
    if fetched is None:
        result = report(tally, tally.latest_prices(), "stream")
    else:
        result = report(tally, fetched, "binance", ticker_url(request.host))
    if request.chart is not None:
        result.chart = write_chart(result, Path(request.chart), request.where)
    return result
