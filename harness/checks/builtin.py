"""The built-in checks, registered in run order. Each is a few lines over the library function
that does the work (:mod:`harness.checks.predict`, :mod:`harness.robustness`, :mod:`harness.checks.slo`),
and declares its evidence: what its result counts in ``details["evidence"]`` (docs/checks.md lists them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from harness.checks import REGISTRY, Check, CheckContext
from harness.config import HarnessConfig
from harness.results import CheckResult, CheckStatus

Skip = Callable[[HarnessConfig], str | None]


def _steps() -> list[Check]:
    """The steps' checks: decided by the step that produces their need (:mod:`harness.run.steps`), recorded by the run."""
    return [
        Check("pipeline.compile", None, ("package",), "the pipeline compiles to KFP v2 IR", evidence=("packages", "tasks")),
        Check("pipeline.lint", None, ("package",), "no lint finding of severity error", evidence=("tasks",)),
        Check("pipeline.run", None, ("pipeline",), "every task of the run succeeded", evidence=("tasks",)),
        Check("deploy.compat", None, ("endpoint",), "the server can load what the pipeline trained", evidence=("versions",)),
        Check("deploy.ready", None, ("endpoint",), "the model answers ready, over the protocols it speaks", evidence=("protocols",)),
        Check("deploy.candidate", None, ("candidate",), "the release diff's candidate answers ready (mlharness diff)", evidence=("protocols",)),
    ]


Counts = Callable[[CheckResult, CheckContext], Mapping[str, "int | None"]]


def _counting(run: Callable[[CheckContext], CheckResult], counts: Counts, *, say: bool = False) -> Callable[[CheckContext], CheckResult]:
    """``run`` whose result carries ``counts(result, ctx)`` as its evidence (``say``: in its message too)."""

    def counted(ctx: CheckContext) -> CheckResult:
        result = run(ctx)
        return result.with_evidence(counts(result, ctx), say=say and result.status is CheckStatus.PASSED)

    counted.__doc__ = run.__doc__
    return counted


def _size(value: Any) -> int | None:
    """A count from a details value: an int as it is, a list by its length."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return len(value) if isinstance(value, list | tuple) else None


def _rows_over_protocols(result: CheckResult, _ctx: CheckContext) -> dict[str, int | None]:
    return {"rows": _size(result.details.get("rows")), "protocols": _size(result.details.get("protocols"))}


def _golden_counts(result: CheckResult, _ctx: CheckContext) -> dict[str, int | None]:
    cases, protocols = _size(result.details.get("cases")), _size(result.details.get("protocols"))
    return {"cases": cases, "requests": None if cases is None or protocols is None else cases * protocols}


def _generated_counts(result: CheckResult, _ctx: CheckContext) -> dict[str, int | None]:
    return {"rows": _size(result.details.get("rows")), "comparisons": _size(result.details.get("compared"))}


def _battery_counts(result: CheckResult, _ctx: CheckContext) -> dict[str, int | None]:
    return {"requests": _size(result.details.get("total_requests")), "protocols": _size(result.details.get("protocols"))}


def _load_requests(_result: CheckResult, ctx: CheckContext) -> dict[str, int | None]:
    return {"requests": ctx.load.requests}


def _load_samples(_result: CheckResult, ctx: CheckContext) -> dict[str, int | None]:
    """The successful requests a latency figure was measured on."""
    return {"samples": ctx.load.latency_ms.count}


# --- predict ---------------------------------------------------------------------------------
def _tolerance(ctx: CheckContext) -> float | None:
    """Labels compare exactly; a regressor's numbers within ``parity_tolerance``."""
    return None if ctx.inputs.contract.is_classifier else ctx.cfg.model.parity_tolerance


def _rows_named(ctx: CheckContext) -> str:
    contract = ctx.inputs.contract
    return "iris rows" if contract.data is None else f"{contract.name} rows"


def _golden(ctx: CheckContext) -> CheckResult:
    from harness.checks import predict as verify

    return verify.check_golden(ctx.client, [*ctx.inputs.contract.golden, *ctx.inputs.golden_cases], _tolerance(ctx))


def _quality(ctx: CheckContext) -> CheckResult:
    from harness.checks.quality import check_quality

    return check_quality(ctx.client, ctx.inputs.contract)


def _parity(ctx: CheckContext) -> CheckResult:
    from harness.checks import predict as verify

    rows = ctx.inputs.contract.labelled().rows
    result = verify.check_parity(ctx.client, ctx.artifact, rows, _tolerance(ctx), _rows_named(ctx))
    if result.status is CheckStatus.SKIPPED and ctx.inputs.contract.data is not None:
        return CheckResult(result.name, result.status, f"{result.message}; predict.quality judges the served model by the contract's data alone")
    return result


def _protocols(ctx: CheckContext) -> CheckResult:
    from harness.checks import predict as verify

    return verify.check_protocols(ctx.client, ctx.inputs.contract.labelled().rows, _tolerance(ctx), _rows_named(ctx))


# --- robustness ------------------------------------------------------------------------------
def _robustness_off(cfg: HarnessConfig) -> str | None:
    return None if cfg.robustness.enabled else "robustness is off (--no-robustness)"


def _robust_parity(ctx: CheckContext) -> CheckResult:
    from harness.robustness import parity_check
    from harness.robustness.schema import FeatureSchema

    schema = FeatureSchema.from_contract(ctx.inputs.contract)
    return parity_check(ctx.client, ctx.cfg.robustness, ctx.artifact, ctx.report_dir, schema, _tolerance(ctx))


def _bad_inputs(ctx: CheckContext) -> CheckResult:
    from harness.robustness import bad_inputs_check
    from harness.robustness.schema import FeatureSchema

    timeout = ctx.cfg.core.request_timeout
    schema = FeatureSchema.from_contract(ctx.inputs.contract)
    return bad_inputs_check(ctx.client, ctx.cfg.robustness, (timeout, timeout), ctx.cfg.core.ready_timeout, ctx.artifact, ctx.report_dir,
                            schema, _tolerance(ctx))


# --- SLO gates and the baseline --------------------------------------------------------------
LATENCY = ("p50", "p95", "p99")
SLO_SETTINGS = {"p50": "slo_p50_ms", "p95": "slo_p95_ms", "p99": "slo_p99_ms", "error_rate": "slo_error_rate", "min_rps": "slo_min_rps"}


def _slo_skip(gate: str) -> Skip:
    def skip(cfg: HarnessConfig) -> str | None:
        if not cfg.load.enabled:
            return "load is off (--no-load)"
        if cfg.get(SLO_SETTINGS[gate]) is None and gate != "error_rate":  # the error gate also judges delivery: see _slo
            return f"no threshold set (--{SLO_SETTINGS[gate].replace('_', '-')})"
        return None

    return skip


def _slo(gate: str) -> Callable[[CheckContext], CheckResult]:
    def run(ctx: CheckContext) -> CheckResult:
        from harness.checks.slo import evaluate_slos

        name = f"slo.{gate}"
        found = next((c for c in evaluate_slos(ctx.load, ctx.cfg.slo) if c.name == name), None)
        if found is None:  # slo.error_rate with no threshold, and a window that delivered its load
            return CheckResult(name, CheckStatus.SKIPPED, f"no threshold set (--{SLO_SETTINGS[gate].replace('_', '-')}); "
                               "the window delivered its load")
        return found

    # each gate's message says its count already ("(9,876 successful requests)", "0/9,876")
    if gate in LATENCY or gate == "min_rps":  # latency and throughput: of the successful requests
        return _counting(run, _load_samples)
    return _counting(run, _load_requests)


def _baseline_skip(cfg: HarnessConfig) -> str | None:
    return None if cfg.slo.baseline else "no baseline to compare with (--baseline REPORT.json)"


def _baseline(metric: str) -> Callable[[CheckContext], CheckResult]:
    def run(ctx: CheckContext) -> CheckResult:
        checks: dict[str, CheckResult] = ctx.need("comparison")
        return checks[f"baseline.{metric}"]

    return _counting(run, _load_samples if metric in LATENCY else _load_requests, say=True)


def _capacity_counts(_result: CheckResult, ctx: CheckContext) -> dict[str, int | None]:
    """The search's steps and the requests they sent."""
    result = ctx.need("capacity")
    return {"steps": len(result.steps), "requests": sum(step.requests for step in result.steps)}


def _rss_counts(result: CheckResult, _ctx: CheckContext) -> dict[str, int | None]:
    return {"samples": _size(result.details.get("samples"))}


#: the capacity module's checks (harness.checks.capacity): what each counts, and how
CAPACITY_EVIDENCE: dict[str, tuple[tuple[str, ...], Counts, bool]] = {
    "slo.capacity_rps": (("steps", "requests"), _capacity_counts, True),
    "baseline.capacity_rps": (("steps", "requests"), _capacity_counts, True),
    "slo.rss_growth": (("samples",), _rss_counts, False),
}


def _diff_checks() -> list[Check]:
    """The release diff's checks (:mod:`harness.checks.diff`), skipped when no candidate is given."""
    from harness.checks import diff

    return [
        Check("diff.agreement", diff.agreement, ("diff",), "the candidate answers the same rows as the live model",
              diff.no_candidate, evidence=("rows", "comparisons")),
        Check("diff.quality", diff.quality, ("diff",), "the candidate's quality on the labelled data drops no more than allowed",
              diff.no_candidate, evidence=("rows",)),
        Check("diff.latency", diff.latency, ("diff",), "the candidate is not significantly slower (Mann-Whitney U) beyond the allowed increase",
              diff.no_candidate, evidence=("live_samples", "candidate_samples")),
        Check("diff.errors", diff.errors, ("diff",), "the candidate's error rate rises no more than allowed",
              diff.no_candidate, evidence=("requests",)),
    ]


def register_builtins() -> None:
    """Put the built-in checks into :data:`~harness.checks.REGISTRY` (once)."""
    if "predict.golden" in REGISTRY:
        return
    for check in [
        *_steps(),
        Check("predict.golden", _counting(_golden, _golden_counts), ("client",),
              "the golden cases answer as expected, over every protocol spoken", evidence=("cases", "requests")),
        Check("predict.quality", _counting(_quality, _rows_over_protocols), ("client",),
              "the served model's quality on the contract's labelled data", evidence=("rows", "protocols")),
        Check("predict.parity", _counting(_parity, _rows_over_protocols), ("client", "artifact"),
              "the served model answers what the trained artifact answers", evidence=("rows", "protocols")),
        Check("predict.protocols", _counting(_protocols, _rows_over_protocols), ("client",),
              "every protocol spoken (V1, V2, V2 gRPC) answers the same", evidence=("rows", "protocols")),
        Check("robustness.parity", _counting(_robust_parity, _generated_counts), ("client", "artifact"),
              "generated valid inputs: served == artifact, V1 == V2", _robustness_off, evidence=("rows", "comparisons")),
        Check("robustness.bad_inputs", _counting(_bad_inputs, _battery_counts), ("client", "artifact"),
              "malformed inputs get a 4xx, never a 5xx or a hang", _robustness_off, evidence=("requests", "protocols")),
        *(Check(f"slo.{gate}", _slo(gate), ("load",), f"the {gate} gate on the load figures", _slo_skip(gate),
                evidence=("requests",) if gate == "error_rate" else ("samples",)) for gate in SLO_SETTINGS),
        *(Check(f"baseline.{m}", _baseline(m), ("comparison",), f"{m} no worse than the baseline's", _baseline_skip,
                evidence=("samples",) if m in LATENCY else ("requests",)) for m in ("p95", "p99", "error_rate")),
        *_diff_checks(),
    ]:
        REGISTRY.add(check)
    from harness.checks import capacity

    capacity.register()
    for name, (declared, counts, say) in CAPACITY_EVIDENCE.items():  # declared here: the capacity module only judges
        registered = REGISTRY.get(name)
        if registered.run is not None and not registered.evidence:
            REGISTRY.add(dataclasses.replace(registered, run=_counting(registered.run, counts, say=say), evidence=declared), replace=True)
