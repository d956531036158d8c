"""The steps that produce what checks need. A step returns what it produced (:class:`Produced`):
the need's value, the checks it decided on the way and what it measured for the record; the run
records them (:class:`harness.run.runner.ValidationRun` is the record's only writer).

``package`` (compile + lint: ``pipeline.compile``, ``pipeline.lint``), ``pipeline`` (the run:
``pipeline.run``), ``compat`` (``deploy.compat``, before the deploy it predicts), ``endpoint``
(the deploy: ``deploy.ready``), ``load`` (the load window and the server's resources),
``capacity`` (the search) and ``comparison`` (the baseline). The run calls each the first time
something needs it; a step that cannot deliver raises :class:`~harness.checks.Unavailable` with
the reason the checks that need it are skipped for, or :class:`StepFailed` with the failed
checks it decided.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from harness.checks import Unavailable
from harness.config import HarnessConfig
from harness.errors import InfrastructureError, WaitTimeout
from harness.record import Measured, RunRecord
from harness.results import CheckResult, CheckStatus, Endpoint, PipelineRun

if TYPE_CHECKING:
    from harness.checks import RunInputs
    from harness.checks.slo import BaselineRun
    from harness.load.capacity import CapacityResult
    from harness.load.resources import Series
    from harness.load.results import LoadResult
    from harness.targets.base import LoadGenerator, ResourceMonitor, Target

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Produced(Generic[T]):
    """What a step produced: the need's ``value``, the ``checks`` it decided (``pipeline.run``...)
    and what it ``measured`` for the record's sections."""

    value: T
    checks: tuple[CheckResult, ...] = ()
    measured: Measured = Measured()


class StepFailed(Unavailable):
    """A step failed: the checks it decided (one failed, at least) and what it measured before."""

    def __init__(self, reason: str, checks: Iterable[CheckResult], measured: Measured | None = None) -> None:
        super().__init__(reason, failed=True)
        self.checks = tuple(checks)
        self.measured = measured or Measured()


class StepRun(Protocol):
    """What a step reads of the run (the run itself; declared here, so steps never import the runner).
    ``record`` is there to be read: only the run writes it."""

    cfg: HarnessConfig
    inputs: RunInputs
    report_dir: Path
    target: Target
    progress: Callable[[str], None]

    @property
    def record(self) -> RunRecord: ...

    def require(self, need: str) -> Any: ...

    def resource(self, need: str) -> Any: ...

    def phase(self, name: str) -> AbstractContextManager[None]: ...

    def load_generator(self, endpoint: Endpoint) -> LoadGenerator: ...


def _elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def package(run: StepRun) -> Produced[Path]:
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
            details = {"findings": [f.as_dict() for f in exc.findings]}
            failed = CheckResult("pipeline.compile", CheckStatus.FAILED, str(exc), _elapsed(started), details)
            lint = (CheckResult("pipeline.lint", CheckStatus.FAILED, f"{len(exc.findings)} finding(s) in the source", 0.0, details)
                    if exc.findings else CheckResult("pipeline.lint", CheckStatus.SKIPPED, "nothing compiled to lint"))
            raise StepFailed("the pipeline did not compile", (failed, lint), Measured(lint=tuple(exc.findings))) from None
        tasks = _spec_tasks(compiled.spec)
        done = CheckResult("pipeline.compile", CheckStatus.PASSED, f"compiled {compiled.source} to {compiled.path.name}",
                           _elapsed(started), {"package": str(compiled.path), "pipeline": compiled.name}
                           ).with_evidence({"packages": 1, "tasks": tasks}, say=True)
    with run.phase("lint"):
        findings = list(compiled.findings) + lint_spec(compiled.spec, metadata.version("kfp"))
        counts = {s: sum(1 for f in findings if f.severity.value == s) for s in ("error", "warning", "info")}
        summary = ", ".join(f"{n} {s}(s)" for s, n in counts.items() if n) or "no findings"
        first_error = next((str(f) for f in findings if f.severity.value == "error"), "")
        status = CheckStatus.FAILED if has_errors(findings) else CheckStatus.PASSED
        lint = CheckResult("pipeline.lint", status, summary + (f"; first: {first_error}" if first_error else ""), 0.0,
                           {"findings": [f.as_dict() for f in findings], "counts": counts}).with_evidence({"tasks": tasks}, say=True)
    return Produced(compiled.path, (done, lint), Measured(lint=tuple(findings)))


def pipeline(run: StepRun) -> Produced[PipelineRun]:
    """Run the compiled pipeline on the target: ``pipeline.run``."""
    compiled = run.require("package")
    _warm_up_verification()
    with run.phase("pipeline"):
        started = time.perf_counter()
        try:
            result = run.target.run_pipeline(compiled)
        except WaitTimeout as exc:
            raise StepFailed("the pipeline run did not finish", [CheckResult("pipeline.run", CheckStatus.FAILED, str(exc), _elapsed(started))]) from None
        tasks = _task_states(result)
        details = {"tasks": tasks, "run_id": result.run_id}
        if not result.succeeded:
            failed = CheckResult("pipeline.run", CheckStatus.FAILED, f"{result.message or 'run failed'} ({tasks})", result.duration_s, details)
            raise StepFailed("the pipeline run failed", [failed], Measured(pipeline=result))
        accuracy = result.metrics.get("accuracy")
        extra = f", held-out accuracy {accuracy:.4f}" if accuracy is not None else ""
        done = CheckResult("pipeline.run", CheckStatus.PASSED, f"{len(result.tasks)} tasks succeeded in {result.duration_s:.1f}s{extra}",
                           result.duration_s, details).with_evidence({"tasks": len(result.tasks)})
    return Produced(result, (done,), Measured(pipeline=result))


def _task_states(result: PipelineRun) -> str:
    """``train=succeeded, evaluate=failed``: a run's tasks as its messages show them."""
    return ", ".join(f"{t.name}={t.state.value}" for t in result.tasks)


def artifact(run: StepRun) -> Produced[Path | None]:
    """The trained model as local files: ``model_artifact``, else the target's copy, else None."""
    if run.cfg.endpoint.model_artifact:
        return Produced(Path(run.cfg.endpoint.model_artifact))
    target = run.require("target")
    if target.runs_pipelines:
        try:
            run.require("pipeline")
        except Unavailable:
            return Produced(None)
    return Produced(target.model_artifact())


def compat(run: StepRun) -> Produced[None]:
    """Before the deploy it predicts: the model to deploy (the pipeline's, where the target runs
    one) held against the contract, and ``deploy.compat`` (will the server load what was trained)."""
    from harness.checks.compat import deploy_compat

    target = run.require("target")
    result: PipelineRun | None = None
    if target.runs_pipelines:
        try:
            result = run.require("pipeline")
        except Unavailable as exc:
            raise Unavailable(f"no model to deploy: {exc}", failed=exc.failed) from None
    artifact_path = run.require("artifact")
    if result is not None and artifact_path is not None:  # a trained model that contradicts the contract: exit 2, before the deploy
        from harness.contract.resolve import hold_against_artifact

        hold_against_artifact(run.inputs.contract, artifact_path)
    checked = deploy_compat(target.serving_runtime(), target.serves_with_this_python, artifact_path, run.resource("package"))
    return Produced(None, (checked.with_evidence({"versions": _versions_compared(checked.details)}, say=checked.status is CheckStatus.PASSED),))


def _versions_compared(details: Any) -> int:
    """How many versions (scikit-learn, Python, numpy) ``deploy.compat`` held against the server's: known on both sides."""
    trained, serving = details.get("trained"), details.get("serving")
    if not isinstance(trained, dict) or not isinstance(serving, dict):
        return 0
    return sum(1 for key in ("sklearn", "python", "numpy") if trained.get(key) is not None and serving.get(key) is not None)


def _spec_tasks(spec: Any) -> int:
    """The tasks of a compiled pipeline's root DAG (KFP v2 IR: ``root.dag.tasks``)."""
    root = spec.get("root") if isinstance(spec, dict) else None
    dag = root.get("dag") if isinstance(root, dict) else None
    tasks = dag.get("tasks") if isinstance(dag, dict) else None
    return len(tasks) if isinstance(tasks, dict) else 0


def endpoint(run: StepRun) -> Produced[Endpoint]:
    """Deploy (or reach) the model, after ``compat``: ``deploy.ready``; the ready endpoint."""
    run.require("compat")
    target = run.require("target")
    result: PipelineRun | None = run.require("pipeline") if target.runs_pipelines else None
    with run.phase("deploy"):
        started = time.perf_counter()
        try:
            ready = target.deploy(result)
        except (WaitTimeout, InfrastructureError) as exc:
            if not isinstance(exc, WaitTimeout) and target.deploy_failure_is_infrastructure:
                raise
            raise StepFailed("the model did not get ready", [CheckResult("deploy.ready", CheckStatus.FAILED, str(exc), _elapsed(started))]) from None
    found = ready.readiness or "ready over " + " and ".join(p.upper() for p in ready.protocols)
    ready = _with_signature(run, ready)  # a signature that contradicts the contract: exit 2, before any request
    done = CheckResult("deploy.ready", CheckStatus.PASSED, f"{ready.model_name} at {ready.base_url}: {found}",
                       _elapsed(started), {"protocols": list(ready.protocols),
                                           "signature": ready.signature.as_dict() if ready.signature is not None else None},
                       ).with_evidence({"protocols": len(ready.protocols)}, say=True)
    return Produced(ready, (done,), Measured(endpoint=ready))


def _with_signature(run: StepRun, ready: Endpoint) -> Endpoint:
    """``ready`` with the model's signature (:mod:`harness.contract.signature`): the server's
    metadata, the settings and the contract, checked against each other."""
    from harness.contract.signature import Explicit, describe, resolve_signature
    from harness.inference.client import InferenceClient

    with InferenceClient(ready, run.cfg.core.request_timeout, max_bytes=run.cfg.endpoint.max_response_bytes) as client:
        signature = resolve_signature(run.inputs.contract, client, ready.protocols, Explicit.from_config(run.cfg))
    run.progress(f"signature: {describe(signature)}")
    return dataclasses.replace(ready, signature=signature)


def _endpoint_to(what: str, run: StepRun) -> Endpoint:
    """The ready endpoint for a step that drives traffic; without one, why there is ``nothing to <what>``."""
    try:
        ready: Endpoint = run.require("endpoint")
    except Unavailable as exc:
        raise Unavailable(f"nothing to {what}: {exc}", failed=exc.failed) from None
    return ready


def load(run: StepRun) -> Produced[LoadResult]:
    """The load window, from where the target puts the generator; the server's resources sampled meanwhile."""
    if not run.cfg.load.enabled:
        raise Unavailable("load is off (--no-load)")
    generator = run.load_generator(_endpoint_to("load", run))
    monitor, series = _resource_monitor(run)
    with run.phase("load"):
        if monitor is not None:
            monitor.start()
        try:
            result = generator.run(run.progress)
        finally:
            if monitor is not None:
                series = monitor.stop()
    return Produced(result, measured=Measured(load=result, resources=series))


def _resource_monitor(run: StepRun) -> tuple[ResourceMonitor | None, Series | None]:
    """What samples the server during the load window (the target's ``resource_monitor()``); without
    one, the empty series that says why (None: sampling is off)."""
    from harness.load.resources import Series

    if not run.cfg.resources.sample:
        return None, None
    monitor = run.target.resource_monitor()
    if monitor is None:
        return None, Series((), (), (), (), source="none", note=f"the {run.target.name} target has no server process or pod metrics to sample")
    return monitor, None


def resources(run: StepRun) -> Produced[Series]:
    """The server's CPU and RSS series sampled during the load window (``slo.rss_growth``)."""
    run.require("load")
    series = run.record.resources
    if series is None or not series.t_s:
        raise Unavailable(f"no server resource series: {series.note if series is not None and series.note else 'nothing was sampled'}")
    return Produced(series)


def capacity(run: StepRun) -> Produced[CapacityResult]:
    """The capacity search (:mod:`harness.load.rate_steps`) against the endpoint; the record's ``capacity`` section."""
    from harness.load.rate_steps import search_capacity

    if not run.cfg.capacity.enabled:
        raise Unavailable("the capacity search is off (--capacity, or mlharness capacity)")
    ready = _endpoint_to("search", run)
    generator = run.target.load_generator(ready)  # only its plan: the search starts its own locust per step
    if generator.plan is None:  # the target drives its load elsewhere (locust Jobs in the cluster)
        raise Unavailable(f"the capacity search drives locust from this host; the {run.target.name} target's load runs elsewhere "
                          "(turn load_in_cluster off)")
    with run.phase("capacity"):
        run.progress("capacity: searching the highest rate that holds the SLO")
        result = search_capacity(generator.plan, run.cfg, run.report_dir / "capacity", generator.via, run.progress)
    return Produced(result, measured=Measured(capacity=result))


def baseline(run: StepRun) -> Produced[BaselineRun]:
    """The baseline run (``--baseline REPORT.json``), decoded when the run started."""
    if run.inputs.baseline is None:
        raise Unavailable("no baseline to compare with (--baseline REPORT.json)")
    return Produced(run.inputs.baseline)


def comparison(run: StepRun) -> Produced[dict[str, CheckResult]]:
    """The load figures against the baseline's: the record's ``baseline`` section; the checks by name."""
    from harness.checks.slo import compare_baseline

    reference = run.require("baseline")
    if not run.cfg.load.enabled:
        raise Unavailable("no load figures to compare with the baseline: load is off (--no-load)")
    result, checks = compare_baseline(run.require("load"), reference, run.cfg.slo.baseline_tolerance)
    return Produced({c.name: c for c in checks}, measured=Measured(baseline=result))


def _warm_up_verification() -> None:
    """Import scikit-learn and load the iris rows while the pipeline runs (the harness only waits)."""
    from harness.contract.golden import iris_rows

    threading.Thread(target=iris_rows, name="mlharness-warm-up", daemon=True).start()


@dataclasses.dataclass(frozen=True)
class Candidate:
    """The release diff's candidate, ready; and its model files where known (``candidate_artifact``,
    or what ``candidate_pipeline`` trained), for the signature comparison."""

    endpoint: Endpoint
    artifact: Path | None


def candidate(run: StepRun) -> Produced[Candidate]:
    """The release diff's candidate, ready, with its signature: ``deploy.candidate``. Reached by
    ``candidate_url`` on any target, or served from ``candidate_artifact`` by the target."""
    from harness.targets.candidate import candidate_endpoint, wait_candidate

    d = run.cfg.diff
    if not (d.candidate_url or d.candidate_artifact or d.candidate_pipeline):
        raise Unavailable("no candidate to diff against (--candidate-url, or --candidate-artifact / --candidate-pipeline on the local target)")
    _endpoint_to("diff", run)  # the live side first: its failure blocks the diff
    target = run.require("target")
    artifact = Path(d.candidate_artifact) if d.candidate_artifact else None
    if d.candidate_pipeline:
        artifact = _train_candidate(run, target, d.candidate_pipeline)
    with run.phase("deploy"):
        started = time.perf_counter()
        try:
            ready = (wait_candidate(candidate_endpoint(run.cfg), run.cfg) if d.candidate_url
                     else target.deploy_candidate(artifact or Path()))
        except (WaitTimeout, InfrastructureError) as exc:
            failed = CheckResult("deploy.candidate", CheckStatus.FAILED, f"the candidate did not get ready: {exc}", _elapsed(started))
            raise StepFailed("the candidate did not get ready", [failed]) from None
    ready = _candidate_signature(run, ready)
    found = ready.readiness or "ready over " + " and ".join(p.upper() for p in ready.protocols)
    done = CheckResult("deploy.candidate", CheckStatus.PASSED, f"candidate {ready.model_name} at {ready.base_url}: {found}",
                       _elapsed(started), {"protocols": list(ready.protocols), "description": ready.description,
                                           "signature": ready.signature.as_dict() if ready.signature is not None else None},
                       ).with_evidence({"protocols": len(ready.protocols)}, say=True)
    return Produced(Candidate(ready, artifact), (done,))


def _train_candidate(run: StepRun, target: Any, source: str) -> Path:
    """``candidate_pipeline``: compiled and run apart from the live pipeline (its own directories);
    the model it trained. A compile or run that fails fails ``deploy.candidate`` with its message."""
    from harness.pipelines.compile import PipelineCompileError, compile_pipeline

    started = time.perf_counter()

    def failed(why: str) -> StepFailed:
        return StepFailed("the candidate's pipeline did not train a model",
                          [CheckResult("deploy.candidate", CheckStatus.FAILED, f"the candidate's pipeline {source}: {why}", _elapsed(started))])

    with run.phase("compile"):
        run.progress("compiling the candidate's pipeline")
        try:
            compiled = compile_pipeline(source, run.report_dir / "candidate", run.cfg.core.compile_timeout)
        except PipelineCompileError as exc:
            raise failed(f"did not compile: {exc}") from None
    with run.phase("pipeline"):
        try:
            result = target.train_candidate(compiled.path)
        except WaitTimeout as exc:
            raise failed(f"did not finish: {exc}") from None
    if not result.succeeded:
        raise failed(f"{result.message or 'the run failed'} ({_task_states(result)})")
    if not result.model_uri or not Path(result.model_uri).exists():
        raise failed("the run produced no model (no Output[Model] of a succeeded task)")
    run.progress(f"the candidate's pipeline trained {result.model_uri}")
    return Path(result.model_uri)


def _candidate_signature(run: StepRun, ready: Endpoint) -> Endpoint:
    """The candidate with its signature; a contradiction with the contract is exit 2, naming the candidate."""
    from harness.contract.signature import Explicit, describe, resolve_signature
    from harness.errors import ConfigError
    from harness.inference.client import InferenceClient

    with InferenceClient(ready, run.cfg.core.request_timeout, max_bytes=run.cfg.endpoint.max_response_bytes) as client:
        try:
            signature = resolve_signature(run.inputs.contract, client, ready.protocols, Explicit.from_config(run.cfg))
        except ConfigError as exc:
            raise ConfigError(f"the candidate ({ready.model_name} at {ready.base_url}): {exc}",
                              "candidate_url" if run.cfg.diff.candidate_url else "candidate_artifact") from None
    run.progress(f"candidate signature: {describe(signature)}")
    return dataclasses.replace(ready, signature=signature)


def diff(run: StepRun) -> Produced[Any]:
    """The release diff (:mod:`harness.diff.run`): the same rows to both sides, then interleaved
    latency windows; the record's ``diff`` section. Contradicting signatures: exit 2 before any request."""
    from harness.diff.run import run_diff

    live = _endpoint_to("diff", run)
    other: Candidate = run.require("candidate")
    with run.phase("diff"):
        result = run_diff(run.cfg, run.inputs.contract, live, other.endpoint, run.require("client"), run.require("artifact"),
                          run.progress, candidate_artifact=other.artifact)
    return Produced(result, measured=Measured(diff=result))


PRODUCERS: dict[str, Callable[[StepRun], Produced[Any]]] = {
    "package": package,
    "pipeline": pipeline,
    "artifact": artifact,
    "compat": compat,
    "endpoint": endpoint,
    "load": load,
    "baseline": baseline,
    "comparison": comparison,
    "capacity": capacity,
    "resources": resources,
    "candidate": candidate,
    "diff": diff,
}
