"""`streamlab dashboard`: serve a live page of what `consume` writes (see streamlab.dashboard)."""

from __future__ import annotations

import click

from streamlab.commands.common import aws_options
from streamlab.sources.params import FiniteFloat


@click.command("dashboard")
@click.option("--path", required=True, metavar="DIR|URL", help="The --path consume writes to: a folder or s3://bucket/prefix.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 makes the page reachable from other machines (no login).")
@click.option("--port", type=click.IntRange(0, 65535), default=8050, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--refresh", type=FiniteFloat(min=0.5), default=3.0, show_default=True, metavar="SECONDS", help="How often the page asks for new numbers.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Hashtags shown per window (--dataset tweets).")
@click.option("--window", default="1m", show_default=True, help="Window for hashtags counted from tweets/ before consume closes one.")
@aws_options
def command(path: str, host: str, port: int, refresh: float, top: int, window: str, settings) -> None:
    """Serve one page that follows consume's output: latest price per symbol and its change,
    candlesticks, units and USD value per symbol, top hashtags, records/s, lag, quarantined rows.

    It reads only new batch_id= folders on each refresh, works on s3:// output too, and needs no
    internet (every asset is served by streamlab). Ctrl-C stops it.

    \b
      streamlab consume --stream ticker --sink parquet --path ./out &
      streamlab dashboard --path ./out            # then open http://127.0.0.1:8050/
    """
    from streamlab import console
    from streamlab.charts.aggregate import parse_duration
    from streamlab.dashboard import make

    parse_duration(window)
    dash = make(path, settings, host=host, port=port, refresh=refresh, top=top, window=window)
    console.warn_if_exposed(host, dash.httpd.server_address[1], "the dashboard", "the page")
    try:  # Ctrl-C is how it stops, even right after the line that says so: exit 0
        console.info(f"dashboard for {dash.state.output.url} at {dash.url} (Ctrl-C stops it)")
        dash.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        dash.httpd.server_close()
    console.info("dashboard stopped")
