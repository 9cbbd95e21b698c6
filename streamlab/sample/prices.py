"""USD prices from Binance's public REST API: `GET /api/v3/ticker/price` (no key, one call).

The answer is a list of `{"symbol": "BTCUSDT", "price": "91236.03000000"}` for every listed pair;
prices are kept exact (Decimal). `--host` works like the feed's: api.binance.com by default,
api.binance.us for Binance.US, or a full URL (http://127.0.0.1:PORT for a local stand-in).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation

from streamlab.errors import ConnectionFailed

DEFAULT_HOST = "api.binance.com"
TICKER_PATH = "/api/v3/ticker/price"
TIMEOUT_S = 10.0


def ticker_url(host: str | None) -> str:
    base = (host or DEFAULT_HOST).rstrip("/")
    if "://" not in base:
        base = "https://" + base
    return base + TICKER_PATH


def binance_prices(host: str | None = None, timeout: float = TIMEOUT_S) -> dict[str, Decimal]:
    """symbol -> latest price of every pair Binance lists; ConnectionFailed with the fix otherwise."""
    url = ticker_url(host)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 451:
            raise ConnectionFailed(
                f"Binance refuses {url} from this location (HTTP 451, restricted region, including US cloud regions)",
                "use --prices stream, or Binance.US with --host api.binance.us",
            ) from None
        raise ConnectionFailed(f"Binance answered HTTP {exc.code} for {url}", "use --prices stream, or check --host") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectionFailed(f"cannot reach Binance at {url}: {reason}", "check your network or --host, or use --prices stream (offline)") from None
    try:
        rows = json.loads(body)
        return {r["symbol"]: Decimal(r["price"]) for r in rows}
    except (ValueError, TypeError, KeyError, InvalidOperation):
        raise ConnectionFailed(f"{url} did not answer with Binance's ticker prices", "check --host (it must be a Binance REST API host)") from None
