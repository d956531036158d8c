"""The release diff's checks: the candidate judged against the live model by change thresholds.

Each reads the run's :class:`~harness.diff.DiffResult` (the ``diff`` need) and judges one
change, with its direction, as TensorFlow Model Analysis's change thresholds do:
``diff.agreement`` (the fraction of rows answered otherwise, at most ``max_disagreement``),
``diff.quality`` (the drop of accuracy, or the rise of a regressor's MAE and RMSE, at most
``max_quality_drop``), ``diff.latency`` (a significant Mann-Whitney U test *and* a percentile
grown by more than ``max_latency_increase``, overall and in every window pair), ``diff.errors`` (the rise of the error rate, at
most ``max_error_rate_increase``). See docs/diff.md.
"""

from __future__ import annotations

from typing import Any

from harness import figures
from harness.checks import CheckContext
from harness.config import HarnessConfig
from harness.diff import DiffResult
from harness.results import CheckResult, CheckStatus

NAMES = {"v1": "V1", "v2": "V2", "grpc": "V2 gRPC"}


def no_candidate(cfg: HarnessConfig) -> str | None:
    """Why the diff checks are skipped: no candidate was given."""
    if cfg.diff.candidate_url or cfg.diff.candidate_artifact or cfg.diff.candidate_pipeline:
        return None
    return "no candidate to diff against (--candidate-url, or --candidate-artifact / --candidate-pipeline on the local target)"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def agreement(ctx: CheckContext) -> CheckResult:
    """``diff.agreement``: the candidate answers the same rows as the live model does."""
    result: DiffResult = ctx.need("diff")
    a = result.agreement
    details: dict[str, Any] = {"rows": a.rows, "compared": a.compared, "disagreeing": a.disagreeing, "agreement": a.rate,
                               "protocols": list(a.protocols), "max_disagreement": result.thresholds.max_disagreement}
    if not a.protocols:
        return CheckResult("diff.agreement", CheckStatus.FAILED, "the two sides speak no protocol in common: nothing compared", 0.0, details)
    how = "exactly" if a.tolerance is None else f"within {a.tolerance:g}"
    over = f"{a.rows:,} rows × {len(a.protocols)} protocol(s) ({', '.join(NAMES.get(p, p) for p in a.protocols)})"
    if a.disagreement is not None and a.disagreement > result.thresholds.max_disagreement:
        first = a.shown[0] if a.shown else None
        said = (f"; first: row {first.row} ({first.source}, {NAMES.get(first.protocol, first.protocol)}): live {first.live!r}, "
                f"candidate {first.candidate!r}" + (f", label {first.label!r}" if first.label is not None else "")) if first else ""
        return CheckResult("diff.agreement", CheckStatus.FAILED,
                           f"agreement {_pct(a.rate)}: {a.disagreeing:,} of {a.compared:,} answers differ ({_pct(a.disagreement)} > "
                           f"{_pct(result.thresholds.max_disagreement)} allowed) over {over}{said}", 0.0, details)
    return CheckResult("diff.agreement", CheckStatus.PASSED, f"agreement {_pct(a.rate)} ({how}) over {over}", 0.0, details
                       ).with_evidence({"rows": a.rows, "comparisons": a.compared})


def quality(ctx: CheckContext) -> CheckResult:
    """``diff.quality``: the candidate's quality on the labelled data is no worse than allowed."""
    result: DiffResult = ctx.need("diff")
    q = result.quality
    allowed = result.thresholds.max_quality_drop
    details: dict[str, Any] = {"task": q.task, "rows": q.rows, "metrics": q.metrics, "max_quality_drop": allowed}
    if not q.rows or not q.metrics:
        return CheckResult("diff.quality", CheckStatus.SKIPPED, "no labelled rows were answered by both sides", 0.0, details)
    said, worse = [], []
    for name, m in q.metrics.items():
        live, cand, change = m.get("live"), m.get("candidate"), m.get("change")
        if live is None or cand is None or change is None:
            worse.append(f"{name}: not computable (live {live}, candidate {cand})")
            continue
        drop = -change if q.worse_when.get(name) == "lower" else change
        text = f"{name} {live:.4g} → {cand:.4g} ({change:+.4g})"
        said.append(text)
        if drop > allowed + 1e-12:
            worse.append(f"{text}, worse by {drop:.4g} > {allowed:g} allowed")
    if worse:
        return CheckResult("diff.quality", CheckStatus.FAILED, f"quality dropped on {q.rows} labelled rows: " + "; ".join(worse), 0.0, details)
    return CheckResult("diff.quality", CheckStatus.PASSED, f"{'; '.join(said)} on {q.rows} labelled rows (drop ≤ {allowed:g} allowed)",
                       0.0, details).with_evidence({"rows": q.rows})


def latency(ctx: CheckContext) -> CheckResult:
    """``diff.latency``: the candidate is not significantly slower by more than allowed."""
    result: DiffResult = ctx.need("diff")
    lat = result.latency
    if lat is None:
        return CheckResult("diff.latency", CheckStatus.SKIPPED, "no latency was measured (no protocol in common)")
    details = lat.as_dict()
    n_live, n_cand = lat.live.samples, lat.candidate.samples
    if lat.p_value is None:
        return CheckResult("diff.latency", CheckStatus.ERROR,
                           f"too few successful requests to compare (live {n_live}, candidate {n_cand}); see diff.errors", 0.0, details)
    parts = []
    for q in ("p50", "p95", "p99"):
        before, after = getattr(lat.live, f"{q}_ms"), getattr(lat.candidate, f"{q}_ms")
        parts.append(f"{q} {figures.ms(before)} → {figures.ms(after)} ({figures.change(lat.changes.get(q))})")
    test = f"Mann-Whitney U p={lat.p_value:.3g} (n={n_live:,} live, {n_cand:,} candidate), shift {lat.shift_ms:+.3g} ms"
    evidence = {"live_samples": n_live, "candidate_samples": n_cand}
    if lat.regressed:
        return CheckResult("diff.latency", CheckStatus.FAILED,
                           f"candidate slower: {', '.join(q for q in lat.beyond)} beyond +{lat.max_increase * 100:g} % (overall and in every "
                           f"window pair) and significant; "
                           f"{'; '.join(parts)}; {test}", 0.0, details)
    verdict = ("no significant difference" if not lat.significant
               else f"significant, but within +{lat.max_increase * 100:g} %")
    return CheckResult("diff.latency", CheckStatus.PASSED, f"{verdict}: {'; '.join(parts)}; {test}", 0.0, details).with_evidence(evidence)


def errors(ctx: CheckContext) -> CheckResult:
    """``diff.errors``: the candidate's error rate is no higher than allowed."""
    result: DiffResult = ctx.need("diff")
    lat = result.latency
    if lat is None:
        return CheckResult("diff.errors", CheckStatus.SKIPPED, "no latency windows ran (no protocol in common)")
    allowed = result.thresholds.max_error_rate_increase
    live_rate, cand_rate = lat.live.error_rate or 0.0, lat.candidate.error_rate or 0.0
    rise = cand_rate - live_rate
    details: dict[str, Any] = {"live": lat.live.as_dict(), "candidate": lat.candidate.as_dict(), "increase": rise,
                               "max_error_rate_increase": allowed, "first_errors": result.first_errors}
    text = (f"error rate {_pct(live_rate)} live ({lat.live.errors:,}/{lat.live.requests:,}) → {_pct(cand_rate)} candidate "
            f"({lat.candidate.errors:,}/{lat.candidate.requests:,})")
    if lat.candidate.requests == 0:
        return CheckResult("diff.errors", CheckStatus.ERROR, "the candidate was sent no request in the latency windows", 0.0, details)
    if rise > allowed:
        first = result.first_errors.get("candidate")
        return CheckResult("diff.errors", CheckStatus.FAILED, f"{text}: +{rise * 100:.2f} points > {allowed * 100:g} allowed"
                           + (f"; first: {first}" if first else ""), 0.0, details)
    return CheckResult("diff.errors", CheckStatus.PASSED, f"{text} (rise ≤ {allowed * 100:g} points allowed)", 0.0, details
                       ).with_evidence({"requests": lat.live.requests + lat.candidate.requests})
