"""time_to_result: how long a newcomer waits for the first result of `streamlab consume`.

The shipped Binance capture (examples/captures/binance.jsonl.gz, 727 trades) is replayed into a
fresh 1-shard stream on the local emulator (a child process). Then, alternated `--runs` times, each
a new process timed from its start to its exit (what a user waits for at the prompt):

  bare       the job a user writes by hand, as a plain PySpark *batch* script: session, read the
             same trades from a local JSON-lines file, parse (Binance's combined-stream JSON: symbol,
             price, quantity, event time), one-minute windows per symbol (open/high/low/close, count,
             volume), write trades and windows as Parquet. No stream, no checkpoint, no quarantine.
  streamlab  `streamlab consume --local --stream S --dataset trades --sink parquet --path OUT
             --trigger available-now`: the stream read with streamlab's Python Kinesis source,
             provider-shape detection, quarantine, trades and closed windows to Parquet with
             exactly-once checkpoints (records query, relay, windows query with a watermark), the
             windows still open written to windows_open/.

Both outputs are checked (727 trades; the same window count per symbol), so neither side is
timed doing less. The median of each is reported; the ratio is streamlab / bare.
Target (issue 19): streamlab <= 1.0x the bare script.

    .venv/bin/python benchmarks/time_to_result.py [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as c

CAPTURE = c.ROOT / "examples" / "captures" / "binance.jsonl.gz"

BARE = r'''
import sys
from pyspark.sql import SparkSession, functions as F

src, out = sys.argv[1], sys.argv[2]
spark = (SparkSession.builder.master("local[*]").appName("bare")
         .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").config("spark.sql.caseSensitive", "true").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
schema = "stream string, data struct<e:string, E:long, s:string, t:long, p:string, q:string, T:long>"
raw = spark.read.schema(schema).json(src)
trades = raw.select(
    F.col("data.s").alias("symbol"), F.col("data.p").cast("double").alias("price"),
    F.col("data.q").cast("double").alias("volume"), F.timestamp_millis(F.col("data.E")).alias("event_ts"),
    F.col("data.E").alias("event_time"), F.col("data.t").cast("string").alias("trade_id"),
).where(F.col("symbol").isNotNull())
trades.write.mode("overwrite").parquet(f"{out}/trades")
order = F.struct("event_ts")
windows = trades.groupBy("symbol", F.window("event_ts", "1 minute").alias("w")).agg(
    F.min_by("price", order).alias("open"), F.max("price").alias("high"), F.min("price").alias("low"),
    F.max_by("price", order).alias("close"), F.count(F.lit(1)).alias("count"), F.sum("volume").alias("volume"),
).select("symbol", F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"),
         "open", "high", "low", "close", "count", "volume")
windows.write.mode("overwrite").parquet(f"{out}/windows")
spark.stop()
'''


def frames() -> list[str]:
    with gzip.open(CAPTURE, "rt") as fh:
        lines = [json.loads(line) for line in fh]
    return [d["frame"] for d in lines if "frame" in d and '"data"' in d["frame"]]


def replay_into(url: str, stream: str, workdir: str) -> None:
    env = dict(os.environ, STREAMLAB_ENDPOINT_URL=url)
    subprocess.run([sys.executable, "-m", "streamlab", "produce", "replay", str(CAPTURE), "--speed", "max",
                    "--sink", "kinesis", "--stream", stream, "--quiet"], check=True, cwd=workdir, env=env,
                   stdout=subprocess.DEVNULL)


def timed(cmd: list[str], cwd: str, env: dict) -> float:
    with c.Timer() as t:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
    return t.seconds


def counts(out: Path) -> tuple[int, int]:
    """(trades, windows) under `out` (closed + open windows for streamlab)."""
    import pyarrow.parquet as pq

    def rows(folder: Path) -> int:
        files = [p for p in folder.rglob("*.parquet") if not any(part.startswith(("_", ".")) for part in p.relative_to(out).parts)]
        return sum(pq.read_metadata(p).num_rows for p in files)

    windows = rows(out / "windows") + (rows(out / "windows_open") if (out / "windows_open").exists() else 0)
    return rows(out / "trades"), windows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from streamlab.local.emulator import Emulator

    data = frames()
    with tempfile.TemporaryDirectory(prefix="bench-ttr-") as tmp, Emulator() as emu:
        _, client = c.use_emulator(emu.url)
        src = Path(tmp) / "trades.jsonl"
        src.write_text("\n".join(data) + "\n")
        script = Path(tmp) / "bare.py"
        script.write_text(BARE)
        env = dict(os.environ, STREAMLAB_ENDPOINT_URL=emu.url, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
        print(f"{len(data)} trades; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
        bare_s, ours_s, rows = [], [], []
        for run in range(args.runs):
            out = Path(tmp) / f"bare-{run}"
            bare_s.append(timed([sys.executable, str(script), str(src), str(out)], tmp, env))
            bare_counts = counts(out)
            stream = c.fresh_stream(client, "bench-ttr")
            replay_into(emu.url, stream, tmp)
            out = Path(tmp) / f"streamlab-{run}"
            ours_s.append(timed([sys.executable, "-m", "streamlab", "consume", "--stream", stream, "--dataset", "trades",
                                 "--sink", "parquet", "--path", str(out), "--trigger", "available-now", "--quiet"], tmp, env))
            ours_counts = counts(out)
            if ours_counts != bare_counts or bare_counts[0] != len(data):
                raise SystemExit(f"outputs differ: bare {bare_counts}, streamlab {ours_counts} (trades, windows)")
            rows += [("bare PySpark script", run + 1, bare_s[-1], *bare_counts),
                     ("streamlab consume", run + 1, ours_s[-1], *ours_counts)]
        print()
        c.table(["what", "run", "wall s", "trades", "windows"], rows)
    bare, ours = c.median(bare_s), c.median(ours_s)
    print(f"\nmedians: bare script {bare:.1f}s, streamlab consume {ours:.1f}s ({ours / bare:.2f}x); "
          f"load average {os.getloadavg()[0]:.1f}")
    targets = c.Targets("time_to_result")
    targets.check("streamlab <= 1.0x the bare PySpark script", ours / bare <= 1.0, f"{ours / bare:.2f}x")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
