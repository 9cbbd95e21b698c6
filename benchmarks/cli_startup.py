"""How long `streamlab --help` takes, wall clock, through the installed console script.

Target: median <= 0.3 s. `--help` must import no boto3/pyspark/...; this is what a user feels.
Usage: .venv/bin/python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import _common as c

TARGET = 0.3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    script = Path(sys.executable).parent / "streamlab"
    if not script.exists():
        script = Path(shutil.which("streamlab") or "streamlab")
    cmds = {"streamlab --help": [str(script), "--help"], "streamlab produce --help": [str(script), "produce", "--help"],
            "python -c pass (floor)": [sys.executable, "-c", "pass"]}
    rows = []
    medians = {}
    for name, cmd in cmds.items():
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # warm the disk cache
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        medians[name] = c.median(times)
        rows.append((name, args.runs, medians[name], min(times), max(times)))
    print(f"cli_startup: {script}")
    c.table(["command", "runs", "median s", "min s", "max s"], rows)
    m = medians["streamlab --help"]
    targets = c.Targets("cli_startup")
    print()
    targets.check(f"streamlab --help median <= {TARGET} s", m <= TARGET, f"{m:.3f} s")
    return targets.exit()


if __name__ == "__main__":
    sys.exit(main())
