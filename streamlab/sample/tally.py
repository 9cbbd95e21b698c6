"""Per-symbol sums over a sample of records, and their value in USD. Pure: no I/O.

Sums are exact (Decimal: Binance sends prices as text, the wire form keeps the digits). A trade's
value is price x volume in its quote asset; USD-like quotes (USDT, USDC, BUSD, USD...; see
`streamlab.charts.aggregate.USD_QUOTES`) count 1:1, a symbol with no recognised quote (a stock,
`Index_1`) is in dollars, and other quotes (BTC, ETH, BNB...) are converted with one USD price per
asset: its `<asset>USDT` pair, else the first USD-like pair found (`usd_rates`). Those prices come
from the sample itself (the latest trade by event time) or from Binance's ticker (`prices.py`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Optional

from streamlab.charts.aggregate import USD_QUOTES, quote_of
from streamlab.trade_shapes import parse


@dataclass
class Sums:
    trades: int = 0
    units: Decimal = Decimal(0)
    quoted: Decimal = Decimal(0)  # sum of price x volume, in the quote asset
    latest: tuple = (-1, Decimal(0))  # (event time, price) of the newest trade


@dataclass
class Tally:
    """Records folded in one by one (`add`): trades per symbol, heartbeats, unparsed reasons."""

    records: int = 0
    heartbeats: int = 0
    unparsed: Counter = field(default_factory=Counter)
    symbols: dict = field(default_factory=dict)  # symbol -> Sums

    def add(self, data: bytes, ingest_ms: int = 0) -> None:
        self.records += 1
        got = parse(data, ingest_ms)
        if got.heartbeat:
            self.heartbeats += 1
        elif not got.ok:
            self.unparsed[got.reason] += 1
        for t in got.trades:
            s = self.symbols.setdefault(t.symbol, Sums())
            s.trades += 1
            volume = Decimal(t.volume or 0)
            s.units += volume
            s.quoted += Decimal(t.price) * volume
            if t.event_time >= s.latest[0]:  # ties: the later record wins
                s.latest = (t.event_time, Decimal(t.price))

    def add_all(self, records: Iterable[bytes]) -> "Tally":
        for r in records:
            self.add(r)
        return self

    def latest_prices(self) -> dict[str, Decimal]:
        return {sym: s.latest[1] for sym, s in self.symbols.items()}


def usd_rates(prices: dict[str, Decimal]) -> dict[str, tuple[str, Decimal]]:
    """Asset -> (the pair that prices it, its USD price): <asset>USDT first, then USDC, BUSD... in
    `USD_QUOTES` order; among equals (BTCUSDT, BINANCE:BTCUSDT) the first one given."""
    best: dict[str, tuple[int, str, Decimal]] = {}
    for sym, price in prices.items():
        base, quote = quote_of(sym)
        if quote in USD_QUOTES and price:
            rank = USD_QUOTES.index(quote)
            if base not in best or rank < best[base][0]:
                best[base] = (rank, sym, Decimal(price))
    return {base: (sym, price) for base, (_, sym, price) in best.items()}


@dataclass
class Row:
    symbol: str
    trades: int
    units: Decimal
    value_usd: Optional[Decimal]  # None: no USD price for its quote asset
    via: str = ""  # "BTCUSDT 91,236.03" when converted from another quote asset


@dataclass
class Report:
    rows: list  # of Row, largest USD value first, unpriced last
    prices: str  # where conversion prices came from: "stream" (the sample) or "binance" (its REST API)
    records: int
    heartbeats: int
    unparsed: dict  # reason -> count, most frequent first
    prices_from: str = ""  # the Binance host asked, for --prices binance
    chart: Optional[Path] = None  # the units chart, once written

    @property
    def trades(self) -> int:
        return sum(r.trades for r in self.rows)

    @property
    def units(self) -> Decimal:
        return sum((r.units for r in self.rows), Decimal(0))

    @property
    def value_usd(self) -> Decimal:
        return sum((r.value_usd for r in self.rows if r.value_usd is not None), Decimal(0))

    @property
    def unpriced(self) -> list[str]:
        return [r.symbol for r in self.rows if r.value_usd is None]

    def to_dict(self) -> dict:
        """What `-o json` prints: numbers as JSON numbers (floats of the exact sums)."""
        return {
            "symbols": [{"symbol": r.symbol, "trades": r.trades, "units": float(r.units),
                         "value_usd": None if r.value_usd is None else float(r.value_usd)} for r in self.rows],
            "total": {"trades": self.trades, "units": float(self.units), "value_usd": float(self.value_usd)},
            "records": self.records,
            "heartbeats": self.heartbeats,
            "unparsed": {"count": sum(self.unparsed.values()), "reasons": dict(self.unparsed)},
            "prices": self.prices,
            "converted": {r.symbol: r.via for r in self.rows if r.via},
            "unpriced": self.unpriced,
        }


def report(tally: Tally, prices: dict[str, Decimal], source: str, prices_from: str = "") -> Report:
    """The tally in USD, with `prices` (symbol -> price) converting quotes that are not USD."""
    rates = usd_rates(prices)
    rows = []
    for sym, s in tally.symbols.items():
        _, quote = quote_of(sym)
        if quote in USD_QUOTES:
            rows.append(Row(sym, s.trades, s.units, s.quoted))
        elif quote in rates:
            via, rate = rates[quote]
            rows.append(Row(sym, s.trades, s.units, s.quoted * rate, f"{via} {rate:,.2f}"))
        else:
            rows.append(Row(sym, s.trades, s.units, None))
    rows.sort(key=lambda r: (r.value_usd is None, -(r.value_usd or 0), r.symbol))
    return Report(rows, source, tally.records, tally.heartbeats, dict(tally.unparsed.most_common()), prices_from)
