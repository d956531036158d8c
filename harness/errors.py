"""The process exit codes, and the small exception hierarchy of the library.

:class:`ExitCode` is the one definition of the exit codes: the CLI's epilog, the error
classes' ``exit_code`` and the tables in README.md and docs/cli.md follow it (a test compares
them). Each kind of error maps to one code, so the CLI and the pytest layer can tell misuse
from missing infrastructure from a failed check.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """An exit code of ``mlharness``, with the few words that say what it means.

    Example:
        >>> ExitCode.USAGE, int(ExitCode.USAGE), ExitCode.USAGE.meaning
        (<ExitCode.USAGE: 2>, 2, 'usage or config error')
    """

    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    PASSED = 0, "passed"
    FAILED = 1, "a check or gate failed"
    USAGE = 2, "usage or config error"
    INFRA = 3, "infrastructure error"
    INTERRUPTED = 130, "interrupted"


def exit_codes_line() -> str:
    """Every exit code with its meaning, in one line (the CLI's epilog)."""
    return "Exit codes: " + ", ".join(f"{code.value} {code.meaning}" for code in ExitCode) + "."


class HarnessError(Exception):
    """Base class of every error the library raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(HarnessError):
    """Bad configuration or usage: a value, a flag or a file the user gave is wrong.

    Args:
        message: what is wrong and how to fix it.
        key: the offending config key or flag, named in the message.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, key: str | None = None) -> None:
        self.key = key
        self.detail = message  # the message without the key in front
        super().__init__(f"{key}: {message}" if key else message)

    def under(self, key: str) -> ConfigError:
        """The same words under another key (a candidate's setting checked by a shared rule)."""
        return ConfigError(self.detail, key)


class MissingExtraError(ConfigError):
    """A feature needs packages of an optional extra that is not installed: exit 2, one line.

    Args:
        extra: the extra that installs them (``local``, ``cluster``).
        what: the feature that needs them (``the local target``).
        missing: the import names that were not found.
    """

    def __init__(self, extra: str, what: str, missing: Iterable[str]) -> None:
        self.extra = extra
        names = ", ".join(missing)
        super().__init__(f"{what} needs {names}, which this install lacks: pip install 'mlharness[{extra}]'")


#: the import names each optional extra of pyproject.toml provides
EXTRAS: dict[str, tuple[str, ...]] = {
    "local": ("kfp", "kserve", "sklearn"),
    "cluster": ("kfp", "kubernetes"),
}


def require_extra(extra: str, what: str, modules: Iterable[str] | None = None) -> None:
    """Raise :class:`MissingExtraError` unless the modules of ``extra`` (or only ``modules`` of
    it) are installed.

    Looks them up without importing them (``find_spec``: milliseconds), so a run learns of a
    missing ``kfp`` before its first child process fails on it.
    """
    missing = [name for name in (modules or EXTRAS[extra]) if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(extra, what, missing)


class InfrastructureError(HarnessError):
    """The system under test could not be provisioned or reached (a tool, a cluster, a port)."""

    exit_code = ExitCode.INFRA


class ToolMissingError(InfrastructureError):
    """A command-line tool the target needs is not installed.

    Args:
        tool: the executable name.
        hint: how to install it.
    """

    def __init__(self, tool: str, hint: str) -> None:
        self.tool = tool
        self.hint = hint
        super().__init__(f"'{tool}' is not installed or not on PATH. {hint}")


class WaitTimeout(InfrastructureError):
    """A wait ran out of time. Carries what was awaited and the last observation."""

    def __init__(self, what: str, timeout: float, last: str = "", *, aborted: bool = False) -> None:
        self.what = what
        self.timeout = timeout
        self.last = last
        self.aborted = aborted
        if aborted:
            super().__init__(f"gave up waiting for {what}: {last}")
        else:
            detail = f" Last seen: {last}" if last else ""
            super().__init__(f"timed out after {timeout:g}s waiting for {what}.{detail}")


class CommandError(InfrastructureError):
    """An external command exited non-zero. The message carries the tail of its output."""

    def __init__(self, argv: list[str], returncode: int, output: str = "") -> None:
        self.argv = argv
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-20:])
        super().__init__(
            f"command failed with exit code {returncode}: {' '.join(argv)}"
            + (f"\n{tail}" if tail else "")
        )


class PipelineError(HarnessError):
    """A pipeline could not be compiled, loaded or run."""


class InferenceError(HarnessError):
    """An inference request failed at the transport level or got an unusable answer.

    Args:
        message: what happened.
        status: the HTTP status, when there was a response.
        body: the (truncated, redacted) response body, when there was one.
        timed_out: no complete answer came within the request's deadline.
    """

    def __init__(self, message: str, status: int | None = None, body: str = "", *, timed_out: bool = False) -> None:
        self.status = status
        self.body = body
        self.timed_out = timed_out
        super().__init__(message)


class Interrupted(HarnessError):
    """The run was interrupted (SIGINT/SIGTERM)."""

    exit_code = ExitCode.INTERRUPTED


# The names the exit codes had before ExitCode, still imported by harness/run, fixtures/plugin.py
# and some sub-commands of harness/cli: the same members, not other values.
EXIT_PASSED = ExitCode.PASSED
EXIT_FAILED = ExitCode.FAILED
EXIT_USAGE = ExitCode.USAGE
EXIT_INFRA = ExitCode.INFRA
EXIT_INTERRUPTED = ExitCode.INTERRUPTED
