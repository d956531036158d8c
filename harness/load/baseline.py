"""The comparison of a run's load figures with a baseline's, as data: the record's ``baseline``
section. Computed by :func:`harness.checks.slo.compare_loads` (the ``baseline.*`` checks);
defined here, with the load figures it compares, so the record and the views read it without
depending on the checks."""

from __future__ import annotations

import dataclasses
from typing import Any

from harness import figures
from harness.results import _AsDict

COMPARED = ("p50", "p90", "p95", "p99", "p999", "max", "rps", "error_rate", "requests")
#: the unit of each compared figure and of each gate's observed value (see harness.figures.with_unit)
UNITS = {
    **{name: figures.MS for name in ("min", "mean", "p50", "p90", "p95", "p99", "p999", "max")},
    "rps": figures.RPS,
    "min_rps": figures.RPS,
    "error_rate": figures.RATIO,
    "requests": figures.COUNT,
}


@dataclasses.dataclass(frozen=True)
class BaselineRef:
    """Which earlier run the comparison is against."""

    started_at: str | None = None
    git_commit: str | None = None
    target: str | None = None

    def describe(self) -> str:
        """``run of 2026-11-20T09:12:00.000Z, commit 0a93065aaaab, target local`` ('' if nothing is known)."""
        parts = [
            f"run of {self.started_at}" if self.started_at else "",
            f"commit {self.git_commit[:12]}" if self.git_commit else "",
            f"target {self.target}" if self.target else "",
        ]
        return ", ".join(p for p in parts if p)


@dataclasses.dataclass(frozen=True)
class MetricComparison:
    """One figure, then and now; ``change`` is relative (0.25 = +25 %), None when not computable."""

    name: str
    baseline: float | None
    current: float | None
    change: float | None
    gated: bool
    regressed: bool

    @property
    def unit(self) -> str:
        return UNITS.get(self.name, "")


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
