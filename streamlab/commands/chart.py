"""`streamlab chart KIND`: one picture of what `consume` wrote (PNG/SVG via matplotlib, or HTML)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from streamlab.charts.build import KINDS
from streamlab.commands.common import aws_options


def _size(ctx, param, value: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{2,5})x(\d{2,5})", value or "")
    if not m:
        raise click.BadParameter("use WIDTHxHEIGHT in pixels, e.g. 1200x700")
    return int(m.group(1)), int(m.group(2))


@click.command("chart")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--path", required=True, metavar="DIR|URL", help="The --path consume wrote to: a folder or s3://bucket/prefix.")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; the format comes from the extension: .png, .svg or .html (interactive, works offline). [default: KIND.png]")
@click.option("--symbol", "symbols", multiple=True, metavar="SYMBOL", help="Only these symbols (repeatable), e.g. --symbol BTCUSDT --symbol ETHUSDT. [default: all]")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="hashtags: how many per window.")
@click.option("--trend", is_flag=True, help="hashtags: the top N over all windows as lines, instead of bars per window.")
@click.option("--window", default="1m", show_default=True, help="hashtags: window length when counting from tweets/ (no window written yet).")
@click.option("--since", default=None, metavar="TIME", help="Event time from (ISO 8601, UTC unless a zone is given, or epoch seconds).")
@click.option("--until", default=None, metavar="TIME", help="Event time up to, excluded (same forms as --since).")
@click.option("--size", default="1200x700", show_default=True, callback=_size, metavar="WxH", help="Image size in pixels.")
@aws_options
def command(kind: str, path: str, out, symbols, top: int, trend: bool, window: str, since, until, size, settings) -> None:
    """Draw one chart from consume's Parquet output (local folder or s3://).

    \b
    KIND:
      candles   OHLC per window from windows/ (open windows from windows_open/, hollow), volume bars
      price     price over time per symbol from trades/
      hashtags  top N hashtags per window (the socket lab); --trend: the top N over windows as lines
      units     units traded per symbol (the Binance lab's barplot)
      value     value traded in USD per symbol, as a treemap and bars

    \b
      streamlab chart candles --path ./out --symbol BTCUSDT --symbol ETHUSDT --out candles.png
      streamlab chart hashtags --path ./tweets-out --top 10 --out hashtags.html
    """
    from streamlab import console
    from streamlab.charts import Request, draw
    from streamlab.charts.aggregate import parse_duration, parse_time

    parse_duration(window)  # a bad --window is one line before anything is read
    req = Request(kind, tuple(symbols), top, trend, parse_time(since), parse_time(until), window)
    target = out or Path(f"{kind}.png")
    chart = draw(path, req, target, size, settings)
    for note in chart.notes:
        console.info(f"note: {note}")
    console.info(f"wrote {target} ({chart.title}; {chart.subtitle})")
