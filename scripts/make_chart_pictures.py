"""Generate the README's chart pictures in docs/charts/ through the real pipeline, offline.

Three inputs, each consumed by Spark (`--source files`, Parquet out) and drawn by `streamlab chart`:

- the demo's data: the synthetic ticker (Index_1..Index_5, the same random walk, seed 7) at 50
  records/s for 90 s of event time, 10 s windows as in `streamlab demo` -> candles.png, price.png
- the Binance capture (examples/captures/binance.jsonl.gz, replayed) -> units.png, value.png
- the shipped tweets corpus, 4 posts/s over 5 minutes of event time, 1 minute windows ->
  hashtags.png, hashtags-trend.png

    .venv/bin/python scripts/make_chart_pictures.py     # ~2-4 minutes (three Spark runs)
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "charts"
T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC
SIZE = "900x520"


def streamlab(*args: str) -> str:
    p = subprocess.run([sys.executable, "-m", "streamlab", *args], capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        raise SystemExit(f"streamlab {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def synthetic_lines() -> list[str]:
    from streamlab.random_walk import DEFAULT_SYMBOLS, step
    from streamlab.records import Trade

    rng = random.Random(7)
    prices = dict(DEFAULT_SYMBOLS)
    names = list(prices)
    lines = []
    for i in range(90 * 50):  # 50 records/s, round-robin over the symbols, like the synthetic source
        s = names[i % len(names)]
        prices[s] = step(prices[s], rng)
        t = T0 + i * 20
        lines.append(Trade("synthetic", s, prices[s], None, t, t).to_bytes().decode())
    return lines


def tweet_lines() -> list[str]:
    posts = [json.loads(x) for x in streamlab("produce", "tweets", "--format", "json", "--count", "1200", "--seed", "7", "--quiet").splitlines()]
    for i, p in enumerate(posts):  # 4 posts a second of event time
        p["created_at"] = datetime.fromtimestamp((T0 + i * 250) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [json.dumps(p) for p in posts]


def consume(spark, lines: list[str], work: Path, name: str, dataset: str, window: str, watermark: str) -> Path:
    from streamlab.settings import load_settings
    from streamlab.spark.job import run_consume

    inbox, out = work / f"{name}-in", work / f"{name}-out"
    inbox.mkdir()
    (inbox / "input.jsonl").write_text("\n".join(lines) + "\n")
    stats = run_consume(load_settings(), source="files", input_path=str(inbox), file_format="json", dataset=dataset, sink="parquet",
                        path=str(out), window=window, watermark=watermark, trigger="available-now", quiet=True, spark=spark)
    print(f"{name}: {stats.trades:,} rows, {stats.windows_written:,} windows")
    return out


def main() -> None:
    from streamlab.spark.session import get_session

    OUT.mkdir(parents=True, exist_ok=True)
    spark = get_session("make_chart_pictures")
    try:
        with tempfile.TemporaryDirectory(prefix="streamlab-pictures-") as tmp:
            work = Path(tmp)
            demo = consume(spark, synthetic_lines(), work, "demo", "ticker", "10 seconds", "5 seconds")
            streamlab("produce", "replay", "examples/captures/binance.jsonl.gz", "--speed", "max", "--sink", "file",
                      "--path", str(work / "binance.jsonl"), "--quiet")
            binance = consume(spark, (work / "binance.jsonl").read_text().splitlines(), work, "binance", "ticker", "10 seconds", "5 seconds")
            tweets = consume(spark, tweet_lines(), work, "tweets", "tweets", "1 minute", "10 seconds")
            for kind, src, extra, name in [
                ("candles", demo, ["--symbol", "Index_1", "--symbol", "Index_2"], "candles"),
                ("price", demo, [], "price"),
                ("units", binance, [], "units"),
                ("value", binance, [], "value"),
                ("hashtags", tweets, ["--top", "8"], "hashtags"),
                ("hashtags", tweets, ["--top", "6", "--trend"], "hashtags-trend"),
            ]:
                streamlab("chart", kind, "--path", str(src), "--out", str(OUT / f"{name}.png"), "--size", SIZE, *extra)
                print(f"docs/charts/{name}.png: {(OUT / f'{name}.png').stat().st_size / 1024:.0f} KiB")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
