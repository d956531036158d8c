"""Capacity at SLO: the highest request rate an endpoint sustains while the SLO gates hold.

The search drives *open-model* steps (constant arrival rate, latency counted from each
request's intended start, so a stalling server cannot hide its queue: no coordinated
omission), like Vegeta's constant rate and k6's ramping-arrival-rate executor, and searches
like Triton's perf_analyzer searches for a latency bound:

1. optionally a short closed-loop probe gives the throughput ceiling ``X`` (no SLO);
2. a coarse ramp from ``start`` (``X / 2``, or ``start_rps``) multiplies the rate by
   ``factor`` until a step breaks a gate: the first broken step above the knee ends it;
3. bisection between the highest holding rate and the lowest broken one, until they are
   within ``precision`` of each other.

Every step is as long as ``step_s``; the whole search is bounded by ``max_steps`` and
``budget_s`` (a step is started only if the budget still holds one more step as long as the
longest so far took, start-up of the generator included). A step *holds* when every gate holds and the endpoint kept up with the offered
rate (achieved >= ``keep_up`` x offered). When the load generator's own CPU was the limit of a
broken step, the result says so (``limited_by = "generator"``): the number found is then a
lower bound of the server's capacity, not the capacity.

The step runner is passed in (``measure``), so the search is the same for the local load
runner, a cluster's load Job, and the simulated systems of the tests.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

from harness import figures

rps = figures.per_second_text
STALL_S = 1.0  # as the load window's stall (harness.load.worker.recording.STALL_S)
ALL_FAILED = "every request failed"
STOPPED = "server stopped answering"


@dataclasses.dataclass(frozen=True)
class Step:
    """One constant-rate step: what was offered and what came back."""

    offered_rps: float
    achieved_rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float
    requests: int
    duration_s: float = 0.0  # the seconds achieved_rps was counted over
    generator_saturated: bool = False  # the load generator's CPU was the limit
    generator_cpu_percent: float | None = None  # the busiest generator process (100 = one core)
    users: int = 0  # connections the step's schedule was spread over
    broken_by: tuple[str, ...] = ()  # filled by the search: the gates this step broke
    answered: int | None = None  # valid answers (None: not counted, a step made before they were)
    unanswered: int = 0  # requests that got no answer at all (timeouts, unfinished, transport errors)
    stall_s: float = 0.0  # the longest time without any answer while requests were in flight
    top_failure: str | None = None  # the most frequent failure's message

    @property
    def holds(self) -> bool:
        return not self.broken_by

    @property
    def all_failed(self) -> bool:
        """Every request of the step failed (or none was sent)."""
        return self.answered == 0 or (self.answered is None and self.requests == 0)

    @property
    def dead(self) -> bool:
        """Nothing answered at all: every request timed out or found no server (a deadlock, a crash)."""
        return self.requests == 0 or (self.unanswered >= self.requests and self.answered == 0)

    @property
    def phase_allowance_rps(self) -> float:
        """The counting noise of ``achieved_rps``: requests counted in a window of whole seconds.

        Each of the step's ``users`` sends on its own fixed schedule with a random phase, so
        the window holds one request more or fewer of each user than the rate says (a
        uniform rounding error, variance 1/6 each): three standard deviations of their sum,
        ``1.22 x sqrt(users)`` requests, as a rate over ``duration_s``. 0 when either is unknown.
        """
        if self.users <= 0 or self.duration_s <= 0:
            return 0.0
        return 3 * math.sqrt(self.users / 6) / self.duration_s

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["broken_by"] = list(self.broken_by)
        data["holds"] = self.holds
        return data


@dataclasses.dataclass(frozen=True)
class Gates:
    """The SLO a step must hold (None: that gate is off)."""

    p95_ms: float | None = 100.0
    p99_ms: float | None = 250.0
    error_rate: float | None = 0.001
    keep_up: float = 0.95  # achieved / offered below this: the endpoint did not keep up

    def judge(self, step: Step) -> tuple[str, ...]:
        """The gates ``step`` breaks, as short messages ("p95 312.4 ms > 100 ms")."""
        broken = []
        for name, limit, value in (("p95", self.p95_ms, step.p95_ms), ("p99", self.p99_ms, step.p99_ms)):
            if limit is None:
                continue
            if value is None:
                broken.append(f"{name}: no successful request")
            elif value > limit:
                shown, bound = figures.versus(figures.MS, value, limit)
                broken.append(f"{name} {shown} > {bound}")
        if step.requests == 0:
            broken.append("no request completed")
        if step.stall_s >= STALL_S:
            broken.append(f"no answer for {figures.duration(step.stall_s)} with requests in flight (a stall)")
        if self.error_rate is not None and step.error_rate > self.error_rate:
            shown, bound = figures.versus(figures.RATIO, step.error_rate, self.error_rate)
            broken.append(f"error rate {shown} > {bound}")
        if step.offered_rps > 0 and step.achieved_rps + step.phase_allowance_rps < self.keep_up * step.offered_rps:
            broken.append(f"achieved {rps(step.achieved_rps)} < {figures.percent(self.keep_up)} of {rps(step.offered_rps)} offered")
        return tuple(broken)


@dataclasses.dataclass(frozen=True)
class SearchPlan:
    """How the search proceeds and where it stops."""

    start_rps: float | None = None  # None: half the probed throughput ceiling
    factor: float = 1.5  # coarse ramp multiplier
    precision: float = 0.05  # bisection stops when (hi - lo) / hi <= this
    step_s: float = 8.0
    max_steps: int = 14
    budget_s: float = 110.0
    floor_rps: float = 1.0  # never offer less than this

    def __post_init__(self) -> None:
        if self.factor <= 1:
            raise ValueError(f"factor must be above 1, got {self.factor}")
        if not 0 < self.precision < 1:
            raise ValueError(f"precision must be between 0 and 1, got {self.precision}")
        if self.max_steps < 2 or self.step_s <= 0 or self.budget_s <= 0:
            raise ValueError("max_steps >= 2, step_s > 0 and budget_s > 0 are needed")


@dataclasses.dataclass(frozen=True)
class CapacityResult:
    """The search's answer and its evidence."""

    capacity_rps: float | None  # achieved rate of the highest holding step; None if none held
    offered_rps: float | None  # the offered rate of that step
    knee_rps: float | None  # highest holding rate whose p95 is within 2x the lowest-load p95
    limited_by: str  # "slo" | "generator" | "budget" | "max_steps" | "no holding step" | ALL_FAILED | STOPPED
    steps: tuple[Step, ...]
    probe_rps: float | None
    duration_s: float
    message: str

    @property
    def curve(self) -> list[Step]:
        """The steps by offered rate: the throughput-latency curve."""
        return sorted(self.steps, key=lambda s: s.offered_rps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "capacity_rps": _round(self.capacity_rps),
            "offered_rps": _round(self.offered_rps),
            "knee_rps": _round(self.knee_rps),
            "limited_by": self.limited_by,
            "probe_rps": _round(self.probe_rps),
            "duration_s": round(self.duration_s, 3),
            "message": self.message,
            "steps": [s.as_dict() for s in self.steps],
            "curve": [s.as_dict() for s in self.curve],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


Measure = Callable[[float, float], Step]  # (offered rate, step seconds) -> Step


def search(
    measure: Measure,
    gates: Gates,
    plan: SearchPlan = SearchPlan(),
    probe: Callable[[], float] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] = lambda _m: None,
) -> CapacityResult:
    """Find the highest rate that holds ``gates``.

    Args:
        measure: runs one constant-rate step and returns what it saw.
        gates: the SLO each step must hold.
        plan: start, ramp, precision and bounds.
        probe: returns the closed-loop throughput ceiling (used when ``plan.start_rps`` is None).
        clock: monotonic seconds (tests pass a simulated clock).
        progress: called with a short line per step.
    """
    started = clock()
    steps: list[Step] = []
    probe_rps = None
    if plan.start_rps is not None:
        start = plan.start_rps
    else:
        if probe is None:
            raise ValueError("give plan.start_rps or a probe")
        probe_rps = probe()
        start = max(plan.floor_rps, probe_rps / 2)

    stop: str | None = None
    longest = plan.step_s  # what one step costs on the clock, generator start-up included

    def run(rate: float) -> Step | None:
        nonlocal stop, longest
        if len(steps) >= plan.max_steps:
            stop = "max_steps"
            return None
        if clock() - started + longest > plan.budget_s:
            stop = "budget"
            return None
        rate = max(plan.floor_rps, rate)
        began = clock()
        step = measure(rate, plan.step_s)
        longest = max(longest, clock() - began)
        step = dataclasses.replace(step, broken_by=gates.judge(step))
        steps.append(step)
        verdict = "holds" if step.holds else "breaks: " + "; ".join(step.broken_by)
        progress(f"capacity step {len(steps)}: {rps(rate)} offered, {rps(step.achieved_rps)} achieved, {verdict}")
        return step

    lo: Step | None = None
    hi: Step | None = None
    # coarse ramp up from the start (or down, while even the start breaks)
    rate = start
    while hi is None or lo is None:
        step = run(rate)
        if step is None:
            break
        if step.all_failed and lo is None:  # nothing to search: the server answers no request
            stop = ALL_FAILED
            break
        if step.dead:
            stop = STOPPED
            break
        if step.holds:
            lo = step
            rate = rate * plan.factor
        else:
            hi = step  # descending from a broken start, the lowest broken step so far
            if lo is not None or rate <= plan.floor_rps:
                break
            rate = rate / plan.factor
    # bisection
    while lo is not None and hi is not None and stop is None:
        if hi.generator_saturated:
            break
        if (hi.offered_rps - lo.offered_rps) / hi.offered_rps <= plan.precision:
            break
        step = run((lo.offered_rps + hi.offered_rps) / 2)
        if step is None:
            break
        if step.dead:
            stop = STOPPED
            break
        if step.holds:
            lo = step
        else:
            hi = step
    return _result(steps, lo, hi, stop, probe_rps, clock() - started)


def _result(steps: list[Step], lo: Step | None, hi: Step | None, stop: str | None, probe_rps: float | None, duration: float) -> CapacityResult:
    if stop == ALL_FAILED:
        last = steps[-1]
        return CapacityResult(None, None, None, ALL_FAILED, tuple(steps), probe_rps, duration,
                              f"{ALL_FAILED} ({figures.count(last.requests)} at {rps(last.offered_rps)}): {last.top_failure or 'no answer'}")
    if stop == STOPPED:
        dead = steps[-1]
        before = f"; steps before it held up to {rps(lo.achieved_rps)}, not a capacity of a server that stops" if lo else ""
        return CapacityResult(None, None, None, STOPPED, tuple(steps), probe_rps, duration,
                              f"the server stopped answering at step {len(steps)} ({rps(dead.offered_rps)} offered: "
                              f"0 of {figures.count(dead.requests)} requests answered; {dead.top_failure or 'no answer'}){before}")
    if lo is None:
        limited = stop or "no holding step"
        if not steps:
            return CapacityResult(None, None, None, limited, (), probe_rps, duration, "no rate held the SLO: no step ran")
        low = min(steps, key=lambda s: s.offered_rps)
        return CapacityResult(None, None, None, limited, tuple(steps), probe_rps, duration,
                              f"no rate held the SLO (lowest tried: {rps(low.offered_rps)}, p95 {figures.ms(low.p95_ms)}, "
                              f"errors {figures.percent(low.error_rate)}: {'; '.join(low.broken_by)})")
    held = [s for s in steps if s.holds]
    best = max(held, key=lambda s: s.offered_rps)
    knee = _knee(held)
    if hi is not None and hi.generator_saturated:
        limited = "generator"
        message = (f"at least {rps(best.achieved_rps)}: the load generator's CPU was the limit at "
                   f"{rps(hi.offered_rps)}, not the server (give the generator more cores or run it elsewhere)")
    elif hi is None:
        limited = stop or "no broken step"
        message = f"at least {rps(best.achieved_rps)}: the search ended ({limited}) before any step broke the SLO"
    else:
        limited = "slo" if stop is None else stop
        message = (f"{rps(best.achieved_rps)} at SLO (offered {rps(best.offered_rps)}); "
                   f"{rps(hi.offered_rps)} breaks it: {'; '.join(hi.broken_by)}")
    return CapacityResult(best.achieved_rps, best.offered_rps, knee, limited, tuple(steps), probe_rps, duration, message)


def _knee(held: list[Step]) -> float | None:
    """The highest holding rate whose p95 is still within 2x the lowest-load step's p95."""
    by_rate = sorted((s for s in held if s.p95_ms is not None), key=lambda s: s.offered_rps)
    if not by_rate:
        return None
    base = by_rate[0].p95_ms or 0.0
    flat = [s for s in by_rate if (s.p95_ms or 0.0) <= 2 * base]
    return flat[-1].offered_rps if flat else None
