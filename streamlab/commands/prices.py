"""`streamlab prices`: the latest price per symbol from the Redis cache (see streamlab.price_cache)."""

from __future__ import annotations

import json

import click


@click.command("prices")
@click.argument("symbols", nargs=-1, metavar="[SYMBOL]...")
@click.option("--cache", default=None, metavar="redis://HOST:PORT/DB",
              help="The cache to read. Password: REDIS_PASSWORD. [env: STREAMLAB_CACHE_URL; default: the server of `streamlab local up --redis`]")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format (on stdout).")
def command(symbols: tuple[str, ...], cache, output: str) -> None:
    """Print the latest cached price of each symbol (or of the SYMBOLs given), as `alert --cache`
    and `consume --sink redis` wrote them: the Binance lab's "read the prices from the cache" step.

    Exit 4 when a SYMBOL given has no cached price (the others are still printed).

    \b
      streamlab prices BTCUSDT ETHUSDT
      streamlab prices --cache redis://127.0.0.1:6379/0 -o json
    """
    from streamlab.errors import ResourceNotFound
    from streamlab.price_cache import read_prices
    from streamlab.settings import load_settings
    from streamlab.timefmt import fmt_time

    report = read_prices(load_settings(), cache, symbols)
    if output == "json":
        click.echo(json.dumps(report.rows, indent=2))
    elif report.rows:
        from rich.markup import escape
        from rich.table import Table

        from streamlab.console import wide_console

        table = Table(title=f"latest prices in {report.url}")
        for name, justify in (("symbol", "left"), ("price", "right"), ("event time", "left"), ("volume", "right"), ("source", "left")):
            table.add_column(name, justify=justify)
        for r in report.rows:
            table.add_row(escape(r["symbol"]), r["price"] or "", fmt_time(r["event_time"]) if r["event_time"] is not None else "",
                          r["volume"] or "", r["source"] or "")
        wide_console().print(table)
    elif not report.missing:
        click.echo(f"no prices cached in {report.url} yet (write them with `streamlab alert ... --cache {report.url}`)", err=True)
    if report.missing:
        raise ResourceNotFound(f"no cached price for {', '.join(report.missing)} in {report.url}",
                               "check the symbol (as the stream spells it, e.g. BTCUSDT), or let alert/consume write it first")
