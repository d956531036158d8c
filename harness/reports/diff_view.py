"""The view of the release diff (the record's ``diff`` section), for report.html and summary.md.

Data only: the verdict rows (one per judged figure, live, candidate, change, threshold and the
check's status), the disagreeing rows, the live→candidate confusion matrix, and a
:class:`~harness.reports.plots.Chart` of the two latency distributions side by side (each
side's latency at the same percentiles, from the samples the test judged).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness import figures
from harness.diff import DiffResult
from harness.diff.records import Disagreement
from harness.record import RunRecord
from harness.reports import plots

#: the percentiles the distributions chart draws both sides at
CHART_PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9)
NAMES = {"v1": "V1", "v2": "V2", "grpc": "V2 gRPC"}


@dataclasses.dataclass(frozen=True)
class DiffRow:
    """One judged figure: live, candidate, change, the threshold and its check's status."""

    check: str
    figure: str
    live: str
    candidate: str
    change: str
    threshold: str
    status: str


@dataclasses.dataclass(frozen=True)
class DiffView:
    result: DiffResult
    rows: tuple[DiffRow, ...]
    disagreements: tuple[Disagreement, ...]
    classes: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    charts: tuple[plots.Chart, ...]
    test_line: str
    protocols: str


def _distributions(result: DiffResult) -> plots.Chart | None:
    import numpy as np

    live, candidate = result.live_latencies_ms, result.candidate_latencies_ms
    if not live or not candidate:
        return None
    labels = [f"p{figures.number(q)}" for q in CHART_PERCENTILES]
    series = [(name, [float(np.percentile(np.asarray(values), q)) for q in CHART_PERCENTILES])
              for name, values in (("live", live), ("candidate", candidate))]
    return plots.line_chart("diff-latency", "Latency distributions, side by side (interleaved windows)", "percentile", "latency (ms)",
                            list(range(len(labels))), series, x_categories=labels, unit=figures.MS)


def diff_view(record: RunRecord) -> DiffView | None:
    result = record.diff
    if result is None:
        return None
    status = {c.name: c.status.value for c in record.checks}
    t = result.thresholds
    a = result.agreement
    rows = [DiffRow("diff.agreement", "agreement", "", figures.percent(a.rate), f"{a.disagreeing:,} of {a.compared:,} differ",
                    f"≤ {figures.percent(t.max_disagreement)} differ", status.get("diff.agreement", "-"))]
    for name, m in result.quality.metrics.items():
        rows.append(DiffRow("diff.quality", name, figures.number(m.get("live")), figures.number(m.get("candidate")),
                            figures.number(m.get("change")), f"drop ≤ {figures.number(t.max_quality_drop)}", status.get("diff.quality", "-")))
    lat = result.latency
    test_line = ""
    if lat is not None:
        for q in ("p50", "p95", "p99"):
            rows.append(DiffRow("diff.latency", q, figures.ms(getattr(lat.live, f"{q}_ms")), figures.ms(getattr(lat.candidate, f"{q}_ms")),
                                figures.change(lat.changes.get(q)), f"≤ {figures.change(t.max_latency_increase)} if significant",
                                status.get("diff.latency", "-")))
        rows.append(DiffRow("diff.errors", "error rate", figures.percent(lat.live.error_rate), figures.percent(lat.candidate.error_rate),
                            "", f"rise ≤ {figures.percent(t.max_error_rate_increase)}", status.get("diff.errors", "-")))
        if lat.p_value is not None:
            test_line = (f"{lat.test}: U = {figures.number(lat.u_statistic)}, p = {lat.p_value:.3g} (α = {lat.alpha:g}), "
                         f"n = {lat.live.samples:,} live and {lat.candidate.samples:,} candidate requests over {result.windows} "
                         f"interleaved windows of {figures.duration(result.window_s)} per side ({NAMES.get(result.latency_protocol or '', '')}); "
                         f"Hodges-Lehmann shift {lat.shift_ms:+.3g} ms, P(candidate slower) = {lat.common_language}")
    chart = _distributions(result)
    return DiffView(result, tuple(rows), a.shown, tuple(str(c) for c in a.classes), a.confusion, (chart,) if chart else (), test_line,
                    ", ".join(NAMES.get(p, p) for p in a.protocols))


def answer(value: Any) -> str:
    """A side's answer as the disagreement table shows it."""
    return "" if value is None else str(value)
