"""The typed record of one run: what ``report.json`` serialises and every view renders from.

One :class:`RunRecord` per run, owned by the run (:class:`harness.run.runner.ValidationRun`,
its only writer besides the record's own methods): the checks, the pipeline run, the endpoint, the load result, the baseline comparison, the
phases and the environment, as the library's own types. ``report.json`` is
:meth:`RunRecord.as_dict`; :meth:`RunRecord.from_dict` reads one back (tolerantly: a report
that stopped anywhere, came from an older writer or was edited by hand still becomes a
complete record, see :mod:`harness.record.decode`).

Schema versions: 1 had a top-level ``slo`` list, a copy of the ``slo.*`` checks; 2 drops it
(the checks are the truth); 3 adds the ``diff`` section (the release diff, ``mlharness diff``:
null in any other run). Readers accept all three.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import SETTINGS, cli_flag, pytest_flag
from harness.config.secrets import URL_KEYS
from harness.config.urls import masked
from harness.contract import ContractSummary
from harness.diff import DiffResult
from harness.load.baseline import BaselineComparison
from harness.load.capacity import CapacityResult
from harness.load.resources import Series
from harness.load.results import LoadResult
from harness.pipelines.lint import Finding
from harness.record.decode import decode
from harness.redact import redact
from harness.results import CheckResult, CheckStatus, Endpoint, PipelineRun, RunStatus, _plain

SCHEMA_VERSION = 3
READABLE_SCHEMAS = (1, 2, 3)
VERSIONED_PACKAGES = ("kfp", "kserve", "scikit-learn", "locust", "kubernetes", "numpy")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class Environment:
    """Where the run ran: versions, host, git commit, command line."""

    mlharness: str = ""
    python: str = ""
    platform: str = ""
    host: str = ""
    cpus: int | None = None
    packages: Mapping[str, str | None] = dataclasses.field(default_factory=dict)
    git_commit: str | None = None
    argv: tuple[str, ...] = ()

    @classmethod
    def here(cls) -> Environment:
        versions: dict[str, str | None] = {}
        for name in VERSIONED_PACKAGES:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = None
        return cls(__version__, platform.python_version(), platform.platform(), socket.gethostname(), os.cpu_count(),
                   versions, _git_commit(), (Path(sys.argv[0]).name, *mask_argv(sys.argv[1:])))


def mask_argv(argv: list[str]) -> list[str]:
    """The command line with every secret setting's value masked (``--cookie ***``, ``--header
    X-Key:***``) and the userinfo and query values of URLs (``--url http://***:***@host/?key=***``).

    Example:
        >>> mask_argv(["--url", "http://u:pw123456@h/?k=v1234567", "--token=abcdefgh", "--users", "4"])
        ['--url', 'http://***:***@h/?k=***', '--token=***', '--users', '4']
    """
    secret = {flag for s in SETTINGS if s.secret for flag in (cli_flag(s.key), pytest_flag(s.key))}
    urls = {flag for key in URL_KEYS for flag in (cli_flag(key), pytest_flag(key))}

    def mask(flag: str, value: str) -> str:
        if flag in urls:
            return masked(value)
        if flag in (cli_flag("header"), pytest_flag("header")):
            return value.partition(":")[0] + ":***"
        return "***"

    out: list[str] = []
    pending: str | None = None
    for arg in argv:
        if pending is not None:
            out.append(mask(pending, arg))
            pending = None
            continue
        flag, eq, value = arg.partition("=")
        if flag in secret or flag in urls:
            if eq:
                out.append(f"{flag}={mask(flag, value)}")
            else:
                out.append(arg)
                pending = flag
            continue
        out.append(redact(arg))
    return out


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


@dataclasses.dataclass(frozen=True)
class Measured:
    """What a step measured for the record's sections; None leaves a section as it is."""

    lint: tuple[Finding, ...] | None = None
    pipeline: PipelineRun | None = None
    endpoint: Endpoint | None = None
    load: LoadResult | None = None
    resources: Series | None = None
    capacity: CapacityResult | None = None
    baseline: BaselineComparison | None = None
    diff: DiffResult | None = None


@dataclasses.dataclass
class RunRecord:
    """Everything one run found, as types. Mutable: the run fills it in as it goes."""

    target: str
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # every setting by key, secrets masked
    environment: Environment = dataclasses.field(default_factory=Environment)
    started_at: str = dataclasses.field(default_factory=now_iso)
    schema_version: int = SCHEMA_VERSION
    tool: str = "mlharness"
    status: RunStatus = RunStatus.RUNNING
    exit_code: int | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    error: str | None = None
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    pipeline: PipelineRun | None = None
    lint: list[Finding] = dataclasses.field(default_factory=list)
    endpoint: Endpoint | None = None
    contract: ContractSummary | None = None  # the model contract the checks followed (issue 13)
    checks: list[CheckResult] = dataclasses.field(default_factory=list)
    load: LoadResult | None = None
    baseline: BaselineComparison | None = None
    capacity: CapacityResult | None = None  # the capacity search (mlharness capacity, --capacity)
    resources: Series | None = None  # the server's CPU and RSS during the load window
    diff: DiffResult | None = None  # the release diff: candidate against live (mlharness diff, issue 21)
    cleanup: dict[str, str] = dataclasses.field(default_factory=dict)
    artifacts: dict[str, Any] = dataclasses.field(default_factory=dict)

    # --- the run fills it in ---------------------------------------------------------------
    def add_check(self, result: CheckResult) -> None:
        """Add a check result; one of the same name is replaced where it stood."""
        for i, check in enumerate(self.checks):
            if check.name == result.name:
                self.checks[i] = result
                return
        self.checks.append(result)

    def check(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failed(self) -> bool:
        """Whether any check failed (or errored)."""
        return any(c.failed for c in self.checks)

    def checks_in(self, group: str) -> list[CheckResult]:
        """The checks named ``group.*`` (``slo``: the SLO gates), in run order."""
        return [c for c in self.checks if c.name.startswith(group + ".")]

    def count(self, status: CheckStatus) -> int:
        return sum(1 for c in self.checks if c.status is status)

    def add_phase(self, name: str, seconds: float) -> None:
        self.phases[name] = round(self.phases.get(name, 0.0) + seconds, 3)

    def take(self, measured: Measured) -> None:
        """File what a step measured into its sections."""
        if measured.lint is not None:
            self.lint = list(measured.lint)
        for name in ("pipeline", "endpoint", "load", "resources", "capacity", "baseline", "diff"):
            value = getattr(measured, name)
            if value is not None:
                setattr(self, name, value)

    def order_checks(self, names: list[str]) -> None:
        """Put the checks in the order of ``names`` (the registry's); others after them, as they came."""
        order = {name: i for i, name in enumerate(names)}
        self.checks.sort(key=lambda c: order.get(c.name, len(order)))

    def end(self, status: RunStatus, exit_code: int, error: str | None = None) -> None:
        """The run ended: its final status; ``finished_at`` and ``duration_s`` from the clock."""
        self.status, self.exit_code, self.error = status, exit_code, error
        self.finished_at = now_iso()
        started = _parse_iso(self.started_at)
        if started is not None:
            self.duration_s = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 3)

    # --- JSON ------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """``report.json``: plain JSON values (enums as their values), in a stable key order."""
        data: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            data[field.name] = value.as_dict() if hasattr(value, "as_dict") and not isinstance(value, type) else _plain(value)
        data["checks"] = [c.as_dict() for c in self.checks]
        data["lint"] = [f.as_dict() for f in self.lint]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """A record from ``report.json`` data (schema 1, 2 or 3); what does not fit gets its default.

        Raises:
            ValueError: not a report, or a schema newer than this mlharness reads.
        """
        if not isinstance(data, Mapping) or "schema_version" not in data:
            raise ValueError("not an mlharness report (no schema_version)")
        version = data["schema_version"]
        if not isinstance(version, int) or version not in READABLE_SCHEMAS:
            raise ValueError(f"schema_version {version!r}; this mlharness reads {', '.join(map(str, READABLE_SCHEMAS))}")
        record = decode(cls, {**data, "target": data.get("target") if isinstance(data.get("target"), str) else "?"})
        record.schema_version = SCHEMA_VERSION
        return record
