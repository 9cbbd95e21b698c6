"""Provision and tear down the whole serverless ticker pipeline on a local emulator; count what is left.

For each run: `streamlab provision ticker-pipeline --yes` (19 resources with one --email), then
`streamlab teardown --yes`, both in-process through the CLI entry point, each timed whole (new boto3
session and clients included). "Left after teardown" is counted by enumerating every service
(Kinesis, S3 buckets and objects, DynamoDB, SNS topics and subscriptions, IAM roles, policies and
attachments, Firehose, Lambda functions and invoke configs, EventBridge rules and targets, EMR) and
comparing with a census taken before provisioning: it must be 0. The emulator (moto server) runs
as a child process, as in the tests; its first use of each service is slower, so run 1 is shown
apart and the median is over the other runs. Figures depend on the machine's load.

Usage: .venv/bin/python benchmarks/provision_pipeline.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import _common as c


def cli(*args: str) -> int:
    from streamlab import cli as cli_module

    try:
        cli_module.main(list(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
                      STREAMLAB_ENV_FILE="/dev/null", MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    for name in ("AWS_PROFILE", "STREAMLAB_LOCAL"):
        os.environ.pop(name, None)
    import contextlib
    import io

    from streamlab.local.emulator import Emulator
    from tests.fixtures.census import take

    rows = []
    with Emulator() as emu, tempfile.TemporaryDirectory() as home:
        os.environ["STREAMLAB_ENDPOINT_URL"] = emu.url
        os.environ["STREAMLAB_HOME"] = home
        for run in range(1, args.runs + 1):
            before = take(emu.url)
            quiet = io.StringIO()
            with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
                with c.Timer() as tp:
                    code_p = cli("provision", "ticker-pipeline", "--name-template", f"bench{run}-{{service}}",
                                 "--email", "ops@example.com", "--yes")
                created = len(take(emu.url) - before)
                with c.Timer() as tt:
                    code_t = cli("teardown", "--yes")
            after = take(emu.url)
            left = len(after - before) + len(before - after)  # anything extra, or anything else gone
            if code_p or code_t:
                print(quiet.getvalue()[-3000:])
            rows.append((f"run {run}", created, tp.seconds, tt.seconds, left, f"{code_p}/{code_t}"))
    print(f"ticker pipeline on the local emulator (moto server, child process); {os.cpu_count()} CPUs")
    c.table(["run", "resources created", "provision s", "teardown s", "left after teardown", "exit codes"], rows)
    if len(rows) > 1:
        warm = rows[1:]
        print(f"median of warm runs: provision {c.median([r[2] for r in warm]):.2f} s, teardown {c.median([r[3] for r in warm]):.2f} s")
    targets = c.Targets("provision_pipeline")
    left = sum(r[4] for r in rows)
    targets.check("0 left after teardown, every run", left == 0, f"{left} left in {len(rows)} run(s)")
    bad = [r[5] for r in rows if r[5] != "0/0"]
    targets.check("provision and teardown exit 0, every run", not bad, f"exit codes {', '.join(r[5] for r in rows)}")
    return targets.exit()


if __name__ == "__main__":
    raise SystemExit(main())
