"""One validation run: the code path the CLI and the pytest plugin share.

A run walks the check registry (:mod:`harness.checks`) in order. Each check names what it
needs (the compiled package, the pipeline run, the ready endpoint, a client, the load figures,
the baseline comparison); the run produces each need the first time a check asks for it
(:mod:`harness.run.steps`: provision, compile + lint, run the pipeline, deploy, load), recording the
steps' own checks as it goes. A need that cannot be met skips the checks that need it, with the
reason. ``mlharness run`` calls :meth:`ValidationRun.execute`; the pytest plugin calls
:meth:`ValidationRun.run_check` from its items and fixtures, so both front ends produce the
same record (:class:`harness.record.RunRecord`) and the same report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import procs
from harness.checks import REGISTRY, CheckContext, Registry, Unavailable, load_user_checks
from harness.checks.builtin import register_builtins
from harness.config import HarnessConfig
from harness.config.secrets import register_config_secrets
from harness.errors import (
    EXIT_FAILED,
    EXIT_INFRA,
    EXIT_PASSED,
    ConfigError,
    HarnessError,
    InfrastructureError,
)
from harness.record import Environment, RunRecord
from harness.redact import redact
from harness.reports.writer import ReportWriteError, ReportWriter, create_report_dir
from harness.results import CheckResult, CheckStatus, RunStatus
from harness.run import steps
from harness.run.end import INTERRUPTED, Verdict, end, finish
from harness.run.preflight import read_inputs
from harness.targets import Target, TargetContext, make_target

if TYPE_CHECKING:
    from harness.inference.client import InferenceClient
    from harness.targets.base import LoadGenerator

OnCheck = Callable[[CheckResult], None]
#: the phase of report.json's time breakdown that a group's checks count towards
PHASES = {"predict": "verify", "robustness": "robustness", "slo": "load", "baseline": "load"}


def default_report_dir(base: str | Path = "reports") -> Path:
    """A new, empty ``base/<timestamp>[-n]`` directory, created atomically (never shared)."""
    return create_report_dir(None, base)


@dataclasses.dataclass
class RunOutcome:
    """What a run ended with: the final record and the process exit code."""

    record: RunRecord
    exit_code: int
    report_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        """The record as ``report.json`` holds it (plain JSON values)."""
        return self.record.as_dict()


class ValidationRun:
    """One run: its settings, target, record and report. Use :func:`run_validation` for a whole
    run; the pytest plugin drives the pieces (:meth:`run_check`, :meth:`require`).

    Args:
        cfg: the run's settings.
        report_dir: where everything is written (default ``reports/<timestamp>``).
        progress: called with a short line as long work moves on.
        on_check: called with each check result as it lands.
        registry: the checks to run (default: the built-in ones and any registered with
            :func:`harness.checks.check`).
    """

    def __init__(
        self,
        cfg: HarnessConfig,
        report_dir: Path | None = None,
        progress: Callable[[str], None] | None = None,
        on_check: OnCheck | None = None,
        registry: Registry | None = None,
    ) -> None:
        register_config_secrets(cfg)  # before anything (report, argv, logs) is written
        register_builtins()
        load_user_checks(cfg.core.checks)  # the ``checks`` setting and the mlharness.checks entry points
        self.cfg = cfg
        self.registry = registry or REGISTRY
        self.inputs = read_inputs(cfg)  # a bad golden or baseline file: exit 2 before any work
        self.report_dir = create_report_dir(report_dir or (Path(cfg.core.report_dir) if cfg.core.report_dir else None))
        self.progress = progress or (lambda _msg: None)
        self.on_check = on_check or (lambda _c: None)
        self.record = RunRecord(cfg.core.target, cfg.as_dict(), Environment.here())
        self.record.contract = self.inputs.contract.summary()
        self.report = ReportWriter(self.report_dir, self.record)
        try:
            self.target: Target = make_target(TargetContext(cfg, self.report_dir, self.progress))
        except BaseException as exc:  # the report must not stay ``running``
            failed = exc if isinstance(exc, HarnessError) else None
            finish(self, Verdict(RunStatus.ERROR, failed.exit_code if failed else EXIT_FAILED, f"{type(exc).__name__}: {exc}"))
            raise
        self.prestart_load = False  # start locust as soon as the endpoint is ready (the load checks will run)
        self.load_generator: LoadGenerator | None = None  # prestarted, released by the load step
        self._resources: dict[str, Any] = {}
        self._unavailable: dict[str, tuple[str, bool]] = {}
        self._client: InferenceClient | None = None
        self._provided: set[str] = set()

    # --- the record ------------------------------------------------------------------------
    def add(self, result: CheckResult) -> CheckResult:
        """Record a check result and write the report."""
        self.record.add_check(result)
        self.flush()
        self.on_check(result)
        procs.check_interrupted()  # a Ctrl-C that was lost on its way still stops the run here
        return result

    def flush(self) -> None:
        self.report.flush()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase into the record's breakdown (a phase entered twice adds up)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record.add_phase(name, time.perf_counter() - started)
            with contextlib.suppress(ReportWriteError):  # an error in flight says more than a full disk
                self.flush()

    # --- needs -----------------------------------------------------------------------------
    def require(self, need: str) -> Any:
        """The need, produced on first use; :class:`~harness.checks.Unavailable` says why not."""
        if need in self._resources:
            return self._resources[need]
        if need in self._unavailable:
            reason, failed = self._unavailable[need]
            raise Unavailable(reason, failed=failed)
        own: dict[str, Callable[[], Any]] = {"target": self._provision, "client": self._make_client}
        try:
            value = own[need]() if need in own else steps.PRODUCERS[need](self)
        except Unavailable as exc:
            self._unavailable[need] = (str(exc), exc.failed)
            raise
        self._resources[need] = value
        return value

    def resource(self, need: str) -> Any:
        """The need if it was produced already, else None (never produces it)."""
        return self._resources.get(need)

    def provide(self, need: str, value: Any) -> None:
        """Use ``value`` for ``need`` (a fixture a user overrode in a conftest)."""
        self._resources[need] = value
        self._unavailable.pop(need, None)
        self._provided.add(need)

    def _provision(self) -> Target:
        with self.phase("provision"):
            self.progress(f"provisioning the {self.cfg.core.target} target")
            self.target.provision()
        return self.target

    def _make_client(self) -> InferenceClient:
        from harness.checks.predict import artifact_labels
        from harness.inference.client import client_for

        if self.cfg.endpoint.labels:
            labels: tuple[str, ...] = ()
        elif "endpoint" in self._provided:  # someone else's endpoint (a conftest's): never train a model for its labels
            labels = artifact_labels(self.resource("artifact") or self.cfg.endpoint.model_artifact)
        else:
            labels = artifact_labels(self.require("artifact"))
        self._client = client_for(self.require("endpoint"), self.cfg, labels, self.inputs.contract.output)
        return self._client

    def releases(self) -> list[tuple[str, Callable[[], None]]]:
        """What the end of the run closes before teardown: the client, a prestarted locust."""
        out: list[tuple[str, Callable[[], None]]] = []
        if self._client is not None:
            client, self._client = self._client, None
            out.append(("client", client.close))
        if self.load_generator is not None:  # prestarted, and the run never got to the load phase
            generator, self.load_generator = self.load_generator, None
            out.append(("load", generator.stop))
        return out

    # --- checks ----------------------------------------------------------------------------
    def run_check(self, name: str) -> CheckResult:
        """Run the check ``name`` (once: a check already recorded returns its result)."""
        check = self.registry.get(name)
        name = check.name  # an old name (predict.accuracy) runs and records as its new one
        recorded = self.record.check(name)
        if recorded is not None:
            return recorded
        reason = check.skip_unless(self.cfg) if check.skip_unless else None
        if reason:
            return self.add(CheckResult(name, CheckStatus.SKIPPED, reason))
        try:
            for need in check.needs:
                self.require(need)
        except Unavailable as exc:
            return self.record.check(name) or self.add(CheckResult(name, CheckStatus.SKIPPED, str(exc)))
        if check.step:
            return check.run(self._context())
        started = time.perf_counter()
        with self.phase(PHASES.get(check.group, "checks")):
            self.progress(f"{check.name}: {check.description}")
            try:
                result = check.run(self._context())
            except (KeyboardInterrupt, ConfigError, InfrastructureError):
                raise
            except Exception as exc:  # noqa: BLE001 - a check that breaks is that check's error, not the run's
                result = CheckResult(name, CheckStatus.ERROR, redact(f"the check raised {type(exc).__name__}: {exc}"),
                                     round(time.perf_counter() - started, 3))
        if result.name != name:
            result = dataclasses.replace(result, name=name)
        return self.add(result)

    def _context(self) -> CheckContext:
        return CheckContext(self.cfg, self.inputs, self.report_dir, self.require, self.record.check)

    # --- the whole line --------------------------------------------------------------------
    def execute(self) -> RunOutcome:
        """Run every registered check in order, then end: teardown and the final report, whatever happened."""
        verdict = INTERRUPTED  # if even the steps' own handlers were interrupted
        try:
            verdict = self._walk()
        finally:
            verdict = end(self, verdict)
        return RunOutcome(self.record, verdict.code, self.report_dir)

    def _walk(self) -> Verdict:
        self.prestart_load = self.cfg.load.enabled
        try:
            self.require("target")
            for check in self.registry.ordered():
                self.run_check(check.name)
            if self.record.failed:
                return Verdict(RunStatus.FAILED, EXIT_FAILED)
            return Verdict(RunStatus.PASSED, EXIT_PASSED)
        except KeyboardInterrupt:
            return INTERRUPTED
        except HarnessError as exc:
            code = exc.exit_code if isinstance(exc, ConfigError | InfrastructureError) else EXIT_FAILED
            return Verdict(RunStatus.ERROR, code, f"{type(exc).__name__}: {exc}")
        except OSError as exc:  # the machine, not a check: a full disk, a vanished directory
            return Verdict(RunStatus.ERROR, EXIT_INFRA, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug still leaves a report and a traceback file
            with contextlib.suppress(OSError):
                (self.report_dir / "error.log").write_text(redact(traceback.format_exc()))
            return Verdict(RunStatus.ERROR, EXIT_FAILED, f"{type(exc).__name__}: {exc}")


def run_validation(
    cfg: HarnessConfig,
    report_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    on_check: OnCheck | None = None,
) -> RunOutcome:
    """Run a whole validation and return its outcome (never raises for a failed check)."""
    return ValidationRun(cfg, report_dir, progress, on_check).execute()
