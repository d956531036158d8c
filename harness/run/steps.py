"""The steps that produce what checks need, each recording its own checks as it goes.

``package`` (compile + lint: ``pipeline.compile``, ``pipeline.lint``), ``pipeline`` (the run:
``pipeline.run``), ``endpoint`` (``deploy.compat``, then the deploy: ``deploy.ready``),
``load`` (the load window) and ``comparison`` (the baseline). :class:`harness.run.runner.ValidationRun`
calls each the first time a check needs it; a step that cannot deliver raises
:class:`~harness.checks.Unavailable` with the reason the checks that need it are skipped for.
"""

from __future__ import annotations

import threading
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks import Unavailable
from harness.errors import InfrastructureError, WaitTimeout
from harness.results import CheckResult, CheckStatus, Endpoint, PipelineRun

if TYPE_CHECKING:
    from harness.load.capacity import CapacityResult
    from harness.load.resources import Series
    from harness.load.results import LoadResult
    from harness.run.runner import ValidationRun


def package(run: ValidationRun) -> Path:
    """Compile and lint the pipeline: ``pipeline.compile``, ``pipeline.lint``; the compiled package."""
    from harness.pipelines.compile import PipelineCompileError, compile_pipeline
    from harness.pipelines.lint import has_errors, lint_spec

    target = run.require("target")
    if not target.runs_pipelines:
        raise Unavailable(f"the {target.name} target runs no pipeline")
    with run.phase("compile"):
        run.progress("compiling the pipeline")
        started = time.perf_counter()
        try:
            compiled = compile_pipeline(run.cfg.core.pipeline, run.report_dir, run.cfg.core.compile_timeout)
        except PipelineCompileError as exc:
            run.record.lint = list(exc.findings)
            details = {"findings": [f.as_dict() for f in exc.findings]}
            run.add(CheckResult("pipeline.compile", CheckStatus.FAILED, str(exc), round(time.perf_counter() - started, 3), details))
            lint = (CheckResult("pipeline.lint", CheckStatus.FAILED, f"{len(exc.findings)} finding(s) in the source", 0.0, details)
                    if exc.findings else CheckResult("pipeline.lint", CheckStatus.SKIPPED, "nothing compiled to lint"))
            run.add(lint)
            raise Unavailable("the pipeline did not compile", failed=True) from None
        run.add(CheckResult("pipeline.compile", CheckStatus.PASSED, f"compiled {compiled.source} to {compiled.path.name}",
                            round(time.perf_counter() - started, 3), {"package": str(compiled.path), "pipeline": compiled.name}))
    with run.phase("lint"):
        findings = list(compiled.findings) + lint_spec(compiled.spec, metadata.version("kfp"))
        run.record.lint = findings
        counts = {s: sum(1 for f in findings if f.severity.value == s) for s in ("error", "warning", "info")}
        summary = ", ".join(f"{n} {s}(s)" for s, n in counts.items() if n) or "no findings"
        first_error = next((str(f) for f in findings if f.severity.value == "error"), "")
        status = CheckStatus.FAILED if has_errors(findings) else CheckStatus.PASSED
        run.add(CheckResult("pipeline.lint", status, summary + (f"; first: {first_error}" if first_error else ""), 0.0,
                            {"findings": [f.as_dict() for f in findings], "counts": counts}))
    return compiled.path


def pipeline(run: ValidationRun) -> PipelineRun:
    """Run the compiled pipeline on the target: ``pipeline.run``."""
    compiled = run.require("package")
    _warm_up_verification()
    with run.phase("pipeline"):
        started = time.perf_counter()
        try:
            result = run.target.run_pipeline(compiled)
        except WaitTimeout as exc:
            run.add(CheckResult("pipeline.run", CheckStatus.FAILED, str(exc), round(time.perf_counter() - started, 3)))
            raise Unavailable("the pipeline run did not finish", failed=True) from None
        run.record.pipeline = result
        tasks = ", ".join(f"{t.name}={t.state.value}" for t in result.tasks)
        details = {"tasks": tasks, "run_id": result.run_id}
        if not result.succeeded:
            run.add(CheckResult("pipeline.run", CheckStatus.FAILED, f"{result.message or 'run failed'} ({tasks})", result.duration_s, details))
            raise Unavailable("the pipeline run failed", failed=True)
        accuracy = result.metrics.get("accuracy")
        extra = f", held-out accuracy {accuracy:.4f}" if accuracy is not None else ""
        run.add(CheckResult("pipeline.run", CheckStatus.PASSED, f"{len(result.tasks)} tasks succeeded in {result.duration_s:.1f}s{extra}",
                            result.duration_s, details))
    return result


def artifact(run: ValidationRun) -> Path | None:
    """The trained model as local files: ``model_artifact``, else the target's copy, else None."""
    if run.cfg.endpoint.model_artifact:
        return Path(run.cfg.endpoint.model_artifact)
    target = run.require("target")
    if target.runs_pipelines:
        try:
            run.require("pipeline")
        except Unavailable:
            return None
    model: Path | None = target.model_artifact()
    return model


def endpoint(run: ValidationRun) -> Endpoint:
    """``deploy.compat``, then deploy (or reach) the model: ``deploy.ready``; the ready endpoint."""
    from harness.checks.compat import deploy_compat

    target = run.require("target")
    result: PipelineRun | None = None
    if target.runs_pipelines:
        try:
            result = run.require("pipeline")
        except Unavailable as exc:
            raise Unavailable(f"no model to deploy: {exc}", failed=exc.failed) from None
    compiled = run.resource("package")
    artifact_path = run.require("artifact")
    if result is not None and artifact_path is not None:  # a trained model that contradicts the contract: exit 2, before the deploy
        from harness.contract.resolve import hold_against_artifact

        hold_against_artifact(run.inputs.contract, artifact_path)
    run.add(deploy_compat(target, artifact_path, compiled))  # train/serve compatibility, before the deploy it predicts
    with run.phase("deploy"):
        started = time.perf_counter()
        try:
            ready = target.deploy(result)
        except (WaitTimeout, InfrastructureError) as exc:
            if not isinstance(exc, WaitTimeout) and target.deploy_failure_is_infrastructure:
                raise
            run.add(CheckResult("deploy.ready", CheckStatus.FAILED, str(exc), round(time.perf_counter() - started, 3)))
            raise Unavailable("the model did not get ready", failed=True) from None
    run.record.endpoint = ready
    found = ready.readiness or "ready over " + " and ".join(p.upper() for p in ready.protocols)
    run.add(CheckResult("deploy.ready", CheckStatus.PASSED, f"{ready.model_name} at {ready.base_url}: {found}",
                        round(time.perf_counter() - started, 3), {"protocols": list(ready.protocols)}))
    if run.prestart_load and run.cfg.load.enabled:  # locust's import (~1 s) off the load phase
        run.load_generator = target.load_generator(ready)
        run.load_generator.prestart()
    return ready


def _endpoint_to(what: str, run: ValidationRun) -> Endpoint:
    """The ready endpoint for a step that drives traffic; without one, why there is ``nothing to <what>``."""
    try:
        return run.require("endpoint")
    except Unavailable as exc:
        raise Unavailable(f"nothing to {what}: {exc}", failed=exc.failed) from None


def load(run: ValidationRun) -> LoadResult:
    """The load window, from where the target puts the generator; the figures go into the record."""
    if not run.cfg.load.enabled:
        raise Unavailable("load is off (--no-load)")
    ready = _endpoint_to("load", run)
    generator, run.load_generator = run.load_generator, None
    if generator is None:
        generator = run.target.load_generator(ready)
    monitor = _resource_monitor(run)
    with run.phase("load"):
        if monitor is not None:
            monitor.start()
        try:
            result = generator.run(run.progress)
        finally:
            if monitor is not None:
                run.record.resources = monitor.stop()
    run.record.load = result
    run.flush()
    return result


def _resource_monitor(run: ValidationRun) -> Any:
    """What samples the server during the load window: the target's ``resource_monitor()`` (an
    optional hook: a :class:`harness.load.resources.Sampler`-like object with ``start()`` and
    ``stop() -> Series``), or None, with the reason put in the record."""
    from harness.load.resources import Series

    if not run.cfg.resources.sample:
        return None
    hook = getattr(run.target, "resource_monitor", None)
    monitor = hook() if hook is not None else None
    if monitor is None:
        run.record.resources = Series((), (), (), (), source="none",
                                      note=f"the {run.target.name} target has no server process or pod metrics to sample")
    return monitor


def resources(run: ValidationRun) -> Series:
    """The server's CPU and RSS series sampled during the load window (``slo.rss_growth``)."""
    run.require("load")
    series = run.record.resources
    if series is None or not series.t_s:
        raise Unavailable(f"no server resource series: {series.note if series is not None and series.note else 'nothing was sampled'}")
    return series


def capacity(run: ValidationRun) -> CapacityResult:
    """The capacity search (:mod:`harness.load.rate_steps`) against the endpoint; the record's ``capacity`` section."""
    from harness.load.rate_steps import search_capacity

    if not run.cfg.capacity.enabled:
        raise Unavailable("the capacity search is off (--capacity, or mlharness capacity)")
    ready = _endpoint_to("search", run)
    generator = run.target.load_generator(ready)
    plan = getattr(generator, "plan", None)
    if plan is None:  # the target drives its load elsewhere (locust Jobs in the cluster)
        raise Unavailable(f"the capacity search drives locust from this host; the {run.target.name} target's load runs elsewhere "
                          "(turn load_in_cluster off)")
    with run.phase("capacity"):
        run.progress("capacity: searching the highest rate that holds the SLO")
        result = search_capacity(plan, run.cfg, run.report_dir / "capacity", getattr(generator, "via", "direct"), run.progress)
    run.record.capacity = result
    run.flush()
    return result


def baseline(run: ValidationRun) -> dict[str, Any]:
    if run.inputs.baseline is None:
        raise Unavailable("no baseline to compare with (--baseline REPORT.json)")
    return run.inputs.baseline


def comparison(run: ValidationRun) -> dict[str, CheckResult]:
    """The load figures against the baseline's: the record's ``baseline`` section; the checks by name."""
    from harness.checks.slo import compare_baseline

    reference = run.require("baseline")
    if not run.cfg.load.enabled:
        raise Unavailable("no load figures to compare with the baseline: load is off (--no-load)")
    figures = run.require("load")
    result, checks = compare_baseline({"load": figures.as_dict()}, reference, run.cfg.slo.baseline_tolerance)
    run.record.baseline = result
    run.flush()
    return {c.name: c for c in checks}


def _warm_up_verification() -> None:
    """Import scikit-learn and load the iris rows while the pipeline runs (the harness only waits)."""
    from harness.contract.golden import iris_rows

    threading.Thread(target=iris_rows, name="mlharness-warm-up", daemon=True).start()


PRODUCERS = {
    "package": package,
    "pipeline": pipeline,
    "artifact": artifact,
    "endpoint": endpoint,
    "load": load,
    "baseline": baseline,
    "comparison": comparison,
    "capacity": capacity,
    "resources": resources,
}
