"""One validation run, one straight line: the code path the CLI and the pytest suites share.

config -> inputs read -> provision -> compile + lint -> run pipeline -> deploy -> verify ->
robustness -> load -> SLO gates -> report. The report is written after every step, and one
place ends every run (:meth:`ValidationRun.execute`'s ``_end``): diagnostics within their own
time bound, teardown (unless asked to keep), then the final report with its status, exit
code, HTML, Markdown and JUnit. A second signal hurries that end; it never skips it.
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
from harness.bounded import call_within
from harness.client import InferenceClient, client_for
from harness.compat import deploy_compat
from harness.config import HarnessConfig
from harness.errors import (
    EXIT_FAILED,
    EXIT_INFRA,
    EXIT_INTERRUPTED,
    EXIT_PASSED,
    ConfigError,
    HarnessError,
    InfrastructureError,
    WaitTimeout,
)
from harness.models import CheckResult, CheckStatus, Endpoint, PipelineRun, RunStatus
from harness.preflight import read_inputs
from harness.redact import redact, register_config_secrets
from harness.reports.writer import ReportWriteError, ReportWriter, create_report_dir
from harness.targets import Target, TargetContext, make_target

if TYPE_CHECKING:
    from harness.load.run import LocalLoad

OnCheck = Callable[[CheckResult], None]


def default_report_dir(base: str | Path = "reports") -> Path:
    """A new, empty ``base/<timestamp>[-n]`` directory, created atomically (never shared)."""
    return create_report_dir(None, base)


BASELINE_CHECKS = ("baseline.p95", "baseline.p99", "baseline.error_rate")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How the steps ended: the run's status, exit code and error line."""

    status: RunStatus
    code: int
    error: str | None = None


INTERRUPTED = Verdict(RunStatus.INTERRUPTED, EXIT_INTERRUPTED, "interrupted")


@dataclasses.dataclass
class RunOutcome:
    """What a run ended with: the final report and the process exit code."""

    report: dict[str, Any]
    exit_code: int
    report_dir: Path


class ValidationRun:
    """Drives one run. Use :func:`run_validation` unless you need the pieces (fixtures do).

    Args:
        cfg: the run's settings.
        report_dir: where everything is written (default ``reports/<timestamp>``).
        progress: called with a short line as long work moves on.
        on_check: called with each check result as it lands.
    """

    def __init__(
        self,
        cfg: HarnessConfig,
        report_dir: Path | None = None,
        progress: Callable[[str], None] | None = None,
        on_check: OnCheck | None = None,
    ) -> None:
        register_config_secrets(cfg)  # before anything (report, argv, logs) is written
        self.cfg = cfg
        self.inputs = read_inputs(cfg)  # a bad golden or baseline file: exit 2 before any work
        self.report_dir = create_report_dir(report_dir or (Path(cfg.core.report_dir) if cfg.core.report_dir else None))
        self.progress = progress or (lambda _msg: None)
        self.on_check = on_check or (lambda _c: None)
        self.report = ReportWriter(self.report_dir, cfg.core.target, cfg.as_dict())
        try:
            self.target: Target = make_target(TargetContext(cfg, self.report_dir, self.progress))
        except BaseException as exc:  # the report must not stay ``running``
            failed = exc if isinstance(exc, HarnessError) else None
            self._finish(Verdict(RunStatus.ERROR, failed.exit_code if failed else EXIT_FAILED, f"{type(exc).__name__}: {exc}"))
            raise
        self.pipeline_run: PipelineRun | None = None
        self.endpoint: Endpoint | None = None
        self._load: LocalLoad | None = None  # prestarted locust, released by load()

    # --- bookkeeping -------------------------------------------------------------------------
    def record(self, result: CheckResult) -> CheckResult:
        self.report.add_check(result)
        self.on_check(result)
        procs.check_interrupted()  # a Ctrl-C that was lost on its way still stops the run here
        return result

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except BaseException:
            with contextlib.suppress(ReportWriteError):  # the error in flight says more than a full disk
                self.report.phase(name, time.perf_counter() - started)
            raise
        self.report.phase(name, time.perf_counter() - started)

    def skip(self, names: list[str], reason: str) -> None:
        for name in names:
            self.record(CheckResult(name, CheckStatus.SKIPPED, reason))

    # --- steps -------------------------------------------------------------------------------
    def provision(self) -> None:
        with self.phase("provision"):
            self.progress(f"provisioning the {self.cfg.core.target} target")
            self.target.provision()

    def build_pipeline(self) -> Path | None:
        """``pipeline.compile`` and ``pipeline.lint``; the compiled package, or None."""
        from importlib import metadata

        from harness.pipelines.compile import PipelineCompileError, compile_pipeline
        from harness.pipelines.lint import has_errors, lint_spec

        with self.phase("compile"):
            self.progress("compiling the pipeline")
            started = time.perf_counter()
            try:
                compiled = compile_pipeline(self.cfg.core.pipeline, self.report_dir, self.cfg.core.compile_timeout)
            except PipelineCompileError as exc:
                source_findings = [f.as_dict() for f in exc.findings]
                self.report.set("lint", source_findings)
                self.record(CheckResult("pipeline.compile", CheckStatus.FAILED, str(exc), round(time.perf_counter() - started, 3), {"findings": source_findings}))
                self.record(CheckResult("pipeline.lint", CheckStatus.FAILED if source_findings else CheckStatus.SKIPPED, f"{len(source_findings)} finding(s) in the source" if source_findings else "nothing compiled to lint", 0.0, {"findings": source_findings}))
                return None
            self.record(CheckResult("pipeline.compile", CheckStatus.PASSED, f"compiled {compiled.source} to {compiled.path.name}", round(time.perf_counter() - started, 3), {"package": str(compiled.path), "pipeline": compiled.name}))
        with self.phase("lint"):
            findings = list(compiled.findings) + lint_spec(compiled.spec, metadata.version("kfp"))
            data = [f.as_dict() for f in findings]
            self.report.set("lint", data)
            counts = {s: sum(1 for f in data if f["severity"] == s) for s in ("error", "warning", "info")}
            summary = ", ".join(f"{n} {s}(s)" for s, n in counts.items() if n) or "no findings"
            status = CheckStatus.FAILED if has_errors(findings) else CheckStatus.PASSED
            first_error = next((str(f) for f in findings if f.severity.value == "error"), "")
            self.record(CheckResult("pipeline.lint", status, summary + (f"; first: {first_error}" if first_error else ""), 0.0, {"findings": data, "counts": counts}))
        return compiled.path

    def run_pipeline(self, package: Path) -> PipelineRun | None:
        _warm_up_verification()
        with self.phase("pipeline"):
            started = time.perf_counter()
            try:
                run = self.target.run_pipeline(package)
            except WaitTimeout as exc:
                self.record(CheckResult("pipeline.run", CheckStatus.FAILED, str(exc), round(time.perf_counter() - started, 3)))
                return None
            self.pipeline_run = run
            self.report.set("pipeline", run.as_dict())
            tasks = ", ".join(f"{t.name}={t.state.value}" for t in run.tasks)
            if run.succeeded:
                acc = run.metrics.get("accuracy")
                extra = f", held-out accuracy {acc:.4f}" if acc is not None else ""
                self.record(CheckResult("pipeline.run", CheckStatus.PASSED, f"{len(run.tasks)} tasks succeeded in {run.duration_s:.1f}s{extra}", run.duration_s, {"tasks": tasks, "run_id": run.run_id}))
                return run
            self.record(CheckResult("pipeline.run", CheckStatus.FAILED, f"{run.message or 'run failed'} ({tasks})", run.duration_s, {"tasks": tasks, "run_id": run.run_id}))
            return None

    def deploy(self, run: PipelineRun | None) -> Endpoint | None:
        with self.phase("deploy"):
            started = time.perf_counter()
            try:
                endpoint = self.target.deploy(run)
            except (WaitTimeout, InfrastructureError) as exc:
                if not isinstance(exc, WaitTimeout) and self.cfg.core.target in ("kind", "minikube", "kubeconfig"):
                    raise
                self.record(CheckResult("deploy.ready", CheckStatus.FAILED, str(exc), round(time.perf_counter() - started, 3)))
                return None
            self.endpoint = endpoint
            self.report.set("endpoint", endpoint.as_dict())
            found = endpoint.readiness or "ready over " + " and ".join(p.upper() for p in endpoint.protocols)
            message = f"{endpoint.model_name} at {endpoint.base_url}: {found}"
            self.record(CheckResult("deploy.ready", CheckStatus.PASSED, message, round(time.perf_counter() - started, 3), {"protocols": list(endpoint.protocols)}))
            return endpoint

    def verify(self, endpoint: Endpoint) -> None:
        from harness import verify

        with self.phase("verify"), self.client(endpoint) as client:
            self.progress("verifying predictions")
            cases = [verify.SEED_CASE, *self.inputs.golden_cases]
            self.record(verify.check_golden(client, cases))
            self.record(verify.check_accuracy(client, self.cfg.core.min_accuracy))
            self.record(verify.check_parity(client, self.model_artifact()))
            self.record(verify.check_protocols(client))

    def model_artifact(self) -> Path | None:
        if self.cfg.endpoint.model_artifact:
            return Path(self.cfg.endpoint.model_artifact)
        return self.target.model_artifact()

    def client(self, endpoint: Endpoint) -> InferenceClient:
        """A client with the run's settings; class names from the settings, else the artifact's."""
        from harness.verify import artifact_labels

        return client_for(endpoint, self.cfg, () if self.cfg.endpoint.labels else artifact_labels(self.model_artifact()))

    def robustness(self, endpoint: Endpoint) -> None:
        from harness.robustness import run_robustness

        with self.phase("robustness"), self.client(endpoint) as client:
            self.progress("robustness: property-based inputs")
            for result in run_robustness(client, self.cfg, self.model_artifact(), self.report_dir):
                self.record(result)

    def _prestart_load(self, endpoint: Endpoint) -> None:
        """Start locust while verify and robustness run: its import (~1 s) is off the load phase."""
        if self.cfg.load.enabled and not self.cfg.cluster.load_in_cluster:
            from harness.load.run import LocalLoad

            self._load = LocalLoad.for_endpoint(endpoint, self.cfg, self.report_dir)
            self._load.prestart()

    def load(self, endpoint: Endpoint) -> None:
        from harness.load import run_load
        from harness.slo import compare_baseline, evaluate_slos

        in_cluster = getattr(self.target, "run_load_in_cluster", None) if self.cfg.cluster.load_in_cluster else None
        if self.cfg.cluster.load_in_cluster and in_cluster is None:
            raise ConfigError(f"needs a cluster target, not {self.cfg.core.target}", "load_in_cluster")
        with self.phase("load"):
            if in_cluster is not None:
                result = in_cluster(endpoint, self.cfg, self.report_dir, self.progress)
            elif self._load is not None:
                load, self._load = self._load, None
                result = load.run(self.progress)
            else:
                result = run_load(endpoint, self.cfg, self.report_dir, progress=self.progress)
            self.report.set("load", result.as_dict())
        for check in evaluate_slos(result, self.cfg.slo):
            self.record(check)
        self.report.set("slo", [c.as_dict() for c in self.report.checks() if c.name.startswith("slo.")])
        if self.inputs.baseline is not None:
            comparison, checks = compare_baseline(self.report.data, self.inputs.baseline, self.cfg.slo.baseline_tolerance)
            self.report.set("baseline", comparison.as_dict())
            for check in checks:
                self.record(check)

    # --- the whole line ----------------------------------------------------------------------
    def execute(self) -> RunOutcome:
        """Run every step, then :meth:`_end`: teardown and the final report, whatever happened."""
        verdict = INTERRUPTED  # if even the steps' own handlers were interrupted
        try:
            verdict = self._steps()
        finally:
            verdict = self._end(verdict)
        return RunOutcome(self.report.data, verdict.code, self.report_dir)

    def _steps(self) -> Verdict:
        try:
            self.provision()
            run: PipelineRun | None = None
            package: Path | None = None
            if self.target.runs_pipelines:
                package = self.build_pipeline()
                run = self.run_pipeline(package) if package else None
                if run is None:
                    self.skip(["pipeline.run"] if package is None else [], "the pipeline did not compile")
            ok_to_deploy = run is not None or not self.target.runs_pipelines
            if ok_to_deploy:  # train/serve compatibility (harness/compat.py), before the deploy it predicts
                self.record(deploy_compat(self.target, self.model_artifact(), package))
            endpoint = self.deploy(run) if ok_to_deploy else None
            if endpoint is None:
                names = ([] if ok_to_deploy else ["deploy.ready"]) + ["predict.golden", "predict.accuracy", "predict.parity", "predict.protocols"]
                self.skip(names, "no endpoint to verify")
            else:
                self._prestart_load(endpoint)
                self.verify(endpoint)
                if self.cfg.robustness.enabled:
                    self.robustness(endpoint)
                if self.cfg.load.enabled:
                    self.load(endpoint)
            if not self.cfg.load.enabled and self.inputs.baseline is not None:
                self.skip(list(BASELINE_CHECKS), "no load figures to compare with the baseline: load is off (--no-load)")
            if any(c.failed for c in self.report.checks()):
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

    def _end(self, verdict: Verdict) -> Verdict:
        """The one place a run ends: stop what runs, diagnose, tear down, finish the report.

        Signals no longer raise here (:func:`procs.cleaning_up`); a second one hurries the
        end (diagnostics cut short, children killed without grace). A KeyboardInterrupt that
        slipped in before the shield was up starts the end again, hurried.
        """
        hurried = False
        for _attempt in range(3):
            try:
                with procs.cleaning_up(hurried) as hurry:
                    return self._close(verdict, hurry)
            except KeyboardInterrupt:
                hurried = True
        return self._finish(verdict)

    def _close(self, verdict: Verdict, hurry: threading.Event) -> Verdict:
        cleanup: dict[str, Any] = {}
        with contextlib.suppress(ReportWriteError):  # the verdict on disk first: a SIGKILL from here on still leaves it
            self.report.finish(verdict.status, verdict.code, redact(verdict.error) if verdict.error else None)
        try:
            if self._load is not None:  # prestarted, and the run never got to the load phase
                self._load.stop()
                self._load = None
        except Exception as exc:  # noqa: BLE001 - nothing in the cleanup may skip the report
            cleanup["load"] = f"stopping locust failed: {exc}"
        if verdict.status is not RunStatus.PASSED:
            cleanup["diagnostics"] = self._diagnostics(hurry)
        if self.cfg.core.keep and verdict.status is RunStatus.PASSED:
            cleanup["teardown"] = "skipped: keep is set"
        else:
            started = time.perf_counter()
            try:
                self.target.teardown()
                cleanup["teardown"] = "hurried by a second signal" if hurry.is_set() else "done"
            except Exception as exc:  # noqa: BLE001 - reported, and the run says so
                cleanup["teardown"] = f"failed: {type(exc).__name__}: {exc}"
                self.progress(f"teardown failed: {exc}")
                if verdict.status is RunStatus.PASSED:  # what was deployed may still be up
                    verdict = Verdict(RunStatus.ERROR, EXIT_INFRA, f"teardown failed: {type(exc).__name__}: {exc}")
            with contextlib.suppress(ReportWriteError):
                self.report.phase("teardown", time.perf_counter() - started)
        with contextlib.suppress(ReportWriteError):
            self.report.set("cleanup", cleanup)
        return self._finish(verdict)

    def _diagnostics(self, hurry: threading.Event) -> str:
        """The target's diagnostics, within ``diagnostics_timeout``; a second signal stops the wait."""
        if hurry.is_set():
            return "skipped: a second signal arrived"
        self.progress("collecting diagnostics")
        done = call_within(lambda: self.target.diagnostics(self.report_dir / "diagnostics"), self.cfg.core.diagnostics_timeout, hurry, "mlharness-diagnostics")
        if done.abandoned or done.error:  # diagnostics must never mask the real failure
            note = done.abandoned or f"failed: {done.error}"
            self.progress(f"diagnostics {note}")
            return note
        files = [str(f) for f in done.value or []]
        with contextlib.suppress(ReportWriteError):
            self.report.set("artifacts", {**self.report.data["artifacts"], "diagnostics": files})
        return f"collected {len(files)} file(s)"

    def _finish(self, verdict: Verdict) -> Verdict:
        """Final status, exit code and rendered views; a report that cannot be written is exit 3."""
        try:
            self.report.finish(verdict.status, verdict.code, redact(verdict.error) if verdict.error else None)
        except ReportWriteError as exc:
            self.progress(str(exc))
            self.report.close()
            code = verdict.code if verdict.code not in (EXIT_PASSED, EXIT_FAILED) else EXIT_INFRA
            return Verdict(RunStatus.ERROR, code, str(exc))
        self._render()
        self.report.close()
        return verdict

    def _render(self) -> None:
        try:
            from harness.reports.render import render_all

            files = render_all(self.report_dir)
            self.report.set("artifacts", {**self.report.data["artifacts"], **{p.suffix.lstrip('.') or p.name: str(p) for p in files}})
        except Exception as exc:  # noqa: BLE001 - a broken template or a full disk must not lose the JSON truth
            self.progress(f"rendering the reports failed: {exc}")


def _warm_up_verification() -> None:
    """Import scikit-learn and load the iris rows while the pipeline runs (the harness only waits)."""
    from harness.verify import iris_rows

    threading.Thread(target=iris_rows, name="mlharness-warm-up", daemon=True).start()


def run_validation(
    cfg: HarnessConfig,
    report_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    on_check: OnCheck | None = None,
) -> RunOutcome:
    """Run a whole validation and return its outcome (never raises for a failed check)."""
    return ValidationRun(cfg, report_dir, progress, on_check).execute()
