"""Generate the sample captures in examples/captures/ (finnhub.jsonl.gz, binance.jsonl.gz).

Invented frames in the providers' documented shapes, in the format `--record` writes (see
`streamlab/capture.py`), so every lab can be rehearsed with `streamlab produce replay FILE` and no
network, key or market hours. Fixed seed: reproducible. Each covers two minutes:

- Finnhub: trade batches (`{"type":"trade","data":[{s,p,t,v,c}...]}`) for BINANCE:BTCUSDT,
  BINANCE:ETHUSDT and AAPL (some with `c` missing, some with v = 0), `{"type":"ping"}` heartbeats
  every ~15 s, and one `{"type":"error","msg":"Invalid symbol ..."}` frame.
- Binance: combined-stream trades (`{"stream","data":{e,E,s,t,p,q,T,m,M}}`, price/qty strings with 8
  decimals) for btcusdt and ethusdt, and one error answer to a bad request. Binance's pings are
  websocket control frames, not text, so a capture has none (the live source answers them).

    .venv/bin/python scripts/make_captures.py
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "captures"
START = 1764000000.0  # receive time of the first frame (2025-11-24 16:00 UTC)
SECONDS = 120


def write(path: Path, source: str, endpoint: str, frames: list[tuple[float, str]]) -> None:
    header = {"streamlab_capture": 1, "source": source, "started": START, "endpoint": endpoint,
              "generated_by": "scripts/make_captures.py"}
    body = json.dumps(header) + "\n" + "".join(json.dumps({"t": round(t, 6), "frame": f}) + "\n" for t, f in frames)
    with open(path, "wb") as fh, gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(body.encode())
    print(f"{path.relative_to(ROOT)}: {len(frames)} frames, {path.stat().st_size / 1024:.0f} KiB")


def walk(rng: random.Random, price: float, vol: float) -> float:
    return max(0.01, price * (1 + rng.gauss(0, vol)))


def finnhub(rng: random.Random) -> list[tuple[float, str]]:
    prices = {"BINANCE:BTCUSDT": 91250.0, "BINANCE:ETHUSDT": 3020.0, "AAPL": 271.5}
    frames: list[tuple[float, str]] = []
    t, next_ping = START, START + 15
    error_at = START + 40
    while t < START + SECONDS:
        t += rng.expovariate(4.0)  # ~4 frames a second
        if t >= next_ping:
            frames.append((next_ping, json.dumps({"type": "ping"})))
            next_ping += rng.uniform(14, 16)
        if error_at and t >= error_at:
            frames.append((error_at, json.dumps({"type": "error", "msg": "Invalid symbol BINANCE:NOPEUSDT"})))
            error_at = 0
        batch = []
        for _ in range(rng.choice([1, 1, 2, 3, 5])):
            sym = rng.choices(list(prices), [6, 3, 1])[0]
            prices[sym] = walk(rng, prices[sym], 0.0002)
            trade = {"p": round(prices[sym], 2), "s": sym, "t": int(t * 1000) - rng.randint(5, 120),
                     "v": 0 if rng.random() < 0.05 else round(rng.expovariate(20), 6)}
            if sym == "AAPL":
                trade["v"] = rng.randint(1, 300)
                trade["c"] = rng.choice([["1", "12"], ["1", "24"], ["1"]])
            elif rng.random() < 0.7:
                trade["c"] = ["1"]
            batch.append(trade)
        frames.append((t, json.dumps({"data": batch, "type": "trade"}, separators=(",", ":"))))
    return frames


def binance(rng: random.Random) -> list[tuple[float, str]]:
    prices = {"btcusdt": 91250.0, "ethusdt": 3020.0}
    ids = {"btcusdt": 5412000000, "ethusdt": 3120000000}
    frames: list[tuple[float, str]] = []
    t = START
    error_done = False
    while t < START + SECONDS:
        t += rng.expovariate(6.0)
        if not error_done and t > START + 30:
            frames.append((t, json.dumps({"error": {"code": 2, "msg": "Invalid request: unknown stream name"}, "id": 7})))
            error_done = True
            continue
        sym = rng.choices(list(prices), [2, 1])[0]
        prices[sym] = walk(rng, prices[sym], 0.0001)
        ids[sym] += 1
        trade_ms = int(t * 1000) - rng.randint(3, 60)
        data = {"e": "trade", "E": trade_ms + rng.randint(0, 3), "s": sym.upper(), "t": ids[sym],
                "p": f"{prices[sym]:.8f}", "q": f"{rng.expovariate(50):.8f}", "T": trade_ms,
                "m": rng.random() < 0.5, "M": True}
        frames.append((t, json.dumps({"stream": f"{sym}@trade", "data": data}, separators=(",", ":"))))
    return frames


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write(OUT / "finnhub.jsonl.gz", "finnhub", "wss://ws.finnhub.io?token=***", finnhub(random.Random(7)))
    write(OUT / "binance.jsonl.gz", "binance", "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@trade",
          binance(random.Random(8)))


if __name__ == "__main__":
    main()
