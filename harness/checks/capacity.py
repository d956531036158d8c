"""The capacity and server-resource checks: ``slo.capacity_rps``, ``baseline.capacity_rps``, ``slo.rss_growth``.

Each is a few lines over what the run measured: the capacity search's result (the
``capacity`` need, :mod:`harness.load.rate_steps`) and the server's resource series sampled
during the load window (the ``resources`` need, :mod:`harness.load.resources`).
"""

from __future__ import annotations

from typing import Any

from harness import figures
from harness.checks import REGISTRY, Check, CheckContext
from harness.checks.slo import BaselineRun
from harness.config import HarnessConfig
from harness.load.capacity import ALL_FAILED, CapacityResult
from harness.load.resources import Series, rss_growth
from harness.results import CheckResult, CheckStatus

RSS_SKIP_S = 2.0  # seconds of samples left out of the slope beyond the load warm-up: the generator starting, first allocations


def capacity_off(cfg: HarnessConfig) -> str | None:
    return None if cfg.capacity.enabled else "the capacity search is off (--capacity, or mlharness capacity)"


def capacity_gate(result: CapacityResult, minimum: float | None) -> CheckResult:
    """``slo.capacity_rps``: the capacity at SLO is at least ``minimum`` req/s.

    With no capacity there is no pass, threshold or not: a search whose every request failed is
    an error with the server's error (there was nothing to measure); no rate holding the SLO,
    or a server that stopped answering during the search, fails. With a capacity and no
    threshold the check is skipped, the capacity in its message. A capacity the load generator
    limited is a lower bound: it passes when even that bound reaches ``minimum``, and is an
    error (not a verdict on the server) when it does not.
    """
    name = "slo.capacity_rps"
    details: dict[str, Any] = {"value": result.capacity_rps, "threshold": minimum, "unit": figures.RPS, "limited_by": result.limited_by,
                               "steps": len(result.steps), "requests": sum(s.requests for s in result.steps)}
    if result.capacity_rps is None:
        status = CheckStatus.ERROR if result.limited_by == ALL_FAILED else CheckStatus.FAILED
        return CheckResult(name, status, result.message, result.duration_s, details)
    if minimum is None:
        return CheckResult(name, CheckStatus.SKIPPED, f"no threshold set (--slo-capacity-rps); {result.message}", result.duration_s, details)
    shown, limit = figures.versus(figures.RPS, result.capacity_rps, minimum)
    if result.capacity_rps >= minimum:
        bound = "at least " if result.limited_by != "slo" else ""
        return CheckResult(name, CheckStatus.PASSED, f"capacity at SLO {bound}{shown} >= {limit}", result.duration_s, details)
    if result.limited_by == "generator":
        return CheckResult(name, CheckStatus.ERROR, f"inconclusive: {result.message}; {limit} was asked for", result.duration_s, details)
    return CheckResult(name, CheckStatus.FAILED, f"capacity at SLO {shown} < {limit}: {result.message}", result.duration_s, details)


def _capacity_rps(ctx: CheckContext) -> CheckResult:
    result: CapacityResult = ctx.need("capacity")  # the search runs whenever it is on, gated or not
    return capacity_gate(result, ctx.cfg.capacity.min_rps)


def _baseline_capacity_skip(cfg: HarnessConfig) -> str | None:
    return capacity_off(cfg) or (None if cfg.slo.baseline else "no baseline to compare with (--baseline REPORT.json)")


def baseline_capacity(result: CapacityResult, reference: BaselineRun, tolerance: float) -> CheckResult:
    """``baseline.capacity_rps``: the capacity at SLO did not fall more than ``tolerance`` below the baseline's."""
    name = "baseline.capacity_rps"
    before = reference.capacity_rps
    now = result.capacity_rps
    details: dict[str, Any] = {"baseline": before, "current": now, "unit": figures.RPS, "tolerance": tolerance,
                               "change": figures.relative_change(now, before)}
    if before is None:
        return CheckResult(name, CheckStatus.SKIPPED, "the baseline has no capacity at SLO (its run did not search it)", 0.0, details)
    floor = before * (1 - tolerance)
    was, need = figures.per_second_text(before), figures.per_second_text(floor)
    if now is None:
        return CheckResult(name, CheckStatus.FAILED, f"no rate held the SLO; the baseline held {was}", 0.0, details)
    change = figures.change(figures.relative_change(now, before))
    if now >= floor:
        return CheckResult(name, CheckStatus.PASSED, f"{figures.per_second_text(now)} vs {was} ({change}, floor {need})", 0.0, details)
    status = CheckStatus.ERROR if result.limited_by == "generator" else CheckStatus.FAILED
    why = "; the load generator was the limit, not the server" if status is CheckStatus.ERROR else ""
    return CheckResult(name, status, f"{figures.per_second_text(now)} vs {was} ({change}): below the floor {need} "
                       f"({figures.percent(tolerance)} tolerance){why}", 0.0, details)


def _baseline_capacity(ctx: CheckContext) -> CheckResult:
    return baseline_capacity(ctx.need("capacity"), ctx.need("baseline"), ctx.cfg.slo.baseline_tolerance)


def _rss_skip(cfg: HarnessConfig) -> str | None:
    if not cfg.load.enabled:
        return "load is off (--no-load)"
    if not cfg.resources.sample:
        return "server resources are not sampled (--no-server-resources)"
    return None if cfg.resources.rss_growth is not None else "no bound set (--slo-rss-growth MB/min)"


def rss_gate(series: Series, bound_mb_per_min: float, skip_s: float) -> CheckResult:
    """``slo.rss_growth``: the server's RSS, after ``skip_s`` seconds, grows no faster than the bound."""
    name = "slo.rss_growth"
    growth = rss_growth(series, skip_s)
    if growth is None:
        return CheckResult(name, CheckStatus.SKIPPED, f"too few samples after the first {figures.duration(skip_s)} "
                           f"({len(series.t_s)} in all): a longer load window is needed", 0.0)
    details = {"value": round(growth.slope_mb_per_min, 3), "threshold": bound_mb_per_min, "unit": figures.MB_PER_MIN,
               "growth_mb": round(growth.growth_mb, 3), "span_s": round(growth.span_s, 3), "samples": growth.samples}
    shown, limit = figures.versus(figures.MB_PER_MIN, growth.slope_mb_per_min, bound_mb_per_min)
    over = (f"over {figures.duration(growth.span_s)} ({growth.samples} samples, "
            f"{figures.number(growth.growth_mb)} MB in all, from {series.source})")
    if growth.slope_mb_per_min > bound_mb_per_min:
        return CheckResult(name, CheckStatus.FAILED, f"RSS grows {shown} > {limit} {over}", 0.0, details)
    return CheckResult(name, CheckStatus.PASSED, f"RSS grows {shown} <= {limit} {over}", 0.0, details)


def _rss_growth(ctx: CheckContext) -> CheckResult:
    bound = ctx.cfg.resources.rss_growth
    assert bound is not None  # skipped otherwise
    series: Series = ctx.need("resources")
    return rss_gate(series, bound, ctx.cfg.load.warmup + RSS_SKIP_S)


def register() -> None:
    """Add the checks to :data:`~harness.checks.REGISTRY` (called by ``register_builtins``, after the other gates)."""
    for check in [
        Check("slo.capacity_rps", _capacity_rps, ("capacity",), "the capacity at SLO reaches the threshold", capacity_off),
        Check("slo.rss_growth", _rss_growth, ("resources",), "the server's memory does not keep growing under load", _rss_skip),
        Check("baseline.capacity_rps", _baseline_capacity, ("capacity", "baseline"), "capacity at SLO no worse than the baseline's",
              _baseline_capacity_skip),
    ]:
        if check.name not in REGISTRY:
            REGISTRY.add(check)
