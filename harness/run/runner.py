"""One validation run: the code path the CLI and the pytest plugin share.

A run walks the check registry (:mod:`harness.checks`) in order. Each check names what it
needs (the compiled package, the pipeline run, the ready endpoint, a client, the load figures,
the baseline comparison); the run produces each need the first time a check asks for it
(:mod:`harness.run.steps`: provision, compile + lint, run the pipeline, deploy, load) and records
what each step returns: its checks and what it measured. The run is the only writer of its
record (:class:`harness.record.RunRecord`) and owns what it holds open: the client, a load
generator started early. A need that cannot be met skips the checks that need it, with the
reason. ``mlharness run`` calls :meth:`ValidationRun.execute`; the pytest plugin calls
:meth:`ValidationRun.run_check` from its items and fixtures and :meth:`ValidationRun.end` at
the end of the session, so both front ends produce the same record and the same report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import procs
from harness.checks import (
    BLOCKED_BY,
    REGISTRY,
    CheckContext,
    Registry,
    Unavailable,
    load_user_checks,
    vouch,
)
from harness.checks.builtin import register_builtins
from harness.config import HarnessConfig
from harness.config.secrets import register_config_secrets
from harness.contract.artifact import artifact_labels
from harness.errors import (
    EXIT_FAILED,
    EXIT_INFRA,
    EXIT_PASSED,
    ConfigError,
    HarnessError,
    InfrastructureError,
)
from harness.inference.client import InferenceClient, client_for
from harness.record import Environment, Measured, RunRecord
from harness.redact import redact
from harness.reports.writer import ReportWriteError, ReportWriter, create_report_dir
from harness.results import CheckResult, CheckStatus, Endpoint, RunStatus
from harness.run import end as ending
from harness.run import steps
from harness.run.end import INTERRUPTED, Verdict
from harness.run.preflight import read_inputs
from harness.targets import Target, TargetContext, make_target

if TYPE_CHECKING:
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
    run; the pytest plugin drives the pieces (:meth:`run_check`, :meth:`require`, :meth:`end`).

    Args:
        cfg: the run's settings.
        report_dir: where everything is written (default ``reports/<timestamp>``).
        progress: called with a short line as long work moves on.
        on_check: called with each check result as it lands.
        registry: the checks to run (default: the built-in ones and any registered with
            :func:`harness.checks.check`).
        prestart_load: start the load generator as soon as the endpoint is ready (the load
            checks will run); :meth:`execute` does whenever load is on.
    """

    def __init__(
        self,
        cfg: HarnessConfig,
        report_dir: Path | None = None,
        progress: Callable[[str], None] | None = None,
        on_check: OnCheck | None = None,
        registry: Registry | None = None,
        prestart_load: bool = False,
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
            self._write_end(Verdict(RunStatus.ERROR, failed.exit_code if failed else EXIT_FAILED, f"{type(exc).__name__}: {exc}"))
            raise
        self.prestart_load = prestart_load
        self._generator: LoadGenerator | None = None  # started early; the load step takes it, the end stops it otherwise
        self._resources: dict[str, Any] = {}
        self._unavailable: dict[str, tuple[str, bool]] = {}
        self._client: InferenceClient | None = None
        self._provided: set[str] = set()

    # --- the record ------------------------------------------------------------------------
    def add(self, result: CheckResult) -> CheckResult:
        """Record a check result and write the report: every result, a step's or a check's, passes
        :func:`~harness.checks.vouch` here (a pass without evidence is recorded as an error)."""
        declared = self.registry.get(result.name).evidence if result.name in self.registry else ()
        result = vouch(result, declared)
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
            value = own[need]() if need in own else self._produce(need)
        except Unavailable as exc:
            self._unavailable[need] = (str(exc), exc.failed)
            raise
        self._resources[need] = value
        return value

    def _produce(self, need: str) -> Any:
        """Run the step that produces ``need`` and record what it returns (or what it decided before it failed)."""
        try:
            produced = steps.PRODUCERS[need](self)
        except steps.StepFailed as failed:
            self._record_step(failed.checks, failed.measured)
            raise
        self._record_step(produced.checks, produced.measured)
        if need == "endpoint" and self.prestart_load and self.cfg.load.enabled:  # locust's import (~1 s) off the load phase
            self._generator = self.target.load_generator(produced.value)
            self._generator.prestart()
        return produced.value

    def _record_step(self, checks: tuple[CheckResult, ...], measured: Measured) -> None:
        self.record.take(measured)
        self.flush()
        for result in checks:
            self.add(result)

    def load_generator(self, endpoint: Endpoint) -> LoadGenerator:
        """The generator for the load window: the one started early (the caller takes it over), else a new one."""
        generator, self._generator = self._generator, None
        return generator if generator is not None else self.target.load_generator(endpoint)

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
        self._client = self.new_client()
        return self._client

    def new_client(self) -> InferenceClient:
        """A client for the run's endpoint as the checks get theirs: the run's settings, the
        contract's output, the model's class names (the caller closes it)."""
        if self.cfg.endpoint.labels:
            labels: tuple[str, ...] = ()
        elif "endpoint" in self._provided:  # someone else's endpoint (a conftest's): never train a model for its labels
            labels = artifact_labels(self.resource("artifact") or self.cfg.endpoint.model_artifact)
        else:
            labels = artifact_labels(self.require("artifact"))
        return client_for(self.require("endpoint"), self.cfg, labels, self.inputs.contract.output, self.inputs.contract)

    def _holds(self) -> list[tuple[str, Callable[[], None]]]:
        """What the run holds open, to let go of as it ends (before teardown): the client, a prestarted locust."""
        out: list[tuple[str, Callable[[], None]]] = []
        if self._client is not None:
            client, self._client = self._client, None
            out.append(("client", client.close))
        if self._generator is not None:  # prestarted, and the run never got to the load phase
            generator, self._generator = self._generator, None
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
            return self.record.check(name) or self.add(self._not_run(name, exc))
        if check.run is None:  # a step's check: the step that produced its need decided it, and the run recorded it
            return self.record.check(name) or self.add(CheckResult(name, CheckStatus.SKIPPED, "the step that decides it did not run"))
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

    def _not_run(self, name: str, exc: Unavailable) -> CheckResult:
        """A check whose need was not met: skipped with the reason; when a step failed, the failed
        step's checks named in ``details["blocked_by"]`` and its message in the reason (a front end
        fails what a failed step blocked: the pytest plugin fails the test)."""
        if not exc.failed:
            return CheckResult(name, CheckStatus.SKIPPED, str(exc))
        steps_failed = self.failed_steps()
        said = "; ".join(f"{c.name} {c.status.value}: {c.message}" for c in steps_failed)
        return CheckResult(name, CheckStatus.SKIPPED, f"{exc}" + (f" ({said})" if said else ""),
                           details={BLOCKED_BY: [c.name for c in steps_failed] or [str(exc)]})

    def failed_steps(self) -> list[CheckResult]:
        """The steps' checks (``pipeline.compile``, ``pipeline.run``, ``deploy.ready``...) that failed so far."""
        return [c for c in self.record.checks if c.failed and c.name in self.registry and self.registry.get(c.name).run is None]

    def _context(self) -> CheckContext:
        return CheckContext(self.cfg, self.inputs, self.report_dir, self.require)

    # --- the whole line --------------------------------------------------------------------
    def execute(self) -> RunOutcome:
        """Run every registered check in order, then end: teardown and the final report, whatever happened."""
        verdict = INTERRUPTED  # if even the steps' own handlers were interrupted
        try:
            verdict = self._walk()
        finally:
            verdict = self.end(verdict)
        return RunOutcome(self.record, verdict.code, self.report_dir)

    def judge(self, code: int | None = None, failed_elsewhere: str | None = None) -> Verdict:
        """The verdict on what the run found: failed if a check failed, or ``failed_elsewhere`` says
        what else did (a pytest session's own tests); else passed. ``code``: the front end's exit
        code for that verdict (default: 1 failed, 0 passed)."""
        if self.record.failed or failed_elsewhere:
            return Verdict(RunStatus.FAILED, code or EXIT_FAILED, None if self.record.failed else failed_elsewhere)
        return Verdict(RunStatus.PASSED, EXIT_PASSED if code is None else code)

    def _walk(self) -> Verdict:
        self.prestart_load = self.cfg.load.enabled
        try:
            self.require("target")
            for check in self.registry.ordered():
                self.run_check(check.name)
            return self.judge()
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


    # --- the end ---------------------------------------------------------------------------
    def end(self, verdict: Verdict) -> Verdict:
        """End the run with ``verdict``: the verdict on disk first, then let go of what the run
        holds, diagnostics (when it did not pass), teardown, the final report and its views."""
        return ending.shielded(lambda hurry: self._end(verdict, hurry), lambda: self._write_end(verdict))

    def _end(self, verdict: Verdict, hurry: threading.Event) -> Verdict:
        with contextlib.suppress(ReportWriteError):  # the verdict on disk first: a SIGKILL from here on still leaves it
            self.report.end(verdict.status, verdict.code, redact(verdict.error) if verdict.error else None)
        cleanup = ending.release(self._holds())
        if verdict.status is not RunStatus.PASSED:
            cleanup["diagnostics"], files = ending.diagnose(self.target, self.report_dir / "diagnostics", self.cfg.core.diagnostics_timeout,
                                                            hurry, self.progress)
            if files:
                self.record.artifacts["diagnostics"] = files
        if self.cfg.core.keep and verdict.status is RunStatus.PASSED:
            cleanup["teardown"] = "skipped: keep is set"
        else:
            started = time.perf_counter()
            cleanup["teardown"], failure = ending.tear_down(self.target, hurry, self.progress)
            if failure and verdict.status is RunStatus.PASSED:  # what was deployed may still be up
                verdict = Verdict(RunStatus.ERROR, EXIT_INFRA, f"teardown failed: {failure}")
            self.record.add_phase("teardown", time.perf_counter() - started)
        self.record.cleanup = cleanup
        return self._write_end(verdict)

    def _write_end(self, verdict: Verdict) -> Verdict:
        """The final status, exit code and rendered views; a report that cannot be written is exit 3."""
        self.record.order_checks(self.registry.names())  # registry order, whichever front end ran them
        try:
            self.report.end(verdict.status, verdict.code, redact(verdict.error) if verdict.error else None)
        except ReportWriteError as exc:
            self.progress(str(exc))
            self.report.release()
            return ending.unwritten(verdict, str(exc))
        self.record.artifacts.update(ending.render_views(self.report_dir, self.progress))
        try:
            self.report.flush()
        except ReportWriteError as exc:  # the views are written; the ended report.json without their names stays
            self.progress(f"rendering the reports failed: {exc}")
        self.report.release()
        return verdict


def run_validation(
    cfg: HarnessConfig,
    report_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    on_check: OnCheck | None = None,
) -> RunOutcome:
    """Run a whole validation and return its outcome (never raises for a failed check)."""
    return ValidationRun(cfg, report_dir, progress, on_check).execute()
