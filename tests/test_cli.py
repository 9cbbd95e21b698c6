import json
import os
import signal
import subprocess
import sys
import time

import click
import pytest

from streamlab import __version__
from streamlab.cli import COMMANDS, cli
from streamlab.testing import assert_one_line


def test_help_lists_every_command(run_cli):
    r = run_cli("--help")
    assert r.code == 0
    for name in ("produce", "consume", "provision", "teardown", "status", "local", "demo", "doctor"):
        assert name in r.out


def test_version(run_cli):
    from importlib.metadata import version

    r = run_cli("--version")
    assert r.code == 0 and r.out == f"streamlab, version {__version__}\n"
    assert __version__ == version("streamlab")  # what pip installed says the same


@pytest.mark.parametrize("argv", [["--help"], ["produce", "synthetic", "--help"], ["consume", "--help"], ["doctor", "--help"], ["sample", "--help"]])
def test_help_imports_nothing_heavy(argv):
    # pydantic(-settings) too: importing it was most of a subcommand's 0.5 s `--help`
    code = (
        "import sys; from streamlab.cli import main\n"
        f"try: main({argv!r})\n"
        "except SystemExit as exc: code = exc.code\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pyspark', 'kafka', 'moto', 'pyarrow', 'pandas', 'pydantic') if m in sys.modules]\n"
        "print(code, heavy, file=sys.stderr)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stderr.strip().splitlines()[-1] == "0 []", p.stderr  # the help was shown (exit 0), nothing heavy loaded
    assert p.stdout.startswith("Usage: streamlab") and "--help" in p.stdout


def _walk(cmd: click.Command, path: str):
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _walk(cmd.get_command(ctx, name), f"{path} {name}")


def test_every_command_and_option_has_help_text():
    missing = []
    for path, cmd in _walk(cli, "streamlab"):
        if not (cmd.help or cmd.short_help):
            missing.append(path)
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.help and p.name != "help":
                missing.append(f"{path} {p.opts[0]}")
    assert not missing, f"no help text: {missing}"
    assert set(COMMANDS) <= {p.split()[1] for p, _ in _walk(cli, "streamlab") if len(p.split()) > 1}


@pytest.mark.parametrize("argv, what, fix", [
    (["nope"], "No such command 'nope'", "see `streamlab --help`"),
    (["produce", "nope"], "No such command 'nope'", "see `streamlab produce --help`"),
    (["produce", "synthetic", "--nope"], "No such option '--nope'", "see `streamlab produce synthetic --help`"),
    (["produce", "synthetic", "--count", "many"], "'many' is not a valid integer", "see `streamlab produce synthetic --help`"),
])
def test_unknown_command_is_one_line_and_nonzero(run_cli, argv, what, fix):
    r = run_cli(*argv)
    assert r.code == 2 and r.out == ""
    line = assert_one_line(r.err, what, fix)
    assert line.startswith("error: ")


def test_produce_synthetic_to_stdout_exact_count(run_cli):
    r = run_cli("produce", "synthetic", "--count", "12", "--seed", "7", "--quiet")
    assert r.code == 0, r.err
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert len(lines) == 12
    assert [x["symbol"] for x in lines[:5]] == [f"Index_{i}" for i in range(1, 6)]
    assert r.err == ""


def test_config_error_is_one_line_without_traceback(run_cli):
    r = run_cli("produce", "synthetic", "--sink", "file", "--count", "1")
    assert r.code == 2
    assert assert_one_line(r.err).startswith("error: --sink file needs --path")


def test_traceback_flag_shows_the_stack(run_cli):
    import pytest
    from streamlab.errors import ConfigError

    with pytest.raises(ConfigError):
        from streamlab.cli import main

        main(["--traceback", "produce", "synthetic", "--sink", "file", "--count", "1"])


def test_an_unexpected_failure_exits_70_and_streamlab_traceback_shows_the_stack(run_cli, tmp_path):
    # /dev/full fails every write with ENOSPC: a failure streamlab has no named error for
    dl = tmp_path / "dl.jsonl"
    r = run_cli("produce", "synthetic", "--count", "3", "--sink", "file", "--path", "/dev/full", "--dead-letter", str(dl), "--quiet")
    assert r.code == 70
    last = r.err.strip().splitlines()[-1]
    assert last.startswith("error: unexpected OSError") and "rerun with --traceback and report it" in last
    assert "Traceback" not in r.err
    p = subprocess.run([sys.executable, "-m", "streamlab", "produce", "synthetic", "--count", "3", "--sink", "file",
                        "--path", "/dev/full", "--dead-letter", str(dl), "--quiet"],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "STREAMLAB_TRACEBACK": "1"})
    assert p.returncode == 1 and "Traceback (most recent call last)" in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("OSError: [Errno 28]")


def test_a_second_ctrl_c_aborts_with_130(tcp_proxy, fresh_stream, tmp_path):
    """The first Ctrl-C asks for a clean stop; while the final flush rides out an outage (the
    endpoint resets every connection), a second one gives up: exit 130, summary and dead-letter path."""
    env = {**os.environ, "STREAMLAB_HOME": str(tmp_path), "COLUMNS": "200"}
    dl = tmp_path / "dl.jsonl"
    p = subprocess.Popen([sys.executable, "-m", "streamlab", "produce", "synthetic", "--rate", "200", "--sink", "kinesis",
                          "--stream", fresh_stream, "--endpoint-url", tcp_proxy.url, "--dead-letter", str(dl)],
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        said = ""
        while not said.splitlines()[-1:] or not said.splitlines()[-1].startswith("producing"):
            line = p.stderr.readline()
            assert line, said
            said += line
        time.sleep(0.5)
        tcp_proxy.mode = "reset"  # from now on nothing gets through: the stop's flush keeps retrying
        p.send_signal(signal.SIGINT)
        time.sleep(1.5)
        assert p.poll() is None, "the first Ctrl-C should still be flushing through the outage"
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 130, said + err
    assert time.monotonic() - t0 < 10  # not the 60 s --max-outage
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: aborted by a second Ctrl-C/SIGTERM") and "Traceback" not in err, err
    flat = " ".join(err.split())
    assert "produced" in flat and str(dl) in "".join(err.split())  # the summary and the dead-letter path print


def test_no_option_anywhere_accepts_a_secret():
    """Secrets come from the environment or .env, never flags (README): no option of any command,
    source or sink is named like one or fills a secret setting."""
    from pydantic import SecretStr

    from streamlab.settings import Settings

    secret_fields = {name for name, f in Settings.model_fields.items() if SecretStr in getattr(f.annotation, "__args__", (f.annotation,))}
    assert {"aws_secret_access_key", "finnhub_api_key", "kafka_password"} <= secret_fields
    words = ("password", "secret", "token", "api-key", "api_key", "apikey", "credential", "passphrase")
    offending = []
    seen = 0
    for path, cmd in _walk(cli, "streamlab"):
        for p in cmd.params:
            seen += 1
            spelled = [*p.opts, *p.secondary_opts, p.name or "", *([p.envvar] if isinstance(p.envvar, str) else p.envvar or [])]
            if any(w in s.lower() for s in spelled for w in words) or (p.name or "") in secret_fields or "--key" in p.opts:
                offending.append(f"{path} {p.opts}")
    assert seen > 100  # every command, source and sink option was looked at
    assert offending == []


def test_the_shipped_test_doubles_import_nothing_heavy():
    code = ("import sys, streamlab.testing\n"
            "print([m for m in ('boto3', 'botocore', 'pyspark', 'kafka', 'moto', 'pyarrow', 'pandas', 'pydantic') if m in sys.modules])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stdout + p.stderr


def test_the_shipped_test_doubles_run_a_source_into_a_sink(tmp_path):
    """The README's example for users testing their own sources and sinks works as written."""
    from streamlab.testing import Pause, RecordingSink, ScriptedSource, read_dead_letters, run_pipeline

    sink = RecordingSink(max_batch_records=2)
    result = run_pipeline(ScriptedSource(["a", Pause(0.01), "b", "c", "d"]), sink, dead_letter=tmp_path / "dl.jsonl", count=3)
    assert result.reason == "count" and result.stats.sent == 3 and sink.opened and sink.closed
    assert sink.delivered == [b"a", b"b", b"c"] and all(len(c) <= 2 for c in sink.calls)
    assert read_dead_letters(tmp_path / "dl.jsonl") == []
