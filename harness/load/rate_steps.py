"""The capacity search's steps on this host: one constant-arrival-rate locust run per step.

Each step is an ordinary load run (:class:`harness.load.run.LocalLoad`, locust in its own
processes) with a target rate: every locust user keeps a fixed schedule of ``users / rate``
seconds and its latency counts from each request's *intended* start (the locustfile's
``context["intended"]``), so a server that falls behind shows its queue in the percentiles
instead of slowing the generator down (no coordinated omission; the scheme of wrk2 and of
Vegeta's constant rate). The users only carry the schedule: there are enough of them for the
rate times the latency bound, so that a slow answer delays the next request of one user, not
the arrival rate.

While a step runs, the locust process tree is sampled (:class:`harness.load.resources.Sampler`):
when its busiest process kept a core busy (locust's workers are single-threaded gevent loops),
the step's shortfall is the generator's, not the server's, and the step says so
(``generator_saturated``); the search then reports ``limited_by = "generator"``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable
from pathlib import Path

from harness import figures
from harness.config import HarnessConfig
from harness.load.capacity import CapacityResult, Gates, SearchPlan, Step, search
from harness.load.plan import LoadPlan
from harness.load.resources import Sampler
from harness.load.results import LoadResult
from harness.load.run import LocalLoad

Progress = Callable[[str], None]
STEP_WARMUP_S = 1.0  # the probe's warm-up (connections opened)
GENERATOR_BUSY_PERCENT = 85.0  # the busiest generator process at this CPU (of one core): saturated
GENERATOR_SAMPLE_S = 0.5
SPAWN_S = 0.25  # every user of a step starts within this


@dataclasses.dataclass(frozen=True)
class StepSettings:
    """How the steps are made.

    Args:
        latency_bound_s: the slowest answer a user waits for before its schedule slips (the
            SLO's loosest latency gate): users = rate x this x 2, within the bounds below.
        max_users: most users (connections) of one step.
        probe_s: length of the closed-loop probe.
    """

    latency_bound_s: float = 0.25
    max_users: int = 256
    probe_s: float = 4.0


def steady_window(result: LoadResult) -> tuple[float, float]:
    """The achieved rate of a step, and the seconds of sending it was counted over.

    The recorder counts a request in the second its answer came (``TimelinePoint``), and only
    if it was *meant* to start after the warm-up. So the timeline's whole seconds ``[0, N)``
    (the last, partial second, while the users stop, left out) hold the requests meant to start
    in ``[0, N - L)``, ``L`` being the time from intended start to answer: the step's mean
    latency. Divided by ``N``, a 200 ms service over 2 s would read as 10 % short of the
    offered rate; divided by ``N - L`` it does not. ``N - L`` is kept to at least ``N / 2``: a
    step whose latency is that long breaks its latency gates whatever it achieved.
    """
    # the window's whole seconds: answers waited for after the window closed land past them
    whole = [p for p in result.timeline if p.t + 1 <= result.measured_s] if result.measured_s else list(result.timeline[:-1])
    if not whole:
        return result.rps, result.measured_s
    lag_s = (result.latency_ms.mean or 0.0) / 1000
    seconds = max(len(whole) - lag_s, len(whole) / 2)
    return figures.per_second(sum(p.requests for p in whole), seconds), seconds


class LocalRateSteps:
    """Runs the search's steps with locust on this host, from the plan a load window would use.

    Args:
        base: the target's load plan (endpoint, headers, payloads, worker processes); each step
            replaces its rate, users and length.
        out_dir: each step writes ``step-NN/`` here (locust's logs and the workers' figures).
        via: what the requests go through, for the record.
    """

    def __init__(self, base: LoadPlan, out_dir: Path, settings: StepSettings = StepSettings(), via: str = "direct",
                 progress: Progress | None = None) -> None:
        self.base = base
        self.out_dir = out_dir
        self.settings = settings
        self.via = via
        self.progress = progress
        self.count = 0

    def users_for(self, rate: float) -> int:
        """Users for ``rate``: enough in flight for the latency bound, at least one per worker."""
        wanted = math.ceil(rate * self.settings.latency_bound_s * 2)
        return max(self.base.processes, min(self.settings.max_users, wanted))

    def measure(self, rate: float, step_s: float) -> Step:
        """One constant-rate step: ``rate`` req/s offered and measured for ``step_s`` seconds, after a warm-up
        as long as the users take to start their schedules (about a second)."""
        users = self.users_for(rate)
        # every user has started and sent its first request (at a random point of its first
        # interval, so that the schedules interleave) before the figures count
        warmup = SPAWN_S + users / rate + 0.25
        plan = dataclasses.replace(self.base, rate=rate, users=users, spawn_rate=max(1.0, users / SPAWN_S),
                                   duration_s=step_s + warmup, warmup_s=warmup)
        result, busiest = self._run(plan, "step")
        achieved, seconds = steady_window(result)
        latency = result.latency_ms
        return Step(
            offered_rps=rate,
            achieved_rps=achieved,
            p50_ms=latency.p50,
            p95_ms=latency.p95,
            p99_ms=latency.p99,
            error_rate=result.error_rate if result.error_rate is not None else 1.0,
            requests=result.requests,
            duration_s=seconds,
            generator_saturated=busiest is not None and busiest >= GENERATOR_BUSY_PERCENT,
            generator_cpu_percent=busiest,
            users=users,
            answered=result.answered,
            unanswered=sum(f.count for f in result.failures_by_kind if f.status == 0),
            stall_s=max((s.duration_s for s in result.stalls), default=0.0),
            top_failure=result.failures_by_kind[0].message if result.failures_by_kind else None,
        )

    def probe(self) -> float:
        """The closed-loop throughput ceiling: the base plan's users as fast as they go, briefly."""
        plan = dataclasses.replace(self.base, rate=None, duration_s=self.settings.probe_s,
                                   warmup_s=min(STEP_WARMUP_S, self.settings.probe_s / 4))
        result, _ = self._run(plan, "probe")
        if self.progress:
            self.progress(f"capacity probe: {result.rps:.1f} req/s closed-loop with {plan.users} users")
        return result.rps

    def _run(self, plan: LoadPlan, kind: str) -> tuple[LoadResult, float | None]:
        """Run ``plan`` and return its result and the busiest generator process's median CPU."""
        self.count += 1
        load = LocalLoad(plan, self.out_dir / f"{self.count:02d}-{kind}", self.via)
        sampler: Sampler | None = None
        try:
            load.prestart()
            sampler = Sampler(lambda: [load.proc.pid] if load.proc is not None else [], GENERATOR_SAMPLE_S).start()
            result = load.run()
        finally:
            series = sampler.stop() if sampler is not None else None
            load.stop()
        # the median, not the mean: locust's import (one busy second before the go) stays out
        busiest = round(statistics.median(series.busiest_cpu_percent), 1) if series and series.busiest_cpu_percent else None
        return result, busiest


def search_capacity(base: LoadPlan, cfg: HarnessConfig, out_dir: Path, via: str = "direct",
                    progress: Progress | None = None) -> CapacityResult:
    """The capacity at SLO of ``base``'s endpoint: :func:`harness.load.capacity.search` over local steps.

    The gates are the run's SLO (``slo_p95_ms``, ``slo_p99_ms``, ``slo_error_rate``); the
    search's bounds are the ``capacity_*`` settings.
    """
    slo, capacity = cfg.slo, cfg.capacity
    gates = Gates(p95_ms=slo.p95_ms, p99_ms=slo.p99_ms, error_rate=slo.error_rate)
    bound_ms = max((v for v in (slo.p95_ms, slo.p99_ms) if v is not None), default=1000.0)
    steps = LocalRateSteps(base, out_dir, StepSettings(bound_ms / 1000, capacity.max_users, capacity.probe), via, progress)
    plan = SearchPlan(start_rps=capacity.start_rps, precision=capacity.precision, step_s=capacity.step,
                      max_steps=capacity.max_steps, budget_s=capacity.budget)
    return search(steps.measure, gates, plan, probe=steps.probe, progress=progress or (lambda _m: None))
