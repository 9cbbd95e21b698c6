"""Options shared by several commands, and the settings they produce."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable

import click

if TYPE_CHECKING:
    from streamlab.settings import Settings

AWS_OPTION_NAMES = ("endpoint_url", "region", "profile", "local")


def aws_options(func: Callable) -> Callable:
    """--endpoint-url, --region, --profile, --local; folded into `settings` (flags > env > .env)."""

    @click.option("--endpoint-url", default=None, metavar="URL", help="AWS endpoint, e.g. the local emulator. [env: STREAMLAB_ENDPOINT_URL]")
    @click.option("--region", default=None, help="AWS region. [env: AWS_REGION, AWS_DEFAULT_REGION; default us-east-1]")
    @click.option("--profile", default=None, help="AWS profile from ~/.aws/config. [env: AWS_PROFILE]")
    @click.option("--local", "local", is_flag=True, default=None, help="Use the emulator started by `streamlab local up`. [env: STREAMLAB_LOCAL]")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any):
        from streamlab.settings import load_settings  # here, not at import: `--help` stays fast

        flags = {k: kwargs.pop(k) for k in AWS_OPTION_NAMES}
        kwargs["settings"] = load_settings(**flags)
        return func(*args, **kwargs)

    return wrapper


def aws_handle(settings: Settings):
    """The command's one AWS handle, built where it starts and passed down to everything that talks
    to AWS. Free to build: nothing is resolved (nor the emulator note printed) until first used."""
    from streamlab.aws.session import AWS

    return AWS(settings)


def ask_yes_no(question: str) -> bool:
    """The `ask` a command hands to a plan (`streamlab.aws.plan.confirm`): y/N on stderr."""
    return click.confirm(question, default=False, err=True)


def lab_option(func: Callable) -> Callable:
    return click.option("--lab", default=None, help="Lab name tagged on every resource. [env: STREAMLAB_LAB; default: default]")(func)


def yes_option(func: Callable) -> Callable:
    return click.option("--yes", "-y", is_flag=True, help="Apply without asking.")(func)


def dry_run_option(func: Callable) -> Callable:
    return click.option("--dry-run", is_flag=True, help="Print the plan and stop.")(func)


def with_lab(settings: Settings, lab: str | None) -> Settings:
    return settings.model_copy(update={"lab": lab}) if lab else settings
