"""The same 5,000 synthetic records into Kinesis three ways, on one local emulator.

1. one `put_record` per record (what lab notebooks do),
2. raw boto3 `put_records` in batches of 500 (the best a hand-written loop does),
3. `streamlab produce synthetic --sink kinesis` (the produce command's code path, in-process).

Every method is timed whole: a new boto3 session and client, then sending (streamlab also checks
the stream exists), i.e. a script minus interpreter start-up. Send-only times are shown too.

Each method writes to a fresh 1-shard stream (the emulator slows down as a stream grows) and the
stream is read back to confirm every record arrived. The batched methods run `--runs` times,
alternating; the median is reported. Targets are judged on whole times. Targets: streamlab >= 40x the per-record loop and >= 0.9x
raw batched boto3.
Usage: .venv/bin/python benchmarks/producer_kinesis.py [--count 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import _common as c


def synthetic_records(count: int) -> list[tuple[bytes, str]]:
    from streamlab.settings import load_settings
    from streamlab.sources.synthetic import SyntheticSource

    it = SyntheticSource(load_settings(), seed=1).records()
    return [(r.to_bytes(), r.key()) for r, _ in zip(it, range(count))]


def per_record(url: str, stream: str, records, send_seconds: list) -> None:
    client = c.kinesis_client(url)
    with c.Timer() as t:
        for data, key in records:
            client.put_record(StreamName=stream, Data=data, PartitionKey=key)
    send_seconds.append(t.seconds)


def raw_batched(url: str, stream: str, records, send_seconds: list) -> None:
    client = c.kinesis_client(url)
    with c.Timer() as t:
        for i in range(0, len(records), 500):
            chunk = [{"Data": d, "PartitionKey": k} for d, k in records[i:i + 500]]
            resp = client.put_records(StreamName=stream, Records=chunk)
            assert resp["FailedRecordCount"] == 0  # the emulator never throttles
    send_seconds.append(t.seconds)


def streamlab_produce(url: str, stream: str, count: int, send_seconds: list) -> None:
    from streamlab.pipeline import Limits
    from streamlab.produce import ProduceRequest, produce
    from streamlab.settings import load_settings

    settings = load_settings(endpoint_url=url)
    result = produce(ProduceRequest(settings=settings, source="synthetic", sink="kinesis", source_options={"seed": 1},
                                    sink_options={"stream": stream}, limits=Limits(count=count), quiet=True))
    assert result.stats.sent == count and result.stats.failed == 0, result.stats
    send_seconds.append(result.elapsed)


def timed(admin, count: int, fn) -> float:
    """Seconds `fn(stream)` takes on a fresh stream; then checks every record arrived."""
    stream = c.fresh_stream(admin)
    with c.Timer() as t:
        fn(stream)
    arrived = c.count_records(admin, stream)
    assert arrived == count, f"{arrived} of {count} records arrived"
    admin.delete_stream(StreamName=stream)
    return t.seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("STREAMLAB_HOME", tempfile.mkdtemp(prefix="streamlab-bench-"))
    from streamlab.local.emulator import Emulator

    records = synthetic_records(args.count)
    n = args.count
    send = {"loop": [], "raw": [], "ours": []}
    with Emulator() as emu:  # a child process: the emulator does not share this process's GIL
        url = emu.url
        admin = c.kinesis_client(url)
        # warm-up: imports and first-use code paths of both batched methods
        timed(admin, 500, lambda s: raw_batched(url, s, records[:500], []))
        timed(admin, 500, lambda s: streamlab_produce(url, s, 500, []))
        loop = timed(admin, n, lambda s: per_record(url, s, records, send["loop"]))
        raw, ours = [], []
        for _ in range(args.runs):
            raw.append(timed(admin, n, lambda s: raw_batched(url, s, records, send["raw"])))
            ours.append(timed(admin, n, lambda s: streamlab_produce(url, s, n, send["ours"])))
    raw_s, ours_s = c.median(raw), c.median(ours)
    send_s = {k: c.median(v) for k, v in send.items()}
    print(f"producer_kinesis: {n:,} synthetic records (~{sum(len(d) for d, _ in records) // n} bytes each), "
          f"a fresh 1-shard stream per method and run, moto at {url}")
    print("'whole' = new boto3 session + client + sending (+ stream check for streamlab); 'send' = sending only\n")
    c.table(
        ["method", "whole s", "records/s", "vs per-record", "send s", "send rec/s"],
        [
            ("put_record per record", loop, n / loop, "1.0x", send_s["loop"], n / send_s["loop"]),
            (f"boto3 put_records x500 (median of {args.runs})", raw_s, n / raw_s, f"{loop / raw_s:.1f}x", send_s["raw"], n / send_s["raw"]),
            (f"streamlab produce --sink kinesis (median of {args.runs})", ours_s, n / ours_s, f"{loop / ours_s:.1f}x", send_s["ours"], n / send_s["ours"]),
        ],
    )
    vs_loop, vs_raw = loop / ours_s, raw_s / ours_s
    print(f"\nsend only: streamlab vs raw batched {send_s['raw'] / send_s['ours']:.2f}x")
    print("runs, whole (s): raw " + ", ".join(f"{x:.3f}" for x in raw) + "; streamlab " + ", ".join(f"{x:.3f}" for x in ours))
    targets = c.Targets("producer_kinesis")
    targets.check("streamlab >= 40x the per-record loop", vs_loop >= 40, f"{vs_loop:.1f}x")
    targets.check("streamlab >= 0.9x raw batched boto3", vs_raw >= 0.9, f"{vs_raw:.2f}x")
    return targets.exit()


if __name__ == "__main__":
    sys.exit(main())
