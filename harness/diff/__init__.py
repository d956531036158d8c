"""The release diff: the candidate model judged against the live one, on the same requests.

``mlharness diff`` (and the ``harness_diff`` fixture) sends the same rows to both sides over
every protocol both speak (:mod:`harness.diff.answers`), measures both sides' latency in
interleaved windows (:mod:`harness.diff.latency`) and compares them with a rank test
(:mod:`harness.diff.stats`); the two signatures are compared first (:mod:`harness.diff.sides`).
:class:`DiffResult` is what the run records (``report.json``'s ``diff`` section); the
``diff.*`` checks judge it against the change thresholds (:mod:`harness.checks.diff`).
See docs/diff.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.diff.answers import Agreement, Disagreement, Quality
from harness.diff.sides import Side
from harness.diff.stats import LatencyComparison, SideLatency


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The change thresholds, each with its direction (TFMA's ``GenericChangeThreshold``)."""

    max_disagreement: float = 0.0
    max_quality_drop: float = 0.01
    max_latency_increase: float = 0.2
    max_error_rate_increase: float = 0.001

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class DiffResult:
    """Everything the release diff found; ``report.json``'s ``diff`` section."""

    live: Side
    candidate: Side
    thresholds: Thresholds = Thresholds()
    agreement: Agreement = Agreement()
    quality: Quality = Quality()
    latency: LatencyComparison | None = None
    latency_protocol: str | None = None
    windows: int = 0
    window_s: float = 0.0
    live_latencies_ms: tuple[float, ...] = ()  # the samples, for the report's side-by-side distributions
    candidate_latencies_ms: tuple[float, ...] = ()
    first_errors: dict[str, str | None] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "live": self.live.as_dict(), "candidate": self.candidate.as_dict(), "thresholds": self.thresholds.as_dict(),
            "agreement": self.agreement.as_dict(), "quality": self.quality.as_dict(),
            "latency": self.latency.as_dict() if self.latency is not None else None, "latency_protocol": self.latency_protocol,
            "windows": self.windows, "window_s": self.window_s,
            "live_latencies_ms": [round(v, 3) for v in self.live_latencies_ms],
            "candidate_latencies_ms": [round(v, 3) for v in self.candidate_latencies_ms],
            "first_errors": dict(self.first_errors),
        }


__all__ = ["Agreement", "DiffResult", "Disagreement", "LatencyComparison", "Quality", "Side", "SideLatency", "Thresholds"]
