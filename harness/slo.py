"""SLO gates on a load result, and the comparison of two runs' reports.

:func:`evaluate_slos` turns the configured thresholds into ``slo.*`` checks;
:func:`compare_baseline` compares the ``load`` sections of two ``report.json`` documents
and gates regressions past a tolerance as ``baseline.*`` checks. Both only read figures:
the same functions serve ``mlharness run``, ``mlharness compare`` and the pytest suite.

Example:
    >>> checks = evaluate_slos(result, cfg.slo)  # doctest: +SKIP
    >>> [c.message for c in checks if c.failed]  # doctest: +SKIP
    ['p95 312.4 ms > 100 ms']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from harness.config import SloSettings
from harness.load.results import LoadResult
from harness.models import CheckResult, CheckStatus, _AsDict

LATENCY_GATES = ("p50", "p95", "p99")
BASELINE_METRICS = ("p95", "p99", "error_rate")
COMPARED = ("p50", "p90", "p95", "p99", "p999", "max", "rps", "error_rate", "requests")


def _fmt(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.3g}"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.3g} %"


def evaluate_slos(result: LoadResult | Mapping[str, Any], slo: SloSettings) -> list[CheckResult]:
    """One check per configured threshold: ``slo.p50``, ``slo.p95``, ``slo.p99``,
    ``slo.error_rate``, ``slo.min_rps``.

    A latency gate with no successful request to measure fails (nothing answered in time
    is not a pass). Messages read like "p95 312.4 ms > 100 ms".

    Args:
        result: the load result, or its ``as_dict()`` (a report's ``load`` section).
        slo: the thresholds; ``None`` thresholds are not checked.
    """
    load = result.as_dict() if isinstance(result, LoadResult) else dict(result)
    latency = load.get("latency_ms") or {}
    checks = []
    for key in LATENCY_GATES:
        limit = {"p50": slo.p50_ms, "p95": slo.p95_ms, "p99": slo.p99_ms}[key]
        if limit is None:
            continue
        value = latency.get(key)
        details: dict[str, Any] = {"value": value, "threshold": limit, "unit": "ms", "basis": load.get("latency_basis", "response")}
        if value is None:
            checks.append(CheckResult(f"slo.{key}", CheckStatus.FAILED, f"{key}: no successful request to measure ({load.get('failures', 0)} failures)", 0.0, details))
        elif value > limit:
            checks.append(CheckResult(f"slo.{key}", CheckStatus.FAILED, f"{key} {_fmt(value)} ms > {limit:g} ms", 0.0, details))
        else:
            checks.append(CheckResult(f"slo.{key}", CheckStatus.PASSED, f"{key} {_fmt(value)} ms <= {limit:g} ms", 0.0, details))
    if slo.error_rate is not None:
        requests, failures = int(load.get("requests", 0)), int(load.get("failures", 0))
        rate = failures / requests if requests else 1.0
        details = {"value": rate, "threshold": slo.error_rate, "requests": requests, "failures": failures}
        if not requests:
            checks.append(CheckResult("slo.error_rate", CheckStatus.FAILED, "no request completed in the measured window", 0.0, details))
        else:
            ok = rate <= slo.error_rate
            sign = "<=" if ok else ">"
            top = (load.get("failures_by_kind") or [{}])[0]
            extra = "" if ok or not top else f"; most frequent: {top.get('count')}x HTTP {top.get('status')} {top.get('message', '')[:80]}"
            message = f"error rate {_pct(rate)} ({failures}/{requests}) {sign} {_pct(slo.error_rate)}{extra}"
            checks.append(CheckResult("slo.error_rate", CheckStatus.PASSED if ok else CheckStatus.FAILED, message, 0.0, details))
    if slo.min_rps is not None:
        rps = float(load.get("rps", 0.0))
        ok = rps >= slo.min_rps
        sign = ">=" if ok else "<"
        checks.append(CheckResult("slo.min_rps", CheckStatus.PASSED if ok else CheckStatus.FAILED, f"throughput {rps:,.1f} req/s {sign} {slo.min_rps:g} req/s", 0.0, {"value": rps, "threshold": slo.min_rps, "unit": "req/s"}))
    return checks


def _metric(load: Mapping[str, Any], name: str) -> float | None:
    if name in ("rps", "error_rate", "requests"):
        value = load.get(name)
        if name == "error_rate" and value is None and load.get("requests"):
            value = load.get("failures", 0) / load["requests"]
    else:
        value = (load.get("latency_ms") or {}).get(name)
    return None if value is None else float(value)


@dataclasses.dataclass(frozen=True)
class BaselineRef:
    """Which earlier run the comparison is against."""

    started_at: str | None = None
    git_commit: str | None = None
    target: str | None = None


@dataclasses.dataclass(frozen=True)
class MetricComparison:
    """One figure, then and now; ``change`` is relative (0.25 = +25 %), None when not computable."""

    name: str
    baseline: float | None
    current: float | None
    change: float | None
    gated: bool
    regressed: bool


@dataclasses.dataclass(frozen=True)
class BaselineComparison(_AsDict):
    """The ``baseline`` section of report.json."""

    baseline: BaselineRef
    tolerance: float
    metrics: tuple[MetricComparison, ...]

    @property
    def regressed(self) -> list[str]:
        return [m.name for m in self.metrics if m.regressed]

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "regressed": self.regressed}


def compare_baseline(
    current_report: Mapping[str, Any],
    baseline_report: Mapping[str, Any],
    tolerance: float,
) -> tuple[BaselineComparison, list[CheckResult]]:
    """Compare the ``load`` sections of two reports.

    ``baseline.p95`` and ``baseline.p99`` fail when the current value exceeds the
    baseline's by more than ``tolerance`` (0.2 = 20 %); ``baseline.error_rate`` fails when
    the error rate grows by more than ``tolerance`` relative, or at all from a zero
    baseline beyond 0.1 percentage point (so a clean baseline does not make one error fatal).

    Returns:
        The comparison (report.json's ``baseline`` section) and the checks.
    """
    current = current_report.get("load") or {}
    base = baseline_report.get("load") or {}
    metrics = []
    checks = []
    for name in COMPARED:
        now, then = _metric(current, name), _metric(base, name)
        change = (now - then) / then if now is not None and then not in (None, 0.0) else None
        gated = name in BASELINE_METRICS
        regressed = gated and _regressed(name, now, then, change, tolerance)
        metrics.append(MetricComparison(name, then, now, None if change is None else round(change, 4), gated, regressed))
        if not gated:
            continue
        unit = "" if name == "error_rate" else " ms"
        show = _pct if name == "error_rate" else (lambda v: _fmt(v))
        details = {"baseline": then, "current": now, "change": change, "tolerance": tolerance}
        if now is None or then is None:
            checks.append(CheckResult(f"baseline.{name}", CheckStatus.SKIPPED, f"{name} missing in the {'current run' if now is None else 'baseline'}", 0.0, details))
            continue
        delta = f" ({change:+.1%})" if change is not None else ""
        verdict = f"> +{tolerance:.0%} allowed" if regressed else f"within +{tolerance:.0%}"
        message = f"{name} {show(now)}{unit} vs baseline {show(then)}{unit}{delta}: {verdict}"
        checks.append(CheckResult(f"baseline.{name}", CheckStatus.FAILED if regressed else CheckStatus.PASSED, message, 0.0, details))
    ref = BaselineRef(baseline_report.get("started_at"), (baseline_report.get("environment") or {}).get("git_commit"), baseline_report.get("target"))
    return BaselineComparison(ref, tolerance, tuple(metrics)), checks


def _regressed(name: str, now: float | None, then: float | None, change: float | None, tolerance: float) -> bool:
    if now is None or then is None:
        return False
    if name == "error_rate" and then == 0.0:
        return now > 0.001
    return change is not None and change > tolerance
