"""Chart geometry for the HTML report: numbers in, plain data out, no markup.

The report must open offline and escape everything, so plots are inline SVG drawn by a
Jinja macro (``templates/_chart.html``) from the :class:`Chart` built here. This module
only does arithmetic (scales, "nice" ticks, polyline coordinates); it never produces
markup, so nothing from ``report.json`` can reach the page unescaped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from harness import figures
from harness.checks.slo import GateFigures
from harness.load.results import LoadResult

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
FAILURE_COLOR = "#C0392B"
THRESHOLD_COLOR = "#B03A2E"
WIDTH, HEIGHT = 560.0, 260.0
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60.0, 16.0, 14.0, 44.0
PERCENTILES = (("p50", "p50"), ("p90", "p90"), ("p95", "p95"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max"))


@dataclasses.dataclass(frozen=True)
class Tick:
    """One axis tick: its pixel position and its label."""

    pos: float
    label: str


@dataclasses.dataclass(frozen=True)
class Point:
    """One data point in pixels, with the hover text of its value."""

    x: float
    y: float
    title: str


@dataclasses.dataclass(frozen=True)
class Series:
    """One line: its name, colour and points, split into segments where values are missing."""

    name: str
    color: str
    segments: tuple[str, ...]  # SVG polyline "x,y x,y ..." strings
    points: tuple[Point, ...]
    dashed: bool = False

    @property
    def n_points(self) -> int:
        return len(self.points)


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A horizontal reference line (an SLO limit)."""

    y: float
    label: str


@dataclasses.dataclass(frozen=True)
class Chart:
    """Everything the SVG macro needs to draw one line chart."""

    id: str
    title: str
    x_label: str
    y_label: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[Series, ...]
    thresholds: tuple[Threshold, ...] = ()
    width: float = WIDTH
    height: float = HEIGHT
    left: float = MARGIN_LEFT
    top: float = MARGIN_TOP
    right: float = WIDTH - MARGIN_RIGHT
    bottom: float = HEIGHT - MARGIN_BOTTOM
    show_markers: bool = True


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k steps) covering ``[lo, hi]``.

    The first tick is <= lo and the last >= hi, so the data always fits on the axis.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"ticks need finite bounds, got {lo}..{hi}")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = [round(start, 12)]
    while ticks[-1] < hi - step * 1e-9 or len(ticks) < 2:
        ticks.append(round(start + step * len(ticks), 12))
    return ticks


def line_chart(
    id: str,
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    x_categories: Sequence[str] | None = None,
    thresholds: Sequence[tuple[float, str]] = (),
    unit: str = "",
    colors: Sequence[str] = PALETTE,
    x_text: Callable[[float], str] | None = None,
) -> Chart:
    """Scale ``series`` (name, y values aligned with ``xs``) into a :class:`Chart`.

    ``None`` values leave a gap in the line. The y axis starts at 0 (latencies and rates
    are read against zero); thresholds widen the axis so the limit is always visible.
    With ``x_categories``, ``xs`` are indexes and the ticks are those labels. ``x_text``: how a
    point's x reads in its hover text (default: seconds since the start).
    """
    values = [v for _, ys in series for v in ys if v is not None]
    values += [t for t, _ in thresholds]
    y_ticks = nice_ticks(0.0, max(values, default=1.0) or 1.0, 6)
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_categories is not None:
        x_ticks_v: list[float] = [float(i) for i in range(len(x_categories))]
        x_lo, x_hi = -0.5, len(x_categories) - 0.5
    else:
        x_ticks_v = nice_ticks(x_lo, x_hi, 6) if xs else [0.0, 1.0]
        x_lo, x_hi = x_ticks_v[0], x_ticks_v[-1]
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    y_lo, y_hi = y_ticks[0], y_ticks[-1]

    def px(x: float) -> float:
        return round(left + (x - x_lo) / ((x_hi - x_lo) or 1.0) * (right - left), 1)

    def py(y: float) -> float:
        return round(bottom - (y - y_lo) / ((y_hi - y_lo) or 1.0) * (bottom - top), 1)

    drawn = []
    for index, (name, ys) in enumerate(series):
        segments: list[list[str]] = [[]]
        points = []
        for i, (x, y) in enumerate(zip(xs, ys, strict=False)):
            if y is None:
                if segments[-1]:
                    segments.append([])
                continue
            label = x_categories[i] if x_categories is not None else x_text(x) if x_text is not None else f"t={figures.number(x)}s"
            points.append(Point(px(x), py(y), f"{name} {label}: {figures.with_unit(y, unit)}"))
            segments[-1].append(f"{px(x)},{py(y)}")
        color = colors[index % len(colors)]
        drawn.append(Series(name, color, tuple(" ".join(s) for s in segments if s), tuple(points)))
    x_ticks = tuple(
        Tick(px(v), x_categories[int(v)] if x_categories is not None else figures.number(v)) for v in x_ticks_v
    )
    return Chart(
        id=id,
        title=title,
        x_label=x_label,
        y_label=y_label,
        x_ticks=x_ticks,
        y_ticks=tuple(Tick(py(v), figures.number(v)) for v in y_ticks),
        series=tuple(drawn),
        thresholds=tuple(Threshold(py(v), label) for v, label in thresholds),
        show_markers=len(xs) <= 120,
    )


def latency_thresholds(gates: Sequence[GateFigures], only: Sequence[str] = ()) -> list[tuple[float, str]]:
    """Latency SLO limits in ms, as (value, label), from the SLO gates of a run."""
    lines = []
    for gate in gates:
        key = gate.percentile
        if gate.threshold is None or key is None or (only and key not in only):
            continue
        lines.append((gate.threshold, f"{key} SLO {figures.ms(gate.threshold)}"))
    return lines


def latency_over_time(load: LoadResult, gates: Sequence[GateFigures] = ()) -> Chart | None:
    """p50 and p95 latency per timeline interval, with the p50/p95 SLO limits."""
    if not load.timeline:
        return None
    xs = [float(p.t) for p in load.timeline]
    series = [("p50", [p.p50_ms for p in load.timeline]), ("p95", [p.p95_ms for p in load.timeline])]
    return line_chart(
        "latency-over-time", "Latency over time", "time since start (s)", "latency (ms)", xs, series,
        thresholds=latency_thresholds(gates, ("p50", "p95")), unit=figures.MS,
    )


def throughput_over_time(load: LoadResult) -> Chart | None:
    """Requests and failures per second for each timeline interval."""
    if not load.timeline:
        return None
    xs = [float(p.t) for p in load.timeline]
    # each point counts what happened since the previous one; the first interval is as wide as the next
    widths = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    widths = [widths[0] if widths else 1.0, *widths]
    requests = [figures.per_second(p.requests, w if w > 0 else 1.0) for p, w in zip(load.timeline, widths, strict=True)]
    failures = [figures.per_second(p.failures, w if w > 0 else 1.0) for p, w in zip(load.timeline, widths, strict=True)]
    return line_chart(
        "throughput-over-time", "Throughput and errors over time", "time since start (s)", "requests per second", xs,
        [("requests/s", requests), ("failures/s", failures)],
        unit=figures.RPS, colors=(PALETTE[0], FAILURE_COLOR),
    )


def latency_percentiles(load: LoadResult, gates: Sequence[GateFigures] = ()) -> Chart | None:
    """The latency distribution's tail: p50 through max, with every latency SLO limit."""
    present = [(label, getattr(load.latency_ms, key)) for key, label in PERCENTILES]
    present = [(label, v) for label, v in present if v is not None]
    if not present:
        return None
    return line_chart(
        "latency-percentiles", "Latency percentiles (whole run)", "percentile", "latency (ms)",
        list(range(len(present))), [("latency", [v for _, v in present])],
        x_categories=[label for label, _ in present], thresholds=latency_thresholds(gates), unit=figures.MS,
    )
