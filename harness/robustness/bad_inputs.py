"""The ``robustness.bad_inputs`` check: the battery's findings as one CheckResult.

Findings are split three ways: new *malformed* findings and new *valid-but-unusual* findings
(each listed apart, in the details and ``robustness.json``) fail the check; *accepted* ones
(matched by the accepted-findings file) are listed in the message and the details and do not.
Accepted-findings entries that matched nothing are reported as stale.

No verdict without evidence: with no HTTP protocol to test (a gRPC-only endpoint) the check
is skipped, saying so; when the valid control request fails before the battery it is an
error ("cannot judge rejections: ..."), and so it is when rejections are left that are not
evidence (their valid twin failed too). The message states what was sent and how the control
answered before and after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.config.accepted import AcceptedFindings
from harness.config.categories import CATEGORIES, MALFORMED, UNUSUAL
from harness.inference.client import InferenceClient
from harness.inference.discovery import NAMES
from harness.redact import redact
from harness.results import CheckResult, CheckStatus
from harness.robustness.battery import Battery, category_order, run_battery
from harness.robustness.control import answers_text, failed_text
from harness.robustness.profiles import Profile
from harness.robustness.schema import IRIS_SCHEMA, FeatureSchema
from harness.robustness.verdicts import Finding

NAME = "robustness.bad_inputs"
MESSAGE_FINDINGS = 3  # findings spelled out in the message; all are in the details
NOT_EVIDENCE_KEPT = 20  # rejections that are not evidence kept in the details (all are counted)


def run_bad_inputs(
    client: InferenceClient,
    profile: Profile,
    timeouts: tuple[float, float],
    ready_timeout: float,
    failing: CheckStatus,
    seed: int | None,
    model_path: Path | None = None,
    accepted: AcceptedFindings | None = None,
    schema: FeatureSchema = IRIS_SCHEMA,
    tolerance: float | None = None,
) -> CheckResult:
    """The whole check.

    Args:
        timeouts: (per-request timeout, timeout of the large valid requests), seconds.
        failing: FAILED or WARNED (the severity) for new findings.
        model_path: the trained artifact, to check the predictions of valid requests.
        accepted: findings listed without failing.
        schema: the model's row width and seed rows (the contract's).
        tolerance: a regressor's answers agree within it (None: labels, exactly).
    """
    accepted = accepted or AcceptedFindings()
    battery, seed_case, after_problem = run_battery(client, profile, timeouts, ready_timeout, model_path, accepted, seed, schema, tolerance)
    duration = round(battery.elapsed(), 3)
    unjudged = _without_verdict(battery, profile, seed, seed_case, duration)
    if unjudged is not None:
        return unjudged
    findings = sorted(battery.findings.values(), key=category_order)
    new = [f for f in findings if f.accepted is None]
    accepted_findings = [f for f in findings if f.accepted is not None]
    stale = accepted.stale(f.accepted for f in findings)
    details = _details(battery, profile, seed, timeouts, duration, new, accepted_findings, accepted, stale, seed_case)
    tail = _accepted_text(accepted_findings, stale)
    total = details["total_requests"]
    over = " and ".join(p.upper() for p in battery.protocols)
    not_evidence = _not_evidence_text(battery)
    if new or after_problem:
        malformed = sum(1 for f in new if f.request.kind == MALFORMED)
        parts = [f"{len(new)} new finding(s) ({malformed} malformed, {len(new) - malformed} valid but unusual) in {total} requests over {over}"]
        if battery.stopped:
            parts.append(f"battery {battery.stopped}")
        if battery.stopped and battery.first and battery.first is not battery.findings.get(battery.first.key):
            parts.append(f"first failure {battery.first.summary()}")
        if after_problem:
            parts.append(after_problem)
        if not_evidence:
            parts.append(not_evidence)
        more = len(new) - MESSAGE_FINDINGS
        parts += [f.summary() for f in new[:MESSAGE_FINDINGS]] + ([f"+{more} more in details"] if more > 0 else [])
        return CheckResult(NAME, failing, redact("; ".join(parts + tail)), duration, details)
    counts = {kind: details[kind]["total"] for kind in (MALFORMED, UNUSUAL)}
    served = details[UNUSUAL]["passed_as"]
    stopped = f" (battery {battery.stopped})" if battery.stopped else ""
    if not_evidence:
        message = f"cannot judge {not_evidence} ({total} requests over {over} in {duration:.1f}s{stopped})"
        return CheckResult(NAME, CheckStatus.ERROR, redact("; ".join([message, *tail])), duration, details)
    if total == 0:
        message = f"no request judged over {over}{stopped}: nothing to show the server rejects malformed input"
        return CheckResult(NAME, CheckStatus.ERROR, redact(message), duration, details)
    message = (
        f"{total} requests over {over} in {duration:.1f}s{stopped}: {counts[MALFORMED]} malformed all got a 4xx "
        f"while the valid twin was answered; {counts[UNUSUAL]} valid but unusual answered right ({served.get('answered', 0)}) "
        f"or declined with a 4xx ({served.get('declined', 0)}); the control still answers ({answers_text(battery.after)})"
    )
    return CheckResult(NAME, CheckStatus.PASSED, redact("; ".join([message, *tail])), duration, details)


def _without_verdict(battery: Battery, profile: Profile, seed: int | None, seed_case: dict[str, Any], duration: float) -> CheckResult | None:
    """SKIPPED when there is no HTTP protocol to test, ERROR when the control fails before the
    battery (nothing else was sent); None when the battery ran."""
    spoken = list(battery.client.endpoint.protocols)
    details: dict[str, Any] = {
        "profile": profile.name, "seed": seed, "protocols": list(battery.protocols), "spoken": spoken, "total_requests": 0,
        "duration_s": duration, "seed_case": seed_case, "controls": {"before": {p: c.as_dict() for p, c in battery.before.items()}},
    }
    if not battery.protocols:
        names = " and ".join(NAMES.get(p, p.upper()) for p in spoken) or "no protocol"
        return CheckResult(NAME, CheckStatus.SKIPPED, f"the battery sends HTTP requests (V1, V2 REST) and the endpoint is tested over {names} only: "
                           "0 requests sent (the predict.* checks cover gRPC)", duration, details)
    failed = failed_text(battery.before)
    if failed:
        return CheckResult(NAME, CheckStatus.ERROR, redact(f"cannot judge rejections: {failed}; 0 malformed requests sent"), duration, details)
    return None


def _not_evidence_text(battery: Battery) -> str | None:
    """``3 rejection(s) that are not evidence: ...`` (their valid twin failed too), or None."""
    if not battery.unjudged:
        return None
    first = battery.unjudged[0]
    twin = first["twin"]
    return (f"{len(battery.unjudged)} rejection(s) that are not evidence: their valid twin failed too "
            f"(first: {first['category']} over {first['protocol'].upper()} got HTTP {first['status']}, and its valid twin: "
            f"{twin['problem']}; details.not_evidence)")


def _accepted_text(accepted: list[Finding], stale: list[Any]) -> list[str]:
    """``3 accepted finding(s), not failing: nulls over V2 (HTTP 500), ...``; stale entries."""
    parts = []
    if accepted:
        grouped: dict[str, tuple[set[str], set[str]]] = {}
        for f in accepted:
            protocols, statuses = grouped.setdefault(f.request.category, (set(), set()))
            protocols.add(f.request.protocol.upper())
            statuses.add(f"HTTP {f.outcome.status}" if f.outcome.status is not None else "no answer")
        listed = ", ".join(f"{c} over {' and '.join(sorted(p))} ({', '.join(sorted(s))})" for c, (p, s) in grouped.items())
        parts.append(f"{len(accepted)} accepted finding(s) in {len(grouped)} categories, not failing (details.accepted): {listed}")
    if stale:
        parts.append("accepted-findings entries that matched nothing (stale): " + ", ".join(f"#{e.index} {e.describe()}" for e in stale))
    return parts


def _details(
    battery: Battery,
    profile: Profile,
    seed: int | None,
    timeouts: tuple[float, float],
    duration: float,
    new: list[Finding],
    accepted_findings: list[Finding],
    accepted: AcceptedFindings,
    stale: list[Any],
    seed_case: dict[str, Any],
) -> dict[str, Any]:
    def section(kind: str) -> dict[str, Any]:
        names = [c for c in CATEGORIES if CATEGORIES[c].kind == kind and c in battery.tried]
        requests = {c: battery.tried[c] for c in names}
        return {
            "total": sum(sum(v.values()) for v in requests.values()),
            "requests": requests,
            "statuses": {c: battery.statuses.get(c, {}) for c in names},
            "passed_as": _sum_by_how(battery, names),
            "findings": [f.as_dict() for f in new if f.request.kind == kind],
        }

    malformed, unusual = section(MALFORMED), section(UNUSUAL)
    return {
        "profile": profile.name,
        "seed": seed,
        "protocols": list(battery.protocols),
        "total_requests": malformed["total"] + unusual["total"],
        "duration_s": duration,
        "per_request_timeout_s": timeouts[0],
        "large_request_timeout_s": timeouts[1],
        "predictions_from": battery.judge.reference,
        "stopped": battery.stopped,
        "seed_case": seed_case,
        "controls": {"before": {p: c.as_dict() for p, c in battery.before.items()}, "after": {p: c.as_dict() for p, c in battery.after.items()}},
        "twins": {"sent": len(battery.twins), "failed": sum(1 for c in battery.twins.values() if not c.ok)},
        "not_evidence": battery.unjudged[:NOT_EVIDENCE_KEPT],
        "not_evidence_count": len(battery.unjudged),
        MALFORMED: malformed,
        UNUSUAL: unusual,
        "accepted": [f.as_dict() for f in accepted_findings],
        "accepted_file": accepted.source,
        "accepted_stale": [e.as_dict() for e in stale],
        "first_failure": battery.first.as_dict() if battery.first else None,
    }


def _sum_by_how(battery: Battery, names: list[str]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for name in names:
        for how, n in battery.passed_as.get(name, {}).items():
            totals[how] = totals.get(how, 0) + n
    return totals
