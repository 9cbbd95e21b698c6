"""A sample's report on stdout (a rich table, or one JSON object) and its units chart."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Optional

from streamlab.sample.tally import Report


def _units(d: Decimal) -> str:
    text = f"{d:,.8f}".rstrip("0").rstrip(".")
    return text or "0"


def _usd(d: Optional[Decimal]) -> str:
    return "n/a" if d is None else f"${d:,.2f}"


def _prices_line(report: Report) -> str:
    if report.prices == "stream":
        how = "other quote assets converted with the latest USD price in this sample (--prices stream)"
    else:
        how = f"other quote assets converted with Binance's ticker prices from {report.prices_from} (--prices binance)"
    return f"USD value: USDT, USDC, BUSD and USD quotes count 1:1; {how}"


def print_json(report: Report) -> None:
    print(json.dumps(report.to_dict(), indent=2))


def print_table(report: Report, where: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from streamlab.aws.plan import wide_console

    out = wide_console()
    n = report.heartbeats
    skipped = f", {n:,} heartbeat{'s' if n != 1 else ''} (ping) skipped" if n else ""
    title = f"{report.trades:,} trades in {report.records:,} records from {escape(where)}{skipped}"
    if not report.rows:
        out.print(f"no trades: {title}", soft_wrap=True)
    else:
        out.print(title, soft_wrap=True)  # a line of its own: a table's title folds to the table's width
        table = Table()
        table.add_column("symbol")
        table.add_column("trades", justify="right")
        table.add_column("units", justify="right")
        table.add_column("value in USD", justify="right")
        table.add_column("converted with")
        for r in report.rows:
            table.add_row(escape(r.symbol), f"{r.trades:,}", _units(r.units), _usd(r.value_usd), escape(r.via) or "")
        table.add_section()
        table.add_row("total", f"{report.trades:,}", _units(report.units), _usd(report.value_usd), "", style="bold")
        out.print(table)
        out.print(_prices_line(report), soft_wrap=True)
    if report.unpriced:
        out.print(f"no USD price for the quote asset of {', '.join(report.unpriced)}: left out of the total"
                  + (" (add its <asset>USDT pair to the stream, or use --prices binance)" if report.prices == "stream" else ""), soft_wrap=True)
    if report.unparsed:
        n = sum(report.unparsed.values())
        reasons = "; ".join(f"{escape(reason)} ({k:,})" for reason, k in report.unparsed.items())
        out.print(f"{n:,} record{'s' if n != 1 else ''} not parsed as trades ({reasons})", soft_wrap=True)


def write_chart(report: Report, path: Path, where: str) -> Optional[Path]:
    """The units barplot (the Binance lab's), or None when the sample has no trades."""
    from streamlab.charts import write
    from streamlab.charts.build import Chart

    if not report.rows:
        return None
    data = sorted(((r.symbol, float(r.units), r.trades) for r in report.rows), key=lambda x: (-x[1], x[0]))
    chart = Chart("units", "Units traded per symbol", data, f"{report.trades:,} trades in a sample of {report.records:,} records from {where}")
    write(chart, path)
    return path
