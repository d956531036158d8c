"""SLO gates on a load result, and the comparison of a run's load figures with a baseline's.

:func:`evaluate_slos` turns the configured thresholds into ``slo.*`` checks;
:func:`compare_loads` compares two :class:`~harness.load.results.LoadResult` and gates
regressions past a tolerance as ``baseline.*`` checks (:func:`compare_baseline` compares a
run's figures with a :class:`BaselineRun`, which :func:`read_baseline` decodes from a report). Both only read figures: the same functions serve ``mlharness run``,
``mlharness compare`` and the pytest suite. Figures are derived and formatted by
:mod:`harness.figures`, like everywhere else.

Example:
    >>> checks = evaluate_slos(result, cfg.slo)  # doctest: +SKIP
    >>> [c.message for c in checks if c.failed]  # doctest: +SKIP
    ['p95 313 ms > 100 ms']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness import figures
from harness.checks.baselines import RunIdentity, check_figures, identity_of
from harness.config import SloSettings
from harness.load.baseline import COMPARED, UNITS, BaselineComparison, BaselineRef, MetricComparison
from harness.load.results import LoadResult
from harness.record.decode import decode
from harness.results import CheckResult, CheckStatus

if TYPE_CHECKING:
    from harness.record import RunRecord

LATENCY_GATES = ("p50", "p95", "p99")
BASELINE_METRICS = ("p95", "p99", "error_rate")
NO_REQUEST = "no request completed in the measured window"
NO_SUCCESS = "no successful request to measure"
#: an open-model run (--rate) may achieve this much less than the rate it offered (see delivery_problems)
RATE_TOLERANCE = 0.05
#: from a baseline without errors, the error rate may grow to this before it is a regression
CLEAN_BASELINE_ERROR_RATE = 0.001


def _check(name: str, ok: bool, message: str, details: Mapping[str, Any]) -> CheckResult:
    return CheckResult(name, CheckStatus.PASSED if ok else CheckStatus.FAILED, message, 0.0, dict(details))


def _error(name: str, message: str, details: Mapping[str, Any]) -> CheckResult:
    return CheckResult(name, CheckStatus.ERROR, message, 0.0, dict(details))


def evaluate_slos(result: LoadResult | Mapping[str, Any], slo: SloSettings) -> list[CheckResult]:
    """One check per configured threshold: ``slo.p50``, ``slo.p95``, ``slo.p99``,
    ``slo.error_rate``, ``slo.min_rps``.

    Latency and throughput gates judge successful requests only and say how many they used;
    with no successful request they are ``error`` ("no successful request to measure"), never
    a verdict on the latency of errors. ``slo.error_rate`` counts every request sent (an
    unanswered one is a timeout failure) and also fails when the window did not deliver its
    load (:func:`delivery_problems`: a stall, or an open-model rate not kept). Messages read
    like "p95 313 ms > 100 ms (9,876 successful requests)"; ``details`` hold ``value``,
    ``threshold``, ``unit`` and ``samples``.

    Args:
        result: the load result (or a report's ``load`` section, decoded into one).
        slo: the thresholds; ``None`` thresholds are not checked.

    Raises:
        ValueError: a ``load`` section that is not a load result (a required figure missing).
    """
    load = result if isinstance(result, LoadResult) else decode(LoadResult, result)
    checks = []
    samples = load.latency_ms.count if load.latency_ms.count else load.answered
    for key in LATENCY_GATES:
        limit = {"p50": slo.p50_ms, "p95": slo.p95_ms, "p99": slo.p99_ms}[key]
        if limit is None:
            continue
        value = getattr(load.latency_ms, key)
        details = {"value": value, "threshold": limit, "unit": figures.MS, "basis": load.latency_basis, "samples": samples}
        if value is None or not samples:
            checks.append(_error(f"slo.{key}", f"{key}: {NO_SUCCESS} ({_sent(load)})", details))
        else:
            shown, limit_shown = figures.versus(figures.MS, value, limit)
            ok = value <= limit
            checks.append(_check(f"slo.{key}", ok, f"{key} {shown} {'<=' if ok else '>'} {limit_shown} "
                                 f"({figures.count(samples)} successful requests)", details))
    if slo.error_rate is not None:
        checks.append(error_rate_gate(load, slo.error_rate))
    elif problems := delivery_problems(load):
        # no error-rate threshold, but a window that did not deliver its load is still not evidence of the SLOs
        checks.append(_check("slo.error_rate", False, "no error-rate threshold set, but the window did not deliver its load: "
                             + "; ".join(problems), {"value": load.error_rate, "threshold": None, "unit": figures.RATIO,
                                                     "requests": load.requests, "problems": problems}))
    if slo.min_rps is not None:
        details = {"value": load.success_rps, "threshold": slo.min_rps, "unit": figures.RPS, "samples": load.answered}
        if not load.answered:
            checks.append(_error("slo.min_rps", f"throughput: {NO_SUCCESS} ({_sent(load)})", details))
        else:
            ok = load.success_rps >= slo.min_rps
            shown, limit_shown = figures.versus(figures.RPS, load.success_rps, slo.min_rps)
            checks.append(_check("slo.min_rps", ok, f"throughput {shown} {'>=' if ok else '<'} {limit_shown} "
                                 f"({figures.count(load.answered)} successful requests)", details))
    return checks


def _sent(load: LoadResult) -> str:
    if not load.requests:
        return NO_REQUEST
    top = load.failures_by_kind[0] if load.failures_by_kind else None
    most = f"; most frequent: {figures.count(top.count)}x HTTP {top.status} {top.message[:80]}" if top else ""
    return f"{figures.count(load.failures)} of {figures.count(load.requests)} requests failed{most}"


def error_rate_gate(load: LoadResult, threshold: float) -> CheckResult:
    """``slo.error_rate``: failed requests (timeouts of the unanswered included) within ``threshold``,
    and the window delivered its load (:func:`delivery_problems`)."""
    rate = load.error_rate
    problems = delivery_problems(load)
    details: dict[str, Any] = {
        "value": rate, "threshold": threshold, "unit": figures.RATIO, "requests": load.requests, "answered": load.answered,
        "failures": load.failures, "unfinished": load.unfinished, "unfinished_failed": load.unfinished_failed, "stalls": [s.as_dict() for s in load.stalls],
        "offered_rps": load.rate, "achieved_rps": load.rps if load.rate else None, "rate_tolerance": RATE_TOLERANCE,
        "problems": problems,
    }
    if rate is None:
        return _check("slo.error_rate", False, "; ".join([f"error rate: {NO_REQUEST}", *problems]), details)
    ok = rate <= threshold
    shown, limit_shown = figures.versus(figures.RATIO, rate, threshold)
    top = load.failures_by_kind[0] if load.failures_by_kind and not ok else None
    extra = f"; most frequent: {figures.count(top.count)}x HTTP {top.status} {top.message[:80]}" if top else ""
    counts = f"{figures.count(load.failures)}/{figures.count(load.requests)}"
    unfinished = f", {figures.count(load.unfinished_failed)} in flight at the window's end never answered" if load.unfinished_failed else ""
    message = f"error rate {shown} ({counts}{unfinished}) {'<=' if ok else '>'} {limit_shown}{extra}"
    if problems:
        message += ("; but " if ok else "; ") + "; ".join(problems)
    return _check("slo.error_rate", ok and not problems, message, details)


def delivery_problems(load: LoadResult) -> list[str]:
    """Why the window did not deliver the load asked for, as short findings (empty: it did).

    * a stall: the server answered nothing for a second or more (and for 4 median latencies)
      while requests were in flight, with its time in the window;
    * in an open-model run (a target rate), an achieved rate below the offered one by more than
      :data:`RATE_TOLERANCE` (plus the counting noise of the users' schedules);
    * fewer users started than configured (a spawn rate too low for the window), when the
      workers reported how many started.
    """
    found = [f"no answer for {figures.duration(s.duration_s)} from t={s.t_s:.1f}s with {figures.count(s.in_flight)} "
             f"requests in flight (a stall)" for s in load.stalls[:3]]
    if len(load.stalls) > 3:
        found.append(f"{len(load.stalls) - 3} more stalls")
    if 0 < load.users < load.users_configured:
        found.append(f"only {figures.count(load.users)} of {figures.count(load.users_configured)} users started "
                     f"(raise --spawn-rate so that all start during the warm-up)")
    if load.rate and load.measured_s > 0:
        noise = 3 * math.sqrt(max(load.users, 1) / 6) / load.measured_s
        if load.rps + noise < (1 - RATE_TOLERANCE) * load.rate:
            short = 1 - load.rps / load.rate
            found.append(f"achieved {figures.per_second_text(load.rps)} of {figures.per_second_text(load.rate)} offered "
                         f"({figures.percent(short)} short; {figures.percent(RATE_TOLERANCE)} allowed)")
    return found


@dataclasses.dataclass(frozen=True)
class GateFigures:
    """What an ``slo.*`` check measured against what it allowed, in its unit."""

    name: str
    observed: float | None
    threshold: float | None
    unit: str

    @property
    def percentile(self) -> str | None:
        """``p95`` for the latency gate ``slo.p95``; None for the other gates."""
        key = self.name.rsplit(".", 1)[-1]
        return key if key in LATENCY_GATES and self.unit == figures.MS else None


def gate_figures(check: CheckResult) -> GateFigures:
    """The figures of an ``slo.*`` check, read from the ``details`` :func:`evaluate_slos` writes.

    Reports written before the unit was recorded for every gate get it from the gate's name.
    """
    details = check.details
    key = check.name.rsplit(".", 1)[-1]
    unit = details.get("unit")
    return GateFigures(
        check.name,
        figures.finite(details.get("value")),
        figures.finite(details.get("threshold")),
        unit if isinstance(unit, str) and unit else UNITS.get(key, ""),
    )


def metric(load: LoadResult | None, name: str) -> float | None:
    """A compared figure of ``load`` by name (``p95``, ``rps``, ``error_rate``, ``requests``)."""
    if load is None:
        return None
    if name in ("rps", "error_rate", "requests"):
        value = getattr(load, name)
    else:
        value = getattr(load.latency_ms, name)
    return None if value is None else float(value)


def compare_loads(current: LoadResult | None, baseline: LoadResult | None, tolerance: float, ref: BaselineRef) -> tuple[BaselineComparison, list[CheckResult]]:
    """Compare two load results.

    ``baseline.p95`` and ``baseline.p99`` fail when the current value exceeds the baseline's
    by more than ``tolerance`` (0.2 = 20 %); ``baseline.error_rate`` fails when the error rate
    grows by more than ``tolerance`` relative, or at all from a zero baseline beyond 0.1
    percentage point (so a clean baseline does not make one error fatal). A figure missing on
    either side (no load, no successful request, no request at all for the error rate) is
    not compared: its check is skipped and says which side lacks it.

    Returns:
        The comparison (report.json's ``baseline`` section) and the checks.
    """
    metrics = []
    checks = []
    for name in COMPARED:
        now, then = metric(current, name), metric(baseline, name)
        change = figures.relative_change(now, then)
        gated = name in BASELINE_METRICS
        regressed = gated and _regressed(name, now, then, change, tolerance)
        metrics.append(MetricComparison(name, then, now, change, gated, regressed))
        if not gated:
            continue
        details = {"baseline": then, "current": now, "change": change, "tolerance": tolerance}
        if now is None or then is None:
            side = "the current run" if now is None else "the baseline"
            checks.append(CheckResult(f"baseline.{name}", CheckStatus.SKIPPED, f"{name} not measured in {side}", 0.0, details))
            continue
        unit = UNITS[name]
        delta = f" ({figures.change(change)})" if change is not None else ""
        if name == "error_rate" and then == 0.0:
            allowed = figures.percent(CLEAN_BASELINE_ERROR_RATE)
            verdict = f"> {allowed} from a clean baseline" if regressed else f"within {allowed} of a clean baseline"
        else:
            allowed = figures.change(tolerance)
            verdict = f"> {allowed} allowed" if regressed else f"within {allowed}"
        message = f"{name} {figures.with_unit(now, unit)} vs baseline {figures.with_unit(then, unit)}{delta}: {verdict}"
        checks.append(_check(f"baseline.{name}", not regressed, message, details))
    return BaselineComparison(ref, tolerance, tuple(metrics)), checks


def _regressed(name: str, now: float | None, then: float | None, change: float | None, tolerance: float) -> bool:
    if now is None or then is None:
        return False
    if name == "error_rate" and then == 0.0:
        return now > CLEAN_BASELINE_ERROR_RATE
    return change is not None and change > tolerance


@dataclasses.dataclass(frozen=True)
class BaselineRun:
    """An earlier run as the ``baseline.*`` checks read it: its load figures, which run it is, and
    its capacity at SLO (None where it did not search it). Decoded once, where the report is read."""

    load: LoadResult | None
    ref: BaselineRef = BaselineRef()
    capacity_rps: float | None = None
    identity: RunIdentity = RunIdentity()


def read_baseline(report: Mapping[str, Any], baseline: bool = True) -> BaselineRun:
    """The JSON boundary: ``report.json`` data (a baseline, or a report ``mlharness compare`` reads)
    as a :class:`BaselineRun`; a hand-written one with the compared figures alone is enough.
    ``baseline``: the report is the reference, so a run where no request succeeded is refused.

    Raises:
        ValueError: the ``load`` section is there but is not a load result; the message names
            the first figure missing or of the wrong type, or one no run measures
            (:func:`harness.checks.baselines.check_figures`).
    """
    raw = report.get("load")
    try:
        load = None if raw is None else decode(LoadResult, raw)
    except ValueError as exc:
        raise ValueError(f"load is not a load result: {exc}") from None
    if load is not None:
        check_figures(load, baseline)
    environment = report.get("environment")
    commit = environment.get("git_commit") if isinstance(environment, Mapping) else None
    ref = BaselineRef(*(v if isinstance(v, str) else None for v in (report.get("started_at"), commit, report.get("target"))))
    capacity = report.get("capacity")
    return BaselineRun(load, ref, figures.finite(capacity.get("capacity_rps")) if isinstance(capacity, Mapping) else None, identity_of(report))


def baseline_of(record: RunRecord) -> BaselineRun:
    """A run's own record as a baseline (typed, nothing to decode)."""
    ref = BaselineRef(record.started_at, record.environment.git_commit, record.target)
    return BaselineRun(record.load, ref, record.capacity.capacity_rps if record.capacity is not None else None)


def compare_baseline(current: LoadResult | None, baseline: BaselineRun, tolerance: float) -> tuple[BaselineComparison, list[CheckResult]]:
    """:func:`compare_loads` of this run's load figures with the baseline run's."""
    return compare_loads(current, baseline.load, tolerance, baseline.ref)
