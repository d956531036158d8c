"""The command-runner seam: every external command of the cluster targets goes through here.

Providers, the installer, readiness waits and diagnostics never call :mod:`subprocess`
themselves; they get a :class:`CommandRunner`. The real one (:class:`SubprocessRunner`)
runs the command with a timeout and logs it (redacted) to ``commands.log``; tests inject a
fake that records the exact argv and answers from a script, so every command the harness
would run on a real cluster is checked here without one. The one download the installer
needs (KServe's standard-mode install script, a release asset) goes through the same seam
(:meth:`CommandRunner.fetch`, https only, logged like a command).

Example:
    >>> runner = SubprocessRunner()
    >>> runner.run(["true"], timeout=5).ok  # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from harness import procs
from harness.errors import CommandError, InfrastructureError, ToolMissingError, WaitTimeout
from harness.redact import redact

# How to install each tool the cluster targets need: named in ToolMissingError (exit 3).
INSTALL_HINTS: dict[str, str] = {
    "docker": "Install Docker Engine (https://docs.docker.com/engine/install/) and make sure "
    "'docker info' works for your user.",
    "kind": "Install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), e.g. "
    "'go install sigs.k8s.io/kind@v0.30.0' or the release binary for your platform.",
    "minikube": "Install minikube (https://minikube.sigs.k8s.io/docs/start/), e.g. the release "
    "binary from https://github.com/kubernetes/minikube/releases.",
    "kubectl": "Install kubectl (https://kubernetes.io/docs/tasks/tools/#kubectl), a version "
    "within one minor of the cluster's Kubernetes.",
}


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """What one command did: its argv, exit code and (text) output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@runtime_checkable
class Background(Protocol):
    """A long-running child (``kubectl port-forward``) started by a runner."""

    def alive(self) -> bool:
        """Whether the child is still running."""

    def stop(self) -> None:
        """Stop the child (safe to call twice)."""


@runtime_checkable
class CommandRunner(Protocol):
    """Runs external commands. The only process boundary of :mod:`harness.cluster.provision`."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
    ) -> CommandResult:
        """Run ``argv`` to completion within ``timeout`` seconds.

        Raises:
            ToolMissingError: ``argv[0]`` is not installed.
            WaitTimeout: the command ran longer than ``timeout``.
            CommandError: ``check`` and the command exited non-zero.
        """

    def start(self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None) -> Background:
        """Start ``argv`` in the background (output to ``log_path``), tracked and reaped."""

    def which(self, tool: str) -> str | None:
        """Where ``tool`` is installed, or None."""

    def fetch(self, url: str, *, timeout: float) -> str:
        """The text at ``url`` (an upstream release asset), read within ``timeout`` seconds.

        Raises:
            InfrastructureError: the download failed.
        """


def require_tools(runner: CommandRunner, tools: Sequence[str]) -> None:
    """Raise :class:`ToolMissingError` for the first of ``tools`` that is not installed."""
    for tool in tools:
        if runner.which(tool) is None:
            raise ToolMissingError(tool, INSTALL_HINTS.get(tool, f"Install {tool}."))


class _Proc:
    """A tracked background child (see :mod:`harness.procs`)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        procs.stop(self.proc, grace=3.0)


class SubprocessRunner:
    """Runs commands for real, each with a timeout; appends a redacted line per command to ``log``.

    Args:
        log: ``commands.log`` of the run (None: no log).
    """

    def __init__(self, log: Path | None = None) -> None:
        self.log = log
        self._lock = threading.Lock()

    def which(self, tool: str) -> str | None:
        return shutil.which(tool)

    def _log(self, line: str) -> None:
        if self.log is None:
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.log.open("a") as fh:
            fh.write(redact(line) + "\n")

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
    ) -> CommandResult:
        argv = list(argv)
        require_tools(self, argv[:1])
        started = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                input=input,
                env=None if env is None else {**os.environ, **env},
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            self._log(f"$ {' '.join(argv)}  # timed out after {timeout:g}s")
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            raise WaitTimeout(f"command {' '.join(argv[:4])} ...", timeout, redact(out[-500:])) from None
        elapsed = time.monotonic() - started
        self._log(f"$ {' '.join(argv)}  # exit {proc.returncode} in {elapsed:.1f}s")
        result = CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
        if check and not result.ok:
            raise CommandError(argv, proc.returncode, redact(proc.stdout + proc.stderr))
        return result

    def fetch(self, url: str, *, timeout: float) -> str:
        if not url.startswith("https://"):
            raise InfrastructureError(f"refusing to download {url}: not https")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                text = str(response.read().decode())
        except (OSError, UnicodeDecodeError) as exc:
            self._log(f"$ GET {url}  # failed: {exc}")
            raise InfrastructureError(f"could not download {url}: {exc}") from exc
        self._log(f"$ GET {url}  # {len(text)} characters in {time.monotonic() - started:.1f}s")
        return text

    def start(self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None) -> Background:
        if self.which(argv[0]) is None:
            raise ToolMissingError(argv[0], INSTALL_HINTS.get(argv[0], f"Install {argv[0]}."))
        self._log(f"$ {' '.join(argv)} &  # background, log {log_path}")
        return _Proc(procs.spawn(argv, log_path=log_path, env=env))
