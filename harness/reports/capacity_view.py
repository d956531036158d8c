"""The views of the capacity search and of the server's resources under load.

Data only, as :mod:`harness.reports.view` gives the templates: the curve's rows (numbers
formatted by :mod:`harness.figures` in the templates' filters), and :class:`~harness.reports.plots.Chart`
objects for the throughput-latency curve and the per-second CPU and RSS series.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from harness import figures
from harness.load.capacity import CapacityResult, Step
from harness.load.resources import Series
from harness.record import RunRecord
from harness.reports import plots


@dataclasses.dataclass(frozen=True)
class CapacityView:
    """The capacity search for the page: the result, its curve by offered rate, and its charts."""

    result: CapacityResult
    curve: tuple[Step, ...]
    charts: tuple[plots.Chart, ...]


@dataclasses.dataclass(frozen=True)
class ResourcesView:
    """The server's resources under load: the series, its summary and its charts."""

    series: Series
    summary: dict[str, float | None]
    charts: tuple[plots.Chart, ...]


def _limits(record: RunRecord) -> list[tuple[float, str]]:
    """The latency limits every step was judged by: the run's ``slo_p95_ms`` and ``slo_p99_ms``
    (from its settings: ``mlharness capacity`` runs no ``slo.p95`` check to read them from)."""
    limits = []
    for key in ("p95", "p99"):
        value = figures.finite(record.config.get(f"slo_{key}_ms"))
        if value is not None:
            limits.append((value, f"{key} SLO {figures.ms(value)}"))
    return limits


def latency_curve(result: CapacityResult, limits: Sequence[tuple[float, str]] = ()) -> plots.Chart | None:
    """p50, p95 and p99 of each step against its offered rate, with the latency SLO limits."""
    curve = [s for s in result.curve if s.p50_ms is not None]
    if not curve:
        return None
    xs = [s.offered_rps for s in curve]
    series = [("p50", [s.p50_ms for s in curve]), ("p95", [s.p95_ms for s in curve]), ("p99", [s.p99_ms for s in curve])]
    return plots.line_chart(
        "capacity-latency", "Throughput-latency curve: latency by offered rate", "offered rate (req/s)", "latency (ms)", xs, series,
        thresholds=limits, unit=figures.MS,
        x_text=lambda x: "at " + figures.per_second_text(x),
    )


def throughput_curve(result: CapacityResult) -> plots.Chart | None:
    """Achieved against offered rate: where the line leaves the diagonal, the endpoint stopped keeping up."""
    curve = result.curve
    if not curve:
        return None
    xs = [s.offered_rps for s in curve]
    return plots.line_chart(
        "capacity-throughput", "Achieved by offered rate", "offered rate (req/s)", "requests per second", xs,
        [("achieved", [s.achieved_rps for s in curve]), ("offered", list(xs))],
        unit=figures.RPS, x_text=lambda x: "at " + figures.per_second_text(x),
    )


def capacity_view(record: RunRecord) -> CapacityView | None:
    result = record.capacity
    if result is None:
        return None
    charts = tuple(c for c in (latency_curve(result, _limits(record)), throughput_curve(result)) if c is not None)
    return CapacityView(result, tuple(result.curve), charts)


def resource_charts(series: Series) -> tuple[plots.Chart, ...]:
    """CPU (% of one core, the whole process tree) and RSS (MB) per second."""
    if not series.t_s:
        return ()
    xs = list(series.t_s)
    return (
        plots.line_chart("server-cpu", "Server CPU under load (100 % = one core)", "time since load start (s)", "CPU (%)", xs,
                         [("CPU", list(series.cpu_percent))]),
        plots.line_chart("server-rss", "Server memory (RSS) under load", "time since load start (s)", "RSS (MB)", xs,
                         [("RSS", list(series.rss_mb))], colors=(plots.PALETTE[2],)),
    )


def resources_view(record: RunRecord) -> ResourcesView | None:
    series = record.resources
    if series is None:
        return None
    return ResourcesView(series, series.summary(), resource_charts(series))
