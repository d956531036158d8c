"""The built-in checks, registered in run order. Each is a few lines over the library function
that does the work (:mod:`harness.checks.predict`, :mod:`harness.robustness`, :mod:`harness.checks.slo`)."""

from __future__ import annotations

from collections.abc import Callable

from harness.checks import REGISTRY, Check, CheckContext
from harness.config import HarnessConfig
from harness.results import CheckResult, CheckStatus

Skip = Callable[[HarnessConfig], str | None]


def _steps() -> list[Check]:
    """The steps' checks: decided by the step that produces their need (:mod:`harness.run.steps`), recorded by the run."""
    return [
        Check("pipeline.compile", None, ("package",), "the pipeline compiles to KFP v2 IR"),
        Check("pipeline.lint", None, ("package",), "no lint finding of severity error"),
        Check("pipeline.run", None, ("pipeline",), "every task of the run succeeded"),
        Check("deploy.compat", None, ("endpoint",), "the server can load what the pipeline trained"),
        Check("deploy.ready", None, ("endpoint",), "the model answers ready, over the protocols it speaks"),
    ]


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
SLO_SETTINGS = {"p50": "slo_p50_ms", "p95": "slo_p95_ms", "p99": "slo_p99_ms", "error_rate": "slo_error_rate", "min_rps": "slo_min_rps"}


def _slo_skip(gate: str) -> Skip:
    def skip(cfg: HarnessConfig) -> str | None:
        if not cfg.load.enabled:
            return "load is off (--no-load)"
        if cfg.get(SLO_SETTINGS[gate]) is None:
            return f"no threshold set (--{SLO_SETTINGS[gate].replace('_', '-')})"
        return None

    return skip


def _slo(gate: str) -> Callable[[CheckContext], CheckResult]:
    def run(ctx: CheckContext) -> CheckResult:
        from harness.checks.slo import evaluate_slos

        name = f"slo.{gate}"
        return next(c for c in evaluate_slos(ctx.load, ctx.cfg.slo) if c.name == name)

    return run


def _baseline_skip(cfg: HarnessConfig) -> str | None:
    return None if cfg.slo.baseline else "no baseline to compare with (--baseline REPORT.json)"


def _baseline(metric: str) -> Callable[[CheckContext], CheckResult]:
    def run(ctx: CheckContext) -> CheckResult:
        checks: dict[str, CheckResult] = ctx.need("comparison")
        return checks[f"baseline.{metric}"]

    return run


def register_builtins() -> None:
    """Put the built-in checks into :data:`~harness.checks.REGISTRY` (once)."""
    if "predict.golden" in REGISTRY:
        return
    for check in [
        *_steps(),
        Check("predict.golden", _golden, ("client",), "the golden cases answer as expected, over every protocol spoken"),
        Check("predict.quality", _quality, ("client",), "the served model's quality on the contract's labelled data"),
        Check("predict.parity", _parity, ("client", "artifact"), "the served model answers what the trained artifact answers"),
        Check("predict.protocols", _protocols, ("client",), "every protocol spoken (V1, V2, V2 gRPC) answers the same"),
        Check("robustness.parity", _robust_parity, ("client", "artifact"), "generated valid inputs: served == artifact, V1 == V2", _robustness_off),
        Check("robustness.bad_inputs", _bad_inputs, ("client", "artifact"), "malformed inputs get a 4xx, never a 5xx or a hang", _robustness_off),
        *(Check(f"slo.{gate}", _slo(gate), ("load",), f"the {gate} gate on the load figures", _slo_skip(gate)) for gate in SLO_SETTINGS),
        *(Check(f"baseline.{m}", _baseline(m), ("comparison",), f"{m} no worse than the baseline's", _baseline_skip)
          for m in ("p95", "p99", "error_rate")),
    ]:
        REGISTRY.add(check)
    from harness.checks import capacity

    capacity.register()
