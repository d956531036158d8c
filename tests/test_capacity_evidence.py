"""Capacity without evidence is no capacity: a search where nothing held fails, one where every
request failed is an error naming the server's error, and a server that stops answering during
the search gets no figure. Simulated steps (fast), and ``mlharness capacity``'s exit code against
the stub server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.checks.capacity import capacity_gate
from harness.cli import main as cli
from harness.config import HarnessConfig
from harness.load.capacity import ALL_FAILED, STOPPED, Gates, SearchPlan, Step, search
from harness.load.plan import LoadPlan
from harness.load.rate_steps import search_capacity
from harness.results import CheckStatus, Endpoint

from .test_capacity_search import GATES, Clock


def _step(rate: float, *, p95: float = 10.0, errors: float = 0.0, answered: int | None = None, unanswered: int = 0,
          stall_s: float = 0.0, failure: str | None = None, achieved: float | None = None) -> Step:
    requests = int(rate * 8)
    return Step(rate, rate if achieved is None else achieved, p95 / 2, p95, p95 * 1.5, errors, requests, 8.0,
                answered=requests if answered is None else answered, unanswered=unanswered, stall_s=stall_s, top_failure=failure)


def test_no_step_held_fails_even_without_a_threshold() -> None:
    clock = Clock()

    def slow(rate: float, seconds: float) -> Step:
        clock.now += seconds
        return _step(rate, p95=300.0)

    result = search(slow, GATES, SearchPlan(start_rps=10, max_steps=3), clock=clock)
    assert result.capacity_rps is None
    assert result.message.startswith("no rate held the SLO (lowest tried: 4.4 req/s, p95 300 ms, errors 0 %: p95 300 ms > 100 ms")
    check = capacity_gate(result, None)
    assert check.status is CheckStatus.FAILED and check.message == result.message
    assert check.details["steps"] == 3


def test_a_search_whose_every_request_failed_is_an_error_with_the_servers_error() -> None:
    clock = Clock()
    steps: list[float] = []

    def rejecting(rate: float, seconds: float) -> Step:
        clock.now += seconds
        steps.append(rate)
        return _step(rate, errors=1.0, answered=0, failure="HTTP 400: {\"error\": \"unexpected inference input 'input-0'\"}")

    result = search(rejecting, GATES, SearchPlan(start_rps=50), clock=clock)
    assert steps == [50], "nothing to search: one step says the server answers nothing"
    assert result.capacity_rps is None and result.limited_by == ALL_FAILED
    assert "unexpected inference input 'input-0'" in result.message
    check = capacity_gate(result, 1000.0)
    assert check.status is CheckStatus.ERROR and check.message.startswith("every request failed (400 at 50 req/s): HTTP 400")
    assert capacity_gate(result, None).status is CheckStatus.ERROR


def test_a_server_that_deadlocks_during_the_search_gets_no_capacity() -> None:
    """Step 1 holds at 2,972.8 req/s, then nothing answers: not 'at least 2,972.8 req/s'."""
    clock = Clock()

    def deadlocking(rate: float, seconds: float) -> Step:
        clock.now += seconds
        if clock.now <= 8:
            return _step(rate, achieved=2972.8)
        requests = int(rate * 8)
        return Step(rate, 0.0, None, None, None, 1.0, requests, 8.0, answered=0, unanswered=requests, stall_s=8.0,
                    top_failure="no complete answer within 10s (request_timeout)")

    result = search(deadlocking, GATES, SearchPlan(start_rps=3000), clock=clock)
    assert len(result.steps) == 2 and result.limited_by == STOPPED
    assert result.capacity_rps is None and "the server stopped answering at step 2" in result.message, result.message
    check = capacity_gate(result, 1000.0)
    assert check.status is CheckStatus.FAILED and "at least" not in check.message


def test_a_step_with_a_stall_holds_nothing() -> None:
    step = _step(100.0, stall_s=2.5)
    assert Gates().judge(step) == ("no answer for 2.50 s with requests in flight (a stall)",)
    assert Gates().judge(_step(100.0, stall_s=0.4)) == ()


@pytest.mark.load
def test_mlharness_capacity_exits_1_when_every_request_fails(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    endpoint = stub("--delay-ms", "2", "--answer", '{"error": "overloaded"}')
    code = cli.main(["capacity", "--target", "endpoint", "--url", endpoint.base_url, "--model-name", "stub",
                     "--report-dir", str(tmp_path / "report"), "--capacity-step", "2", "--capacity-probe", "2",
                     "--capacity-budget", "30"])
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    check = next(c for c in report["checks"] if c["name"] == "slo.capacity_rps")
    assert code == 1 and report["status"] == "failed", (code, check)
    assert check["status"] == "error" and "answer outside the contract" in check["message"], check


@pytest.mark.load
def test_a_server_that_deadlocks_during_a_real_search_gets_no_capacity(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    """The stub hangs every inference 8 s after its first: the step that meets it answers nothing and ends the search."""
    endpoint = stub("--delay-ms", "2", "--hang-after", "8")
    cfg = HarnessConfig().replace(users=2, load_processes=1, load_protocol="v1", request_timeout=1.0, capacity_step=2.0,
                                  capacity_probe=2.0, capacity_budget=60.0, capacity_max_steps=6, capacity_start_rps=40.0)
    plan = LoadPlan.from_config(Endpoint(endpoint.base_url, "stub", protocols=("v1",)), cfg)
    result = search_capacity(plan, cfg, tmp_path / "capacity")
    assert result.limited_by == STOPPED and result.capacity_rps is None, (result.message, [s.as_dict() for s in result.steps])
    assert result.steps[-1].answered == 0 and result.steps[-1].unanswered == result.steps[-1].requests > 0
    check = capacity_gate(result, 1.0)
    assert check.status is CheckStatus.FAILED and "the server stopped answering" in check.message and "at least" not in check.message
