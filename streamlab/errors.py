"""Named errors. Each carries one line saying what is wrong and one saying what to do.

`cli.main` is the single boundary that turns them into a message and an exit code; everything
below it raises and never prints a traceback itself.
"""

from __future__ import annotations


class StreamlabError(Exception):
    """A known failure: `message` says what is wrong, `hint` what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class ConfigError(StreamlabError):
    """Settings or flags that cannot work together, or a missing required value."""

    exit_code = 2


class MissingDependency(StreamlabError):
    """An optional Python package or a system tool (Java) is absent."""

    exit_code = 3

    @classmethod
    def extra(cls, module: str, extra: str) -> "MissingDependency":
        return cls(f"{module} is not installed", f'install it with: pip install "streamlab[{extra}]"')


class ResourceNotFound(StreamlabError):
    """A stream, topic, bucket or other resource the command needs does not exist."""

    exit_code = 4


class ConnectionFailed(StreamlabError):
    """A service could not be reached or refused us (endpoint down, broker unreachable, 401/451)."""

    exit_code = 5


class Declined(StreamlabError):
    """The user answered no when asked to apply a plan: nothing was changed. `cli.main` prints the
    message as a plain line (it is an answer, not an error) and exits 1."""

    exit_code = 1


class PartialDelivery(StreamlabError):
    """The run ended, but some records are in the dead-letter file instead of the target."""

    exit_code = 6


class DamagedInput(StreamlabError):
    """An input file (a capture) was partly unreadable; what could be read was sent."""

    exit_code = 7


class Interrupted(StreamlabError):
    """Aborted by a second Ctrl-C/SIGTERM (the summary and the dead-letter file say what is where)."""

    exit_code = 130
