"""Load figures: the frozen results, and their exact merge from the workers' files.

Each locust worker writes ``results/worker-<pid>.json`` holding HDR histograms (base64,
microsecond values) of its measured window; :func:`merge_worker_files` adds them up
bucket by bucket, so the merged percentiles are those of every request, not an average
of per-worker percentiles. ``report.json``'s ``load`` section is :meth:`LoadResult.as_dict`
(schema in ``docs/load.md``).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from harness import figures
from harness.load.worker.recording import new_histogram
from harness.load.worker.recording import slot as _slot
from harness.redact import redact
from harness.results import _AsDict

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
#: a gap without answers counts as a stall only when it is also this many times the median latency:
#: a model that takes 1.5 s to answer is slow (the latency gates judge that), not stalled
STALL_MEDIANS = 4.0


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000, 3)


@dataclasses.dataclass(frozen=True)
class LatencySummary(_AsDict):
    """Percentiles of successful requests, in milliseconds (None when there were none)."""

    count: int = 0
    min: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None
    max: float | None = None

    @classmethod
    def from_histogram(cls, hist: HdrHistogram, min_us: int | None = None, max_us: int | None = None) -> LatencySummary:
        """Summarise ``hist``; exact ``min_us``/``max_us`` replace the bucketed ones when given."""
        count = hist.get_total_count()
        if not count:
            return cls(0, None, None, None, None, None, None, None, None)
        values = {k: _ms(hist.get_value_at_percentile(p)) for k, p in PERCENTILES.items()}
        low = min_us if min_us is not None else hist.get_min_value()
        high = max_us if max_us else hist.get_max_value()
        return cls(count=count, min=_ms(low), mean=_ms(hist.get_mean_value()), max=_ms(high), **values)


@dataclasses.dataclass(frozen=True)
class KindSummary(_AsDict):
    """Figures of one request kind (``v1`` or ``v2``)."""

    requests: int
    failures: int
    p50: float | None
    p95: float | None
    p99: float | None


@dataclasses.dataclass(frozen=True)
class FailureKind(_AsDict):
    """Failed requests grouped by kind, HTTP status (0: no answer) and message."""

    name: str
    status: int
    message: str
    count: int


@dataclasses.dataclass(frozen=True)
class TimelinePoint(_AsDict):
    """One second of the measured window (``t`` = seconds after the warm-up)."""

    t: int
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None


@dataclasses.dataclass(frozen=True)
class Stall(_AsDict):
    """A time without any answer while requests were in flight (``t_s``: seconds after the warm-up)."""

    t_s: float
    duration_s: float
    in_flight: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class LoadResult(_AsDict):
    """Everything a load run measured: ``report.json``'s ``load`` section.

    The figures gates and comparisons read (``requests``, ``failures``, ``rps``,
    ``latency_ms``) are required; how the load was made has defaults, so a load section
    reduced to its figures (a hand-written baseline) still reads as a load result.
    ``error_rate`` is derived from ``requests`` and ``failures`` (:func:`harness.figures.error_rate`,
    None without requests); a value passed in, or read from an older report, is replaced.

    Every request sent in the measured window is accounted for: ``requests`` (sent) =
    ``answered`` (a valid answer) + ``failures`` (an error, an answer outside the contract, or no
    answer within the request timeout); ``unfinished`` of them were still in flight when the
    window closed (waited for up to the request timeout), ``unfinished_failed`` of those failed. ``users`` is how many
    users started, ``users_configured`` how many were asked for; ``stalls`` are the times the
    server answered nothing while requests were in flight.
    """

    requests: int
    failures: int
    rps: float
    latency_ms: LatencySummary
    users: int = 0
    duration_s: float = 0.0
    failures_by_kind: tuple[FailureKind, ...] = ()
    timeline: tuple[TimelinePoint, ...] = ()
    warmup_s: float = 0.0
    processes: int = 0
    rate: float | None = None
    protocol: str = ""
    batch_size: int = 0
    generator: str = "locust FastHttpUser"
    via: str = "direct"
    locust_version: str | None = None
    spawn_rate: float = 0.0
    measured_s: float = 0.0
    startup_s: float | None = None
    error_rate: float | None = None  # derived: figures.error_rate(requests, failures), see __post_init__
    latency_basis: str = "response"
    service_time_ms: LatencySummary | None = None
    by_protocol: Mapping[str, KindSummary] = dataclasses.field(default_factory=dict)
    warmup_requests: int = 0
    late_requests: int = 0
    workers: int = 0
    complete: bool = True
    histogram: str | None = None
    files: Mapping[str, str] = dataclasses.field(default_factory=dict)
    answered: int = 0  # derived: requests - failures, see __post_init__
    unfinished: int = 0
    unfinished_failed: int = 0
    users_configured: int = 0
    stalls: tuple[Stall, ...] = ()

    def __post_init__(self) -> None:
        # fields (not properties) so that report.json keeps their keys
        object.__setattr__(self, "error_rate", figures.error_rate(self.requests, self.failures))
        object.__setattr__(self, "answered", max(0, self.requests - self.failures))

    @property
    def success_rps(self) -> float:
        """Valid answers per second over the measured window (``rps`` counts every request sent)."""
        return self.rps * self.answered / self.requests if self.requests else 0.0


@dataclasses.dataclass(frozen=True)
class MergedFigures:
    """What the worker files add up to (the measured part of a :class:`LoadResult`)."""

    requests: int
    failures: int
    measured_s: float
    latency: LatencySummary
    service: LatencySummary | None
    by_protocol: dict[str, KindSummary]
    failures_by_kind: tuple[FailureKind, ...]
    timeline: tuple[TimelinePoint, ...]
    warmup_requests: int
    late_requests: int
    workers: int
    histogram: str | None
    unfinished: int = 0
    unfinished_failed: int = 0
    users_started: int = 0
    stalls: tuple[Stall, ...] = ()

    @property
    def rps(self) -> float:
        """Requests per second over the measured window."""
        return figures.per_second(self.requests, self.measured_s)

    @property
    def error_rate(self) -> float | None:
        """Failed requests as a fraction of all (None without requests)."""
        return figures.error_rate(self.requests, self.failures)


def read_worker_files(results_dir: Path, *, rewrite: bool = False) -> list[dict[str, Any]]:
    """The workers' result documents (``worker-*.json``) in ``results_dir``, failure messages redacted.

    The locustfile masks the secrets it was given before it writes; this masks again with
    everything the harness knows (:func:`harness.redact.redact`). ``rewrite``: also write a
    file back when that changed it, so no file keeps what the report does not.
    """
    docs = []
    for path in sorted(results_dir.glob("worker-*.json")):
        doc = json.loads(path.read_text())
        changed = False
        for row in doc.get("failures_by_kind") or []:
            clean = redact(str(row.get("message", "")))
            changed |= clean != row.get("message")
            row["message"] = clean
        if changed and rewrite:
            tmp = path.with_name(f".{path.name}.redacted.tmp")
            tmp.write_text(json.dumps(doc))
            tmp.replace(path)
        docs.append(doc)
    return docs


def _decode_add(target: HdrHistogram, encoded: str | None) -> None:
    if encoded:
        target.add(HdrHistogram.decode(encoded.encode()))


def merge_worker_files(docs: Iterable[Mapping[str, Any]]) -> MergedFigures:
    """Add the workers' figures up exactly (histograms bucket by bucket, counts by key)."""
    docs = list(docs)
    latency, service = new_histogram(), new_histogram()
    kinds: dict[str, HdrHistogram] = {}
    kind_counts: Counter[str] = Counter()
    kind_failures: Counter[str] = Counter()
    seconds: dict[int, HdrHistogram] = {}
    second_counts: Counter[int] = Counter()
    second_failures: Counter[int] = Counter()
    failures: Counter[tuple[str, int, str]] = Counter()
    requests = failed = warmup = late = unfinished = unfinished_failed = users = 0
    gaps: list[tuple[float, float, int]] = []
    min_us: int | None = None
    max_us = 0
    measured = 0.0
    for doc in docs:
        requests += doc["requests"]
        failed += doc["failures"]
        warmup += doc.get("warmup_requests", 0)
        late += doc.get("late_requests", 0)
        unfinished += doc.get("unfinished", 0)
        unfinished_failed += doc.get("unfinished_failed", 0)
        users += doc.get("users_started", 0)
        gaps += [(float(g["began"]), float(g["ended"]), int(g["in_flight"])) for g in doc.get("stalls") or []]
        measured = max(measured, float(doc["stopped"]) - float(doc["measure_from"]))
        _decode_add(latency, doc.get("latency"))
        _decode_add(service, doc.get("service"))
        if doc.get("min_us") is not None:
            min_us = doc["min_us"] if min_us is None else min(min_us, doc["min_us"])
        max_us = max(max_us, doc.get("max_us") or 0)
        for name, kind in doc.get("kinds", {}).items():
            kind_counts[name] += kind["requests"]
            kind_failures[name] += kind["failures"]
            _decode_add(_slot(kinds, name), kind.get("histogram"))
        for key, sec in doc.get("seconds", {}).items():
            second = int(key)
            second_counts[second] += sec["requests"]
            second_failures[second] += sec["failures"]
            _decode_add(_slot(seconds, second), sec.get("histogram"))
        for row in doc.get("failures_by_kind", []):
            failures[(row["name"], int(row["status"]), redact(row["message"]))] += row["count"]
    by_protocol = {
        name: KindSummary(kind_counts[name], kind_failures[name], *_percentiles(kinds.get(name), 50.0, 95.0, 99.0))
        for name in sorted(kind_counts)
    }
    timeline = tuple(
        TimelinePoint(s, second_counts[s], second_failures[s], *_percentiles(seconds.get(s), 50.0, 95.0))
        for s in range(max(second_counts) + 1 if second_counts else 0)
    )
    summary = LatencySummary.from_histogram(latency, min_us, max_us or None)
    origin = min((float(doc["measure_from"]) for doc in docs), default=0.0)
    return MergedFigures(
        requests=requests,
        failures=failed,
        measured_s=round(measured, 3),
        latency=summary,
        service=LatencySummary.from_histogram(service) if service.get_total_count() else None,
        by_protocol=by_protocol,
        failures_by_kind=tuple(FailureKind(n, s, m, c) for (n, s, m), c in failures.most_common()),
        timeline=timeline,
        warmup_requests=warmup,
        late_requests=late,
        workers=len(docs),
        histogram=latency.encode().decode() if latency.get_total_count() else None,
        unfinished=unfinished,
        unfinished_failed=unfinished_failed,
        users_started=users,
        stalls=merge_stalls(gaps, origin, summary.p50),
    )


def merge_stalls(gaps: Iterable[tuple[float, float, int]], origin: float, p50_ms: float | None) -> tuple[Stall, ...]:
    """The workers' stalls ((began, ended, in flight), epoch seconds) as one list: overlapping ones
    joined, those shorter than :data:`STALL_MEDIANS` median latencies left out, times after ``origin``."""
    floor_s = STALL_MEDIANS * (p50_ms or 0.0) / 1000
    joined: list[list[float]] = []
    for began, ended, in_flight in sorted(gaps):
        if joined and began <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], ended)
            joined[-1][2] += in_flight
        else:
            joined.append([began, ended, in_flight])
    return tuple(
        Stall(round(max(began, origin) - origin, 3), round(ended - max(began, origin), 3), int(in_flight))
        for began, ended, in_flight in joined
        if ended - began >= floor_s and ended > origin
    )


def _percentiles(hist: HdrHistogram | None, *points: float) -> list[float | None]:
    if hist is None or not hist.get_total_count():
        return [None for _ in points]
    return [_ms(hist.get_value_at_percentile(p)) for p in points]
