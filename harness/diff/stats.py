"""The latency comparison of the release diff: is the candidate slower than the live model?

Two samples of request latencies (milliseconds), one per side, measured in interleaved windows
(:mod:`harness.diff.latency`). The test is SciPy's Mann-Whitney U
(:func:`scipy.stats.mannwhitneyu`, one-sided: the candidate's latencies tend to be larger), as
Kayenta's canary judge uses it; its effect sizes are the Hodges-Lehmann shift (the median of
every candidate-minus-live difference) and the common-language effect size (the probability
that a candidate request is slower than a live one, ``U / (n1 n2)``).

A regression needs both: the test significant at ``alpha`` *and* a percentile (p50, p95 or
p99) grown by more than ``max_increase`` relative to the live one, over all requests and in
every pair of windows (each candidate window against the live window it is paired with). A 2 % wobble
over thousands of requests may be significant, yet it is no regression; one burst of machine
noise that fell on one candidate window grows its tail, yet not in every pair; a 40 ms slowdown
of a 2 ms model is all three.

Why every pair: requests within a window are not independent (noise comes in bursts that last
longer than a request), so over thousands of requests the rank test calls a burst significant;
the windows are the independent units, and a slowdown of the candidate shows in each of them.

Example:
    >>> live = [2.0 + 0.01 * (i % 7) for i in range(200)]
    >>> same = compare_latency(live, list(reversed(live)), max_increase=0.2, alpha=0.01)
    >>> same.regressed, same.significant
    (False, False)
    >>> slow = compare_latency(live, [v + 40 for v in live], max_increase=0.2, alpha=0.01)
    >>> slow.regressed, round(slow.shift_ms)
    (True, 40)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

TEST = "Mann-Whitney U (one-sided: candidate slower), scipy.stats.mannwhitneyu"
PERCENTILES = (50, 95, 99)
#: the Hodges-Lehmann estimate is the median of n1*n2 differences: above this many, of a
#: deterministic, evenly spaced subsample of each side (its order statistics)
HL_MAX_PAIRS = 4_000_000


@dataclasses.dataclass(frozen=True)
class SideLatency:
    """One side's latency figures: successful requests, errors, percentiles (ms)."""

    requests: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None

    @property
    def samples(self) -> int:
        return self.requests - self.errors

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "samples": self.samples, "error_rate": self.error_rate}


@dataclasses.dataclass(frozen=True)
class LatencyComparison:
    """The two sides compared: the test, its p-value and effect sizes, each percentile's change
    and the verdict (``regressed``: significant and beyond ``max_increase``)."""

    live: SideLatency
    candidate: SideLatency
    test: str = TEST
    u_statistic: float | None = None
    p_value: float | None = None
    alpha: float = 0.01
    shift_ms: float | None = None  # Hodges-Lehmann: median of candidate - live
    relative_shift: float | None = None  # shift_ms / the live median
    common_language: float | None = None  # P(candidate request slower than a live one)
    changes: dict[str, float | None] = dataclasses.field(default_factory=dict)  # p50/p95/p99: candidate / live - 1
    window_changes: dict[str, list[float | None]] = dataclasses.field(default_factory=dict)  # the same, per window pair
    max_increase: float = 0.2
    beyond: tuple[str, ...] = ()  # the percentiles grown by more than max_increase, overall and in every window pair

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha

    @property
    def regressed(self) -> bool:
        return self.significant and bool(self.beyond)

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data.update(live=self.live.as_dict(), candidate=self.candidate.as_dict(), beyond=list(self.beyond),
                    significant=self.significant, regressed=self.regressed)
        return data


def side_latency(samples_ms: Sequence[float], errors: int = 0) -> SideLatency:
    """The percentiles of one side's successful requests (numpy's linear interpolation)."""
    import numpy as np

    if not len(samples_ms):
        return SideLatency(errors, errors)
    values = np.asarray(samples_ms, dtype=float)
    p50, p95, p99 = (float(np.percentile(values, q)) for q in PERCENTILES)
    return SideLatency(len(values) + errors, errors, round(p50, 3), round(p95, 3), round(p99, 3), round(float(values.mean()), 3))


def hodges_lehmann(live_ms: Sequence[float], candidate_ms: Sequence[float]) -> float:
    """The median of every ``candidate - live`` difference (the shift a rank test estimates)."""
    import numpy as np

    a, b = np.sort(np.asarray(live_ms, dtype=float)), np.sort(np.asarray(candidate_ms, dtype=float))
    while a.size * b.size > HL_MAX_PAIRS:  # halve the larger side: its every other order statistic
        if a.size >= b.size:
            a = a[::2]
        else:
            b = b[::2]
    return float(np.median(np.subtract.outer(b, a)))


def _percentile_change(live: Sequence[float], candidate: Sequence[float], q: int) -> float | None:
    import numpy as np

    if len(live) < 2 or len(candidate) < 2:
        return None
    before, after = float(np.percentile(live, q)), float(np.percentile(candidate, q))
    return round(after / before - 1, 4) if before else None


def compare_latency(live_ms: Sequence[float], candidate_ms: Sequence[float], *, max_increase: float, alpha: float,
                    live_errors: int = 0, candidate_errors: int = 0, live_windows: Sequence[Sequence[float]] = (),
                    candidate_windows: Sequence[Sequence[float]] = ()) -> LatencyComparison:
    """The two sides' latencies compared (see the module). ``*_windows``: the same samples window
    by window, paired by index (none: all of them one window). Fewer than two samples on a side:
    no test (``p_value`` None), so never a regression; the check says why."""
    from scipy.stats import mannwhitneyu

    live, candidate = side_latency(live_ms, live_errors), side_latency(candidate_ms, candidate_errors)
    if len(live_ms) < 2 or len(candidate_ms) < 2:
        return LatencyComparison(live, candidate, alpha=alpha, max_increase=max_increase)
    result = mannwhitneyu(candidate_ms, live_ms, alternative="greater", method="asymptotic")
    u = float(result.statistic)
    shift = hodges_lehmann(live_ms, candidate_ms)
    changes: dict[str, float | None] = {}
    for q in PERCENTILES:
        before, after = getattr(live, f"p{q}_ms"), getattr(candidate, f"p{q}_ms")
        changes[f"p{q}"] = round(after / before - 1, 4) if before else None
    pairs = list(zip(live_windows, candidate_windows, strict=False)) or [(live_ms, candidate_ms)]
    per_window = {f"p{q}": [_percentile_change(a, b, q) for a, b in pairs] for q in PERCENTILES}
    beyond = tuple(name for name, change in changes.items()
                   if change is not None and change > max_increase
                   and all(c is not None and c > max_increase for c in per_window[name]))
    median = live.p50_ms
    return LatencyComparison(
        live, candidate, u_statistic=u, p_value=float(result.pvalue), alpha=alpha, shift_ms=round(shift, 4),
        relative_shift=round(shift / median, 4) if median else None,
        common_language=round(u / (len(live_ms) * len(candidate_ms)), 4), changes=changes, window_changes=per_window,
        max_increase=max_increase, beyond=beyond,
    )
