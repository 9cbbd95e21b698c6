"""`streamlab alert` with 100 rules against the bare read loop, over the same Kinesis stream on the emulator.

One 1-shard stream on the moto server (a child process) holds `--records` trades of 10 symbols
(a random walk, one trade per symbol every second of event time, streamlab's wire form). Two ways
of reading it to its end from the oldest record, alternated `--runs` times, median reported:

  baseline  the bare read loop: the follower alert uses (`KinesisFollower`, every GetRecords page),
            counting payloads and nothing else;
  alert     `run_alert(AlertRequest(once=True))`, the library entry point of `streamlab alert --once`:
            the same follower, plus parsing every record (`trade_shapes`), the latest price and
            history per symbol, 100 rules (per symbol: thresholds 3% and 10% either side, moves over
            5m/1h, relative moves over 5m/1h/1d; the alerts go to the console notifier, its output
            discarded) and the alerts' fire/clear/cooldown bookkeeping.

Both pay the emulator's cost per record (moto builds each response), so the ratio says how much the
evaluation slows a follower that the stream would otherwise feed at the baseline rate.
Target (issue 15): alert >= 0.7x the baseline. The baseline is measured in the same run.

    .venv/bin/python benchmarks/alert_follow.py [--records 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random

import _common as c

SYMBOLS = [f"SYM{i}USDT" for i in range(10)]
T0 = 1_764_000_000_000


def trades(n: int) -> list[bytes]:
    from streamlab.records import Trade

    rng = random.Random(7)
    prices = {s: 100.0 + 10 * i for i, s in enumerate(SYMBOLS)}
    out = []
    for i in range(n):
        s = SYMBOLS[i % len(SYMBOLS)]
        prices[s] = max(0.01, round(prices[s] * (1 + rng.uniform(-0.003, 0.003)), 4))
        t = T0 + (i // len(SYMBOLS)) * 1000
        out.append(Trade("binance", s, prices[s], round(rng.uniform(0.01, 2), 3), t, t + 5).to_bytes())
    return out


def rules() -> list[str]:
    out = []
    for i, s in enumerate(SYMBOLS):
        p = 100.0 + 10 * i
        out += [f"{s} < {p * 0.97:.2f}", f"{s} > {p * 1.03:.2f}", f"{s} < {p * 0.9:.2f}", f"{s} > {p * 1.1:.2f}",
                f"{s} change > {p * 0.01:.2f} in 5m", f"{s} change > {p * 0.03:.2f} in 1h",
                f"{s} change% > 1 in 5m", f"{s} change% > 2 in 1h", f"{s} change% > 5 in 1d", f"{s} change% > 0.5 in 5m"]
    assert len(out) == 100
    return out


def fill(client, data: list[bytes]) -> str:
    name = c.fresh_stream(client, "bench-alert")
    for i in range(0, len(data), 500):
        chunk = data[i: i + 500]
        resp = client.put_records(StreamName=name, Records=[{"Data": d, "PartitionKey": str(i + j)} for j, d in enumerate(chunk)])
        assert resp["FailedRecordCount"] == 0
    return name


def bare_loop(aws, stream: str) -> tuple[int, float]:
    from streamlab.alerts.follow import KinesisFollower

    with c.Timer() as t:
        follower = KinesisFollower(aws, stream, "trim-horizon", idle_s=0.0).open()
        n = 0
        while True:
            payloads = follower.poll()
            n += len(payloads)
            if not payloads and follower.caught_up:
                break
        follower.close()
    return n, t.seconds


def follow(settings, aws, stream: str, rule_list: list[str]) -> tuple[int, float, int]:
    from streamlab.alerts.run import AlertRequest, run_alert

    request = AlertRequest(settings=settings, stream=stream, once=True, rules=tuple(rule_list), notify=("console",),
                           quiet=True, idle_s=0.0)
    with contextlib.redirect_stdout(io.StringIO()), c.Timer() as t:
        result = run_alert(request, aws)
    return result.records, t.seconds, len(result.alerts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    import tempfile

    from streamlab.aws.session import AWS
    from streamlab.local.emulator import Emulator

    targets = c.Targets("alert_follow")
    with Emulator() as emu, tempfile.TemporaryDirectory() as home:
        import os

        os.environ["STREAMLAB_HOME"] = home  # the dead-letter default lives under it; nothing is written
        settings, client = c.use_emulator(emu.url)
        aws = AWS(settings, note=False)
        data = trades(args.records)
        stream = fill(client, data)
        rule_list = rules()
        bare_loop(aws, stream)  # untimed warm-up: boto3's models, the emulator's first pages
        base, alert, fired = [], [], 0
        for _ in range(args.runs):
            n, s = bare_loop(aws, stream)
            assert n == args.records, n
            base.append(n / s)
            n, s, fired = follow(settings, aws, stream, rule_list)
            assert n == args.records, n
            alert.append(n / s)
    b, a = c.median(base), c.median(alert)
    print(f"{args.records:,} trades of {len(SYMBOLS)} symbols on a 1-shard stream (moto server), {args.runs} runs each, median")
    c.table(["method", "records/s", "runs", "vs baseline"],
            [["baseline: bare read loop (KinesisFollower)", b, ", ".join(f"{x:,.0f}" for x in base), "1.00x"],
             [f"alert --once, 100 rules ({fired} alerts)", a, ", ".join(f"{x:,.0f}" for x in alert), f"{a / b:.2f}x"]])
    targets.check(">= 0.7x the bare read loop", a / b >= 0.7, f"{a / b:.2f}x: {a:,.0f} vs {b:,.0f} records/s")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
