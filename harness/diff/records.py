"""The release diff's record types: what ``report.json``'s ``diff`` section holds.

Plain frozen dataclasses with ``as_dict()`` (read back by :func:`harness.record.decode.decode`),
kept apart from the code that fills them so that the record (and every command's start) imports
no HTTP client, scipy or hypothesis.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.diff.stats import LatencyComparison


@dataclasses.dataclass(frozen=True)
class Side:
    """What is known of one side before a request: None where unknown."""

    role: str  # live or candidate
    where: str  # model name and URL, or the artifact served
    width: int | None = None
    feature_names: tuple[str, ...] | None = None
    task: str | None = None
    classes: tuple[Any, ...] | None = None
    sources: dict[str, str] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("feature_names", "classes"):
            data[key] = None if data[key] is None else list(data[key])
        return data


@dataclasses.dataclass(frozen=True)
class Disagreement:
    """One row on which the two sides answered otherwise."""

    row: int  # index among the compared rows (labelled first, then generated)
    source: str  # ``labelled`` or ``generated``
    protocol: str
    inputs: tuple[float, ...]
    live: Any
    candidate: Any
    label: Any = None  # the label, where the row is labelled

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "inputs": list(self.inputs)}


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How often the two sides answered the same, over ``protocols``."""

    rows: int = 0  # distinct rows sent (labelled + generated)
    labelled: int = 0
    generated: int = 0
    protocols: tuple[str, ...] = ()
    compared: int = 0  # rows x protocols
    disagreeing: int = 0
    requests: int = 0  # inference requests sent, both sides together
    errors: int = 0  # of them, answered with an error
    tolerance: float | None = None  # None: labels, compared exactly
    shown: tuple[Disagreement, ...] = ()  # the first disagreeing rows
    classes: tuple[Any, ...] = ()  # the confusion matrix's classes (live answers are rows)
    confusion: tuple[tuple[int, ...], ...] = ()  # live -> candidate, on the first protocol; empty for a regressor

    @property
    def rate(self) -> float | None:
        """The fraction of compared rows the sides agree on."""
        return (self.compared - self.disagreeing) / self.compared if self.compared else None

    @property
    def disagreement(self) -> float | None:
        return self.disagreeing / self.compared if self.compared else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "labelled": self.labelled, "generated": self.generated, "protocols": list(self.protocols),
            "compared": self.compared, "disagreeing": self.disagreeing, "agreement": self.rate,
            "disagreement": self.disagreement, "requests": self.requests, "errors": self.errors, "tolerance": self.tolerance,
            "shown": [d.as_dict() for d in self.shown], "classes": list(self.classes), "confusion": [list(r) for r in self.confusion],
        }


@dataclasses.dataclass(frozen=True)
class Quality:
    """Both sides' quality on the labelled rows (first protocol), and the change."""

    task: str = "classification"
    rows: int = 0
    metrics: dict[str, dict[str, float | None]] = dataclasses.field(default_factory=dict)  # name -> live, candidate, change
    worse_when: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> "lower" (accuracy) or "higher" (mae)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
