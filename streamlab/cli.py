"""Entry point. Registers the commands (imported only when run) and is the one error boundary.

A StreamlabError becomes one line on stderr and its exit code; `--traceback` (or
STREAMLAB_TRACEBACK=1) shows the stack instead. Nothing heavy is imported here: `streamlab --help`
must stay instant.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Optional

import click

from streamlab import __version__, redact
from streamlab.errors import Declined, StreamlabError

# name -> (module, one-line help). The help is here so `streamlab --help` imports no command module.
COMMANDS: dict[str, tuple[str, str]] = {
    "produce": ("streamlab.commands.produce", "Stream records from a source (feed, ticker, file) into a sink."),
    "consume": ("streamlab.commands.consume", "Run a Spark Structured Streaming job over a stream."),
    "chart": ("streamlab.commands.chart", "Draw a chart (PNG, SVG or offline HTML) of what consume wrote."),
    "dashboard": ("streamlab.commands.dashboard", "Serve a live page of what consume writes (prices, candles, hashtags)."),
    "sample": ("streamlab.commands.sample", "Read N records of a stream: trades, units and USD value per symbol (no Spark)."),
    "alert": ("streamlab.commands.alert", "Follow a stream and alert (console, SNS, Slack, webhook) when a price rule fires."),
    "prices": ("streamlab.commands.prices", "Print the latest price per symbol from the Redis cache that alert/consume write."),
    "athena-ddl": ("streamlab.commands.athena_ddl", "Print the Athena CREATE TABLE for what consume writes."),
    "provision": ("streamlab.commands.provision", "Create lab resources on AWS (plan first, tagged, recorded)."),
    "teardown": ("streamlab.commands.teardown", "Delete everything streamlab created (plan first)."),
    "status": ("streamlab.commands.status", "Show what streamlab created that still exists."),
    "local": ("streamlab.commands.local", "Start, stop or inspect the local AWS emulator."),
    "demo": ("streamlab.commands.demo", "Run the whole pipeline offline on a local emulator, in one command."),
    "doctor": ("streamlab.commands.doctor", "Check Python, Java, Spark, AWS settings and the emulator."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name not in COMMANDS:
            return None
        module, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), "command")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="streamlab")
@click.option("--traceback", is_flag=True, help="Show the full stack trace on errors. [env: STREAMLAB_TRACEBACK]")
def cli(traceback: bool) -> None:
    """streamlab: feeds -> Kinesis/Firehose/Kafka/sockets -> Spark, and the AWS chores around them.

    Start offline with `streamlab demo`. Secrets come from the environment or .env, never flags.
    """
    redact.install_logging()  # here, as a command starts: `--help` never imports logging


def _wants_traceback(argv: list[str]) -> bool:
    return "--traceback" in argv or os.environ.get("STREAMLAB_TRACEBACK", "") not in ("", "0")


def _known(exc: BaseException) -> Optional[StreamlabError]:
    """Map well-known third-party failures to one clear line; None when unknown."""
    if isinstance(exc, StreamlabError):
        return exc
    mod = type(exc).__module__ or ""
    if mod.startswith("botocore"):
        from streamlab.aws.session import explain_aws_error

        return explain_aws_error(exc)
    return None


def _flat(text: str) -> str:
    return " ".join(text.split())


def _usage_line(exc: click.UsageError) -> str:
    """click's usage error as our one line: what is wrong, then where the right spelling is."""
    path = exc.ctx.command_path if exc.ctx is not None else "streamlab"
    return f"{_flat(exc.format_message()).rstrip('.')}; see `{path} --help`"


def say(line: str) -> None:
    """An error line on stderr, secrets scrubbed (`streamlab.redact`)."""
    click.echo(redact.scrub(line), err=True)


def main(argv: Optional[list[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    traceback = _wants_traceback(argv)
    try:
        rv = cli.main(args=argv, prog_name="streamlab", standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except click.exceptions.Abort:
        say("aborted")
        sys.exit(130)
    except click.UsageError as exc:  # unknown command or option, bad value: one line, not usage + hint
        say(f"error: {_usage_line(exc)}")
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        say(f"error: {_flat(exc.format_message())}")
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
    except Declined as exc:  # an answer, not a failure: said plainly, never with a stack
        from streamlab import console

        console.info(exc.message)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if traceback:
            raise
        known = _known(exc)
        if known is not None:
            say(f"error: {known.one_line()}")
            sys.exit(known.exit_code)
        say(f"error: unexpected {type(exc).__name__}: {exc}; rerun with --traceback and report it")
        sys.exit(70)
