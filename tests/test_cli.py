import json
import subprocess
import sys

import click
import pytest

from streamlab.cli import COMMANDS, cli


def test_help_lists_every_command(run_cli):
    r = run_cli("--help")
    assert r.code == 0
    for name in ("produce", "consume", "provision", "teardown", "status", "local", "demo", "doctor"):
        assert name in r.out


def test_version(run_cli):
    r = run_cli("--version")
    assert r.code == 0 and "streamlab" in r.out


@pytest.mark.parametrize("argv", [["--help"], ["produce", "synthetic", "--help"], ["consume", "--help"], ["doctor", "--help"]])
def test_help_imports_nothing_heavy(argv):
    # pydantic(-settings) too: importing it was most of a subcommand's 0.5 s `--help`
    code = (
        "import sys; from streamlab.cli import main\n"
        f"try: main({argv!r})\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pyspark', 'kafka', 'moto', 'pyarrow', 'pandas', 'pydantic') if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stderr.strip().splitlines()[-1] == "[]", p.stderr


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


def test_unknown_command_is_one_line_and_nonzero(run_cli):
    r = run_cli("nope")
    assert r.code != 0
    assert "Traceback" not in r.err


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
    assert r.err.strip().startswith("error: --sink file needs --path")
    assert "Traceback" not in r.err


def test_traceback_flag_shows_the_stack(run_cli):
    import pytest
    from streamlab.errors import ConfigError

    with pytest.raises(ConfigError):
        from streamlab.cli import main

        main(["--traceback", "produce", "synthetic", "--sink", "file", "--count", "1"])
