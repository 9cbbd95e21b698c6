"""The latest-price cache in Redis: what `alert --cache`, `consume --sink redis` write and `prices` reads.

Per symbol two keys:

- `price:SYMBOL`: the price as text, the key the Binance lab's scripts read (`GET price:BTCUSDT`);
- `trade:SYMBOL`: a hash with symbol, price, event_time (ms), volume and source.

Guarantee: writes are idempotent and never move a symbol backwards in event time. Each write is
one Lua script (atomic on the server) that compares the incoming event time with the hash's and
writes both keys only when it is not older, so a replayed batch, a record read twice, or two
writers racing leave the newest price in place. Equal event times overwrite (a replay writes the
same values). A batch is sent as one pipeline of script calls: one round trip.
Limit: the two keys of a symbol are not hash-tagged, so this targets a single Redis (or Valkey)
server, not Redis Cluster.

The client is redis-py (the `redis` extra), imported when a cache is opened, never at CLI start.
A password comes from REDIS_PASSWORD (settings), never from a URL on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

from streamlab.errors import ConfigError, ConnectionFailed, MissingDependency

PRICE_KEY = "price:{}"
TRADE_KEY = "trade:{}"
FIELDS = ("symbol", "price", "event_time", "volume", "source")

# KEYS: price:SYM, trade:SYM; ARGV: price, event_time, volume, source, symbol. 1 = written, 0 = older.
COMPARE_AND_SET = """
local current = redis.call('HGET', KEYS[2], 'event_time')
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'price', ARGV[1], 'event_time', ARGV[2], 'volume', ARGV[3], 'source', ARGV[4], 'symbol', ARGV[5])
return 1
"""


@dataclass(frozen=True)
class CachedPrice:
    symbol: str
    price: float
    event_time: int
    volume: Optional[float] = None
    source: str = ""


def price_text(value: Any) -> str:
    """A price as the cache stores it: '3790', '3790.25' (no float noise, no trailing '.0')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def latest_per_symbol(trades: Iterable[Any]) -> dict[str, CachedPrice]:
    """The newest trade (by event time) per symbol, as CachedPrice; the last one wins a tie."""
    out: dict[str, CachedPrice] = {}
    for t in trades:
        symbol, event_time = str(t.symbol), int(t.event_time)
        if symbol not in out or event_time >= out[symbol].event_time:
            out[symbol] = CachedPrice(symbol, float(t.price), event_time,
                                      None if t.volume is None else float(t.volume), str(t.source or ""))
    return out


def check_url(url: str) -> str:
    """redis://HOST[:PORT][/DB] or rediss://...; no password in it (that is REDIS_PASSWORD's job)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(f"--cache {url!r} is not a Redis URL", "use redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0")
    if parts.password:
        raise ConfigError("the --cache URL holds a password, which would show in the process list and shell history",
                          "drop it from the URL and set REDIS_PASSWORD in the environment or .env")
    try:
        parts.port
        db = parts.path.strip("/")
        if db and int(db) < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"--cache {url!r}: the port and the database must be numbers", "use redis://HOST:PORT/DB") from None
    return url


def resolve_url(settings, url: Optional[str] = None) -> str:
    """--cache over STREAMLAB_CACHE_URL over the server `streamlab local up --redis` started."""
    url = url or getattr(settings, "cache_url", None)
    if not url:
        from streamlab.local.redis_server import running_server

        local = running_server(settings.state_dir)
        url = local.url if local is not None else None
    if not url:
        raise ConfigError("no price cache given", "pass --cache redis://HOST:PORT/DB, set STREAMLAB_CACHE_URL, "
                                                  "or start one with `streamlab local up --redis --detach`")
    return check_url(url)


class PriceCache:
    """One connection to the cache. `open` checks the server answers (ConnectionFailed, exit 5)."""

    def __init__(self, url: str, password: Optional[str] = None, timeout: float = 3.0):
        try:
            import redis
        except ImportError:
            raise MissingDependency.extra("redis (the Redis client, redis-py)", "redis") from None
        self.url = check_url(url)
        self._errors = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, password=password, socket_connect_timeout=timeout,
                                           socket_timeout=timeout, decode_responses=True)
        self._script = self.client.register_script(COMPARE_AND_SET)

    @classmethod
    def open(cls, settings, url: Optional[str] = None) -> "PriceCache":
        secret = getattr(settings, "redis_password", None)
        cache = cls(resolve_url(settings, url), password=secret.get_secret_value() if secret else None)
        cache.ping()
        return cache

    def _failed(self, exc: Exception, doing: str) -> ConnectionFailed:
        return ConnectionFailed(f"the price cache at {self.url} failed while {doing} ({type(exc).__name__}: {exc})",
                                "is the Redis server running? (`streamlab local up --redis --detach`), "
                                "and is REDIS_PASSWORD right if it needs one?")

    def ping(self) -> None:
        try:
            self.client.ping()
        except self._errors as exc:
            raise self._failed(exc, "connecting") from None

    def put(self, prices: Iterable[CachedPrice]) -> int:
        """Write each price unless the cache holds a newer one; returns how many were written."""
        prices = list(prices)
        if not prices:
            return 0
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for p in prices:
                    self._script(keys=[PRICE_KEY.format(p.symbol), TRADE_KEY.format(p.symbol)],
                                 args=[price_text(p.price), int(p.event_time), "" if p.volume is None else repr(float(p.volume)),
                                       p.source, p.symbol], client=pipe)
                return sum(int(r) for r in pipe.execute())
        except self._errors as exc:
            raise self._failed(exc, "writing prices") from None

    def symbols(self) -> list[str]:
        """Every symbol with a `price:` or `trade:` key, sorted."""
        try:
            found = {k.split(":", 1)[1] for pattern in ("price:*", "trade:*") for k in self.client.scan_iter(match=pattern, count=500)}
        except self._errors as exc:
            raise self._failed(exc, "listing symbols") from None
        return sorted(found)

    def get(self, symbols: Iterable[str] = ()) -> list[dict]:
        """One row per symbol that has a price: symbol, price (text), event_time (int or None),
        volume, source. With no symbols, every cached one. A symbol with nothing cached is left out."""
        wanted = list(symbols) or self.symbols()
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for s in wanted:
                    pipe.get(PRICE_KEY.format(s))
                    pipe.hgetall(TRADE_KEY.format(s))
                replies = pipe.execute()
        except self._errors as exc:
            raise self._failed(exc, "reading prices") from None
        rows = []
        for symbol, price, fields in zip(wanted, replies[::2], replies[1::2]):
            if price is None and not fields:
                continue
            event_time = fields.get("event_time")
            rows.append({"symbol": symbol, "price": price if price is not None else fields.get("price"),
                         "event_time": int(event_time) if event_time not in (None, "") else None,
                         "volume": fields.get("volume") or None, "source": fields.get("source") or None})
        return rows

    def close(self) -> None:
        self.client.close()


@dataclass
class PriceReport:
    url: str
    rows: list[dict]
    missing: list[str]  # asked for, nothing cached


def read_prices(settings, url: Optional[str] = None, symbols: Iterable[str] = ()) -> PriceReport:
    """The `streamlab prices` step: every cached price (or those of `symbols`), sorted by symbol."""
    wanted = [s.strip() for s in symbols if s.strip()]
    cache = PriceCache.open(settings, url)
    try:
        rows = cache.get(wanted)
    finally:
        cache.close()
    found = {r["symbol"] for r in rows}
    return PriceReport(cache.url, sorted(rows, key=lambda r: r["symbol"]), [s for s in wanted if s not in found])
