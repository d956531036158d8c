"""Chart geometry for the HTML report: numbers in, plain data out, no markup.

The report must open offline and escape everything, so plots are inline SVG drawn by a
Jinja macro (``templates/_chart.html``) from the :class:`Chart` built here. This module
only does arithmetic (scales, "nice" ticks, polyline coordinates); it never produces
markup, so nothing from ``report.json`` can reach the page unescaped.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
FAILURE_COLOR = "#C0392B"
THRESHOLD_COLOR = "#B03A2E"
WIDTH, HEIGHT = 560.0, 260.0
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60.0, 16.0, 14.0, 44.0
PERCENTILES = (("p50", "p50"), ("p90", "p90"), ("p95", "p95"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max"))
_PERCENTILE_IN_NAME = re.compile(r"p(999|99|95|90|50)(?!\d)")


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


def fmt(value: float) -> str:
    """A short, stable label for a tick or a value (no float noise like 0.30000000000000004)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:.4g}"


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


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


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
) -> Chart:
    """Scale ``series`` (name, y values aligned with ``xs``) into a :class:`Chart`.

    ``None`` values leave a gap in the line. The y axis starts at 0 (latencies and rates
    are read against zero); thresholds widen the axis so the limit is always visible.
    With ``x_categories``, ``xs`` are indexes and the ticks are those labels.
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

    suffix = f" {unit}" if unit else ""
    drawn = []
    for index, (name, ys) in enumerate(series):
        segments: list[list[str]] = [[]]
        points = []
        for i, (x, y) in enumerate(zip(xs, ys, strict=False)):
            if y is None:
                if segments[-1]:
                    segments.append([])
                continue
            label = x_categories[i] if x_categories is not None else f"t={fmt(x)}s"
            points.append(Point(px(x), py(y), f"{name} {label}: {fmt(y)}{suffix}"))
            segments[-1].append(f"{px(x)},{py(y)}")
        color = colors[index % len(colors)]
        drawn.append(Series(name, color, tuple(" ".join(s) for s in segments if s), tuple(points)))
    x_ticks = tuple(
        Tick(px(v), x_categories[int(v)] if x_categories is not None else fmt(v)) for v in x_ticks_v
    )
    return Chart(
        id=id,
        title=title,
        x_label=x_label,
        y_label=y_label,
        x_ticks=x_ticks,
        y_ticks=tuple(Tick(py(v), fmt(v)) for v in y_ticks),
        series=tuple(drawn),
        thresholds=tuple(Threshold(py(v), label) for v, label in thresholds),
        show_markers=len(xs) <= 120,
    )


def _timeline(load: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = load.get("timeline")
    if not isinstance(rows, list):
        return []
    return [r for r in rows if isinstance(r, Mapping) and _num(r.get("t")) is not None]


def latency_thresholds(slo: Sequence[Mapping[str, Any]], only: Sequence[str] = ()) -> list[tuple[float, str]]:
    """Latency SLO limits in ms, as (value, label), from the ``slo`` section of a report."""
    lines = []
    for gate in slo:
        raw = gate.get("details")
        details: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        threshold = _num(details.get("threshold"))
        match = _PERCENTILE_IN_NAME.search(str(gate.get("name", "")))
        if threshold is None or match is None or str(details.get("unit", "ms")) != "ms":
            continue
        key = f"p{match.group(1)}"
        if only and key not in only:
            continue
        lines.append((threshold, f"{key} SLO {fmt(threshold)} ms"))
    return lines


def latency_over_time(load: Mapping[str, Any], slo: Sequence[Mapping[str, Any]] = ()) -> Chart | None:
    """p50 and p95 latency per timeline interval, with the p50/p95 SLO limits."""
    rows = _timeline(load)
    if not rows:
        return None
    xs = [float(r["t"]) for r in rows]
    series = [("p50", [_num(r.get("p50_ms")) for r in rows]), ("p95", [_num(r.get("p95_ms")) for r in rows])]
    return line_chart(
        "latency-over-time", "Latency over time", "time since start (s)", "latency (ms)", xs, series,
        thresholds=latency_thresholds(slo, ("p50", "p95")), unit="ms",
    )


def throughput_over_time(load: Mapping[str, Any]) -> Chart | None:
    """Requests and failures per second for each timeline interval."""
    rows = _timeline(load)
    if not rows:
        return None
    xs = [float(r["t"]) for r in rows]
    # each row counts what happened since the previous one; the first interval is as wide as the next
    widths = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    widths = [widths[0] if widths else 1.0, *widths]
    widths = [w if w > 0 else 1.0 for w in widths]

    def per_second(key: str) -> list[float | None]:
        out: list[float | None] = []
        for row, width in zip(rows, widths, strict=True):
            count = _num(row.get(key))
            out.append(None if count is None else count / width)
        return out

    return line_chart(
        "throughput-over-time", "Throughput and errors over time", "time since start (s)", "requests per second", xs,
        [("requests/s", per_second("requests")), ("failures/s", per_second("failures"))],
        unit="req/s", colors=(PALETTE[0], FAILURE_COLOR),
    )


def latency_percentiles(load: Mapping[str, Any], slo: Sequence[Mapping[str, Any]] = ()) -> Chart | None:
    """The latency distribution's tail: p50 through max, with every latency SLO limit."""
    latency = load.get("latency_ms")
    if not isinstance(latency, Mapping):
        return None
    present = [(key, label, _num(latency.get(key))) for key, label in PERCENTILES]
    present = [(k, label, v) for k, label, v in present if v is not None]
    if not present:
        return None
    return line_chart(
        "latency-percentiles", "Latency percentiles (whole run)", "percentile", "latency (ms)",
        list(range(len(present))), [("latency", [v for _, _, v in present])],
        x_categories=[label for _, label, _ in present], thresholds=latency_thresholds(slo), unit="ms",
    )
