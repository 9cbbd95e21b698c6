"""websocket_ingest: how fast does `streamlab produce binance` take trades off a websocket?

A local server (a separate process, so it does not share our GIL) answers the websocket handshake
with the `websockets` library, then pushes N Binance-shaped combined-stream trade frames as fast as
the socket takes them (pre-encoded, one sendall). In the same run we measure, connecting to it:

  raw        a bare websocket-client loop: create_connection + recv() N times (library defaults;
             shown for information)
  raw-fast   the same with skip_utf8_validation=True: the baseline. streamlab skips that check
             too (the JSON parse rejects bad bytes anyway), so this is the fair comparison
  streamlab  `produce binance --url ... --sink null` and `--sink file`: parse to canonical Trade
             records (Decimal prices), hand over the pipeline queue, batch, write

Each figure is the best of --repeat runs; ratios are against raw-fast. Targets (issue 3, the ratio
restated against raw-fast by issue 20): streamlab --sink null >= 0.8x raw-fast, >= 10,000 trades/s.
Exits 1 when a target is missed.

    .venv/bin/python benchmarks/websocket_ingest.py [--frames 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c

BASELINE = "raw websocket-client (skip_utf8_validation)"


def trade_frame(i: int) -> bytes:
    sym = ("btcusdt", "ethusdt", "solusdt")[i % 3]
    return json.dumps(
        {
            "stream": f"{sym}@trade",
            "data": {
                "e": "trade", "E": 1764000000000 + i, "s": sym.upper(), "t": 5000000 + i,
                "p": f"{67000 + (i % 997) / 100:.8f}", "q": f"{0.001 * (1 + i % 50):.8f}",
                "T": 1763999999999 + i, "m": bool(i % 2), "M": True,
            },
        },
        separators=(",", ":"),
    ).encode()


def encode_text_frame(payload: bytes) -> bytes:
    """RFC 6455 server->client text frame (FIN, unmasked)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x81, n])
    elif n < 65536:
        head = bytes([0x81, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 127]) + n.to_bytes(8, "big")
    return head + payload


def serve(frames: int) -> None:
    """The server process: print the port, then push `frames` frames to every connection."""
    import threading

    from websockets.sync.server import serve as ws_serve

    blob = b"".join(encode_text_frame(trade_frame(i)) for i in range(frames))

    def handler(conn):
        conn.socket.sendall(blob)
        try:
            for _ in conn:  # stay open until the client leaves
                pass
        except Exception:
            pass

    server = ws_serve(handler, "127.0.0.1", 0, ping_interval=None, compression=None, max_queue=None)
    print(server.socket.getsockname()[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the parent closes our stdin
    server.shutdown()


def raw_rate(url: str, frames: int, fast: bool) -> float:
    import websocket

    t0 = time.perf_counter()
    ws = websocket.create_connection(url, skip_utf8_validation=fast)
    recv = ws.recv
    for _ in range(frames):
        recv()
    elapsed = time.perf_counter() - t0
    ws.close()
    return frames / elapsed


def streamlab_rate(url: str, frames: int, sink: str, tmp: str) -> float:
    from streamlab.pipeline import Limits
    from streamlab.produce import ProduceRequest, produce
    from streamlab.settings import load_settings

    settings = load_settings(home=tmp)
    sink_opts = {"path": os.path.join(tmp, "out.jsonl")} if sink == "file" else {}
    t0 = time.perf_counter()
    result = produce(ProduceRequest(settings=settings, source="binance", sink=sink, source_options={"url": url},
                                    sink_options=sink_opts, limits=Limits(count=frames), quiet=True))
    elapsed = time.perf_counter() - t0
    if result.stats.sent != frames:
        raise SystemExit(f"streamlab delivered {result.stats.sent} of {frames} records")
    return frames / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.frames)
        return 0

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--frames", str(args.frames)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        port = int(server.stdout.readline())
        base = f"ws://127.0.0.1:{port}"
        url = f"{base}/stream?streams=btcusdt@trade/ethusdt@trade/solusdt@trade"
        n = args.frames
        best: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.repeat):
                for name, fn in (
                    ("raw websocket-client (defaults)", lambda: raw_rate(url, n, False)),
                    (BASELINE, lambda: raw_rate(url, n, True)),
                    ("streamlab produce binance --sink null", lambda: streamlab_rate(base, n, "null", tmp)),
                    ("streamlab produce binance --sink file", lambda: streamlab_rate(base, n, "file", tmp)),
                ):
                    best[name] = max(best.get(name, 0.0), fn())
                Path(tmp, "out.jsonl").unlink(missing_ok=True)
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    raw = best[BASELINE]
    print(f"websocket_ingest: {n:,} Binance trade frames from a local server, best of {args.repeat}")
    for name, rate in best.items():
        print(f"  {name:<46} {rate:>10,.0f} frames/s   {rate / raw:5.2f}x raw-fast")
    sl = best["streamlab produce binance --sink null"]
    targets = c.Targets("websocket_ingest")
    targets.check(">= 10,000 trades/s (--sink null)", sl >= 10_000, f"{sl:,.0f}/s")
    targets.check(f">= 0.8x {BASELINE}", sl / raw >= 0.8, f"{sl / raw:.2f}x")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
