"""The small exception hierarchy of the library.

Each kind maps to one process exit code (see :data:`EXIT_CODES`), so the CLI and the
pytest layer can tell misuse from missing infrastructure from a failed check.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of every error the library raises on purpose."""

    exit_code = 1


class ConfigError(HarnessError):
    """Bad configuration or usage: a value, a flag or a file the user gave is wrong.

    Args:
        message: what is wrong and how to fix it.
        key: the offending config key or flag, named in the message.
    """

    exit_code = 2

    def __init__(self, message: str, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class InfrastructureError(HarnessError):
    """The system under test could not be provisioned or reached (a tool, a cluster, a port)."""

    exit_code = 3


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

    exit_code = 130


EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INFRA = 3
EXIT_INTERRUPTED = 130
