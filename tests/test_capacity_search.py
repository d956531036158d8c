"""The capacity search, against simulated systems whose capacity is known by construction."""

from __future__ import annotations

import pytest

from harness.load.capacity import Gates, SearchPlan, Step, search


class Clock:
    """Simulated time: each step advances it by its duration."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def slots(capacity: float, service_ms: float, clock: Clock, *, generator_limit: float | None = None):  # type: ignore[no-untyped-def]
    """Fixed service time, fixed concurrent slots, constant arrivals: no queue below capacity;
    above it the backlog grows for the whole step and the tail latency with it."""

    def measure(rate: float, seconds: float) -> Step:
        clock.now += seconds
        sent = rate if generator_limit is None else min(rate, generator_limit)
        achieved = min(sent, capacity)
        if sent <= capacity:
            p95 = p99 = service_ms
        else:
            backlog_s = (sent - capacity) * seconds / capacity  # the last request's wait
            p95, p99 = service_ms + 0.9 * backlog_s * 1000, service_ms + 0.98 * backlog_s * 1000
        return Step(rate, achieved, service_ms, p95, p99, 0.0, int(achieved * seconds), seconds,
                    generator_saturated=generator_limit is not None and rate > generator_limit)

    return measure


GATES = Gates(p95_ms=100, p99_ms=250, error_rate=0.001)


@pytest.mark.parametrize("true_capacity", [37.0, 200.0, 1800.0])
def test_finds_the_capacity_within_ten_percent_in_bounded_steps(true_capacity: float) -> None:
    clock = Clock()
    plan = SearchPlan()
    result = search(slots(true_capacity, 20, clock), GATES, plan, probe=lambda: true_capacity * 1.1, clock=clock)
    assert result.capacity_rps is not None
    assert abs(result.capacity_rps - true_capacity) / true_capacity <= 0.10, result.message
    assert result.limited_by == "slo" and "breaks it" in result.message
    assert len(result.steps) <= plan.max_steps and clock.now <= plan.budget_s
    assert [s.offered_rps for s in result.curve] == sorted(s.offered_rps for s in result.steps)


def test_a_start_above_capacity_searches_down() -> None:
    clock = Clock()
    result = search(slots(100, 20, clock), GATES, SearchPlan(start_rps=1000), clock=clock)
    assert result.capacity_rps is not None and 90 <= result.capacity_rps <= 100, result.message
    assert not result.steps[0].holds


def test_a_generator_at_its_limit_is_reported_not_taken_for_the_server() -> None:
    clock = Clock()
    result = search(slots(500, 20, clock, generator_limit=150), GATES, SearchPlan(start_rps=100), clock=clock)
    assert result.limited_by == "generator"
    assert "load generator's CPU was the limit" in result.message and result.message.startswith("at least")


def test_nothing_holds_says_so() -> None:
    def failing(rate: float, seconds: float) -> Step:
        return Step(rate, rate, 5, 5, 5, 0.5, 100, seconds)

    result = search(failing, GATES, SearchPlan(start_rps=4, max_steps=5))
    assert result.capacity_rps is None and "no rate held the SLO" in result.message
    assert "error rate 50 % > 0.1 %" in result.message


def test_the_budget_bounds_the_search() -> None:
    clock = Clock()
    plan = SearchPlan(start_rps=1, factor=1.1, step_s=10, budget_s=35)
    result = search(slots(10_000, 20, clock), GATES, plan, clock=clock)
    assert len(result.steps) == 3 and result.limited_by == "budget"
    assert result.message.startswith("at least")


def test_gates_name_what_broke() -> None:
    step = Step(100, 80, 10, 312.4, 500, 0.01, 800, 10)
    assert Gates(p95_ms=100, p99_ms=None, error_rate=0.001).judge(step) == (
        "p95 312 ms > 100 ms", "error rate 1 % > 0.1 %", "achieved 80 req/s < 95 % of 100 req/s offered")  # harness.figures
    assert Gates().judge(Step(10, 10, None, None, None, 1.0, 0, 1))[0] == "p95: no successful request"


def test_the_knee_is_where_latency_leaves_its_floor() -> None:
    def curve(rate: float, seconds: float) -> Step:
        p95 = 10 if rate <= 50 else 30 if rate <= 80 else 500
        return Step(rate, rate, 5, p95, p95, 0, 10, seconds)

    result = search(curve, Gates(p95_ms=100, p99_ms=None), SearchPlan(start_rps=10, factor=2, precision=0.02))
    assert result.knee_rps is not None and result.knee_rps <= 50
    assert result.offered_rps is not None and 78 <= result.offered_rps <= 80
