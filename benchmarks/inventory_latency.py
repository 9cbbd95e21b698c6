"""How long `status` and `teardown` take to find what streamlab made when every AWS call costs a round trip.

Both commands first collect the inventory: every resource kind lists what carries streamlab's tag
(`aws/inventory.collect`). On the emulator a call takes a millisecond; to AWS from a laptop it takes
tens. A proxy in front of the emulator adds `--delay-ms` to every request (a stand-in for that
round trip). The ticker pipeline (19 resources, ledger and tags) is provisioned once through it;
then, in the same run and alternating, the inventory is collected with the kinds listed and the
ledger's entries looked up one after another (what streamlab did before) and concurrently
(`inventory.in_parallel`, what it does now), each time with a new session and new clients, as a
command would. Prints the medians and their ratio.

Usage: .venv/bin/python benchmarks/inventory_latency.py [--delay-ms 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time

import _common as c


def slow_proxy(upstream: str, delay: float):
    """The tests' forwarding proxy (tests/fixtures/faulty_proxy.py, nothing failed on purpose) with
    every request forwarded `delay` seconds late."""
    from tests.fixtures.faulty_proxy import FaultyProxy

    class SlowProxy(FaultyProxy):
        def _forward(self, *args):
            time.sleep(delay)
            return super()._forward(*args)

    return SlowProxy(upstream).start()


def serial(fn, args: list) -> list:
    """The baseline: each kind listed (each ledger entry looked up) after the one before."""
    return [fn(a) for a in args]


def collect_once(settings, lister) -> tuple[float, int]:
    from streamlab.aws import inventory
    from streamlab.aws.plan import Target

    original = inventory.in_parallel
    inventory.in_parallel = lister
    try:
        with c.Timer() as t:
            items = inventory.collect(Target.open(settings))
    finally:
        inventory.in_parallel = original
    return t.seconds, len(items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
                      STREAMLAB_ENV_FILE="/dev/null", MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    from streamlab import cli
    from streamlab.aws import inventory
    from streamlab.aws.emulator import Emulator
    from streamlab.settings import load_settings

    with Emulator() as emu, tempfile.TemporaryDirectory() as home:
        os.environ["STREAMLAB_HOME"] = home
        proxy = slow_proxy(emu.url, args.delay_ms / 1000)
        url = proxy.url  # also the ledger's scope: provision through it
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            try:
                cli.main(["provision", "ticker-pipeline", "--endpoint-url", url, "--email", "ops@example.com", "--yes"])
            except SystemExit as exc:
                assert not exc.code, "provisioning the pipeline failed"
        settings = load_settings(endpoint_url=url)
        times: dict[str, list[float]] = {"serial": [], "concurrent": []}
        found = set()
        for _ in range(args.runs):
            for label, lister in (("serial", serial), ("concurrent", inventory.in_parallel)):
                seconds, n = collect_once(settings, lister)
                times[label].append(seconds)
                found.add(n)
        proxy.stop()
    assert len(found) == 1, f"the two ways found different inventories: {found}"
    s, p = c.median(times["serial"]), c.median(times["concurrent"])
    print(f"inventory_latency: {found.pop()} resources (ticker pipeline), {args.delay_ms:g} ms added to every AWS call, "
          f"median of {args.runs}, new session and clients each time")
    c.table(["kinds listed", "median s", "runs (s)"],
            [(k, c.median(v), ", ".join(f"{x:.2f}" for x in v)) for k, v in times.items()])
    print(f"\nconcurrent vs serial: {s / p:.2f}x faster")


if __name__ == "__main__":
    main()
