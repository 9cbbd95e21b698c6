"""Binance spot trades: one combined-stream connection for all symbols, parse().

Frames (binance-spot-api-docs, web-socket-streams): `/stream?streams=btcusdt@trade/ethusdt@trade`
wraps each event as `{"stream","data"}`; a trade is `{"e":"trade","E","s","t","p","q","T","m","M"}`
with price and quantity as strings, kept exact as Decimal. The server pings every 20 s (the base
answers, echoing the payload), cuts every connection at 24 h (we rotate at 23.5 h) and announces
restarts with `serverShutdown` (we reconnect at once). Clients may send at most 5 messages a second.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click

from streamlab.errors import ConnectionFailed
from streamlab.records import RawRecord, Trade
from streamlab.sources.frame_feed import FeedError, Malformed, Reconnect, loads, split_symbols
from streamlab.sources.websocket_base import WebSocketSource, live_options

DEFAULT_HOST = "stream.binance.com:9443"


class BinanceSource(WebSocketSource):
    name = "binance"
    summary = "Live spot trades from Binance's public websocket (no key needed)."
    options = (
        click.Option(["--symbols"], default="btcusdt", show_default=True, help="Comma-separated pairs, any case, e.g. btcusdt,ethusdt."),
        click.Option(["--host"], default=DEFAULT_HOST, show_default=True, help="Feed host; data-stream.binance.vision serves market data only, stream.binance.us:9443 is Binance.US."),
        *live_options(),
    )
    rotate_after = 23.5 * 3600
    max_sends_per_second = 5

    def validate(self) -> None:
        self.symbols = split_symbols(self.opts.get("symbols"), lower=True, default="btcusdt")

    def endpoint(self) -> str:
        base = (self.opts.get("url") or f"wss://{self.opts.get('host') or DEFAULT_HOST}").rstrip("/")
        return f"{base}/stream?streams=" + "/".join(f"{s}@trade" for s in self.symbols)

    def safe_endpoint(self) -> str:
        return self.endpoint()  # no secret in Binance's URL

    def rejected(self, status: int):
        if status == 451:
            return ConnectionFailed(
                "Binance refuses connections from this location (HTTP 451, restricted region, including US cloud regions)",
                "try --host data-stream.binance.vision, or Binance.US with --host stream.binance.us:9443",
            )
        return super().rejected(status)

    def parse(self, text: str, ingest_ms: int) -> list:
        msg = loads(text)
        if not isinstance(msg, dict):
            raise Malformed("not a JSON object")
        d = msg.get("data", msg)
        kind = d.get("e") if isinstance(d, dict) else None
        if kind == "trade":
            try:
                if self.raw:
                    return [RawRecord(text.encode(), "binance", d["s"], ingest_ms)]
                p, q = Decimal(d["p"]), Decimal(d["q"])
                if not (p.is_finite() and q.is_finite()) or type(d["E"]) is not int or type(d["T"]) is not int:
                    raise TypeError
                return [Trade("binance", d["s"], p, q, d["E"], ingest_ms, d["T"], d["t"], None, {"m": d["m"]})]
            except (KeyError, TypeError, InvalidOperation):
                raise Malformed("trade without s/p/q/E/T/t/m fields of the documented types") from None
        event = msg.get("event")
        if kind == "serverShutdown" or (isinstance(event, dict) and event.get("e") == "serverShutdown"):
            raise Reconnect("Binance announced a server shutdown")
        if "result" in msg and "id" in msg:
            return []  # acknowledgement of a SUBSCRIBE request
        err = msg.get("error") if isinstance(msg.get("error"), dict) else msg
        if "code" in err and "msg" in err:
            raise FeedError(f"{err['msg']} (code {err['code']})")
        raise Malformed(f"unexpected event {kind!r}")

    def describe(self) -> str:
        return f"binance {','.join(self.symbols)} trades via {self.safe_endpoint()}"
