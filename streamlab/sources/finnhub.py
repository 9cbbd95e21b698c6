"""Finnhub trades over its websocket: URL with the key, one subscribe message per symbol, parse().

Frames (finnhub.io/docs/api/websocket-trades): `{"type":"trade","data":[{"s","p","t" ms,"v","c"}]}`
(a batch: each element is one trade; `c` may be missing, `v` may be 0), `{"type":"ping"}`
heartbeats, `{"type":"error","msg":...}` (shown and counted; the other symbols keep flowing).
The key travels in the URL's query string, so the URL is only ever shown masked.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import click

from streamlab.errors import ConfigError, ConnectionFailed
from streamlab.records import RawRecord, Trade
from streamlab.sources.frame_feed import FeedError, Malformed, loads, split_symbols
from streamlab.sources.websocket_base import WebSocketSource, live_options

URL = "wss://ws.finnhub.io"
DEFAULT_SYMBOLS = "BINANCE:BTCUSDT"
_NUM = (int, float)


class FinnhubSource(WebSocketSource):
    name = "finnhub"
    summary = (
        "Live trades from Finnhub's websocket; key from FINNHUB_API_KEY (env or .env). Free tier: one "
        "connection per key; US stocks are silent while the market is closed, crypto (BINANCE:BTCUSDT) trades all day."
    )
    options = (
        click.Option(["--symbols"], default=None, help=f"Comma-separated symbols, e.g. BINANCE:BTCUSDT,AAPL. [env: STREAMLAB_FINNHUB_SYMBOLS; default: {DEFAULT_SYMBOLS}]"),
        *live_options(),
    )

    def validate(self) -> None:
        key = self.settings.finnhub_api_key
        if key is None or not key.get_secret_value().strip():
            raise ConfigError("FINNHUB_API_KEY is not set", "set FINNHUB_API_KEY in the environment or in .env (a free key comes from finnhub.io)")
        self.symbols = split_symbols(self.opts.get("symbols") or self.settings.finnhub_symbols, default=DEFAULT_SYMBOLS)

    def endpoint(self) -> str:
        base = self.opts.get("url") or URL
        token = quote(self.settings.finnhub_api_key.get_secret_value().strip(), safe="")
        return f"{base}{'&' if '?' in base else '?'}token={token}"

    def subscriptions(self) -> list[str]:
        return [json.dumps({"type": "subscribe", "symbol": s}) for s in self.symbols]

    def rejected(self, status: int):
        if status == 401:
            return ConnectionFailed("Finnhub rejected the API key", "check FINNHUB_API_KEY")
        if status == 429:
            return ConnectionFailed("Finnhub refused the connection (HTTP 429: too many connections for this key)", "the free tier allows one connection per key: stop the other producer")
        return super().rejected(status)

    def parse(self, text: str, ingest_ms: int) -> list:
        msg = loads(text)
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "trade":
            data = msg.get("data")
            try:
                if self.raw:
                    return [RawRecord(text.encode(), "finnhub", data[0]["s"], ingest_ms)]
                out = []
                for d in data:
                    p, v, t = d["p"], d.get("v"), d["t"]
                    if type(p) not in _NUM or (v is not None and type(v) not in _NUM) or type(t) is not int:
                        raise TypeError
                    out.append(Trade("finnhub", d["s"], p, v, t, ingest_ms, t, None, d.get("c")))
                return out
            except (KeyError, TypeError, IndexError):
                raise Malformed("trade without numeric s/p/t fields") from None
        if kind == "ping":
            return []
        if kind == "error":
            raise FeedError(str(msg.get("msg") or text))
        raise Malformed(f"unexpected message type {kind!r}")

    def describe(self) -> str:
        return f"finnhub {','.join(getattr(self, 'symbols', []))} via {self.safe_endpoint()}"
