"""Capacity at SLO and server resources under load, measured for real (127.0.0.1 only).

The server of these tests (``tests/helpers/slots_server.py``) has a capacity known by construction:
``slots / service time``. The search must find it within 10 %, in bounded steps and time; a
variant that leaks memory per request must fail ``slo.rss_growth``, the same server without the
leak must pass it. Every run is bounded by the settings it is given (a few seconds a step).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.checks import REGISTRY, Registry
from harness.checks.builtin import register_builtins
from harness.config import HarnessConfig, load_config
from harness.load.plan import LoadPlan
from harness.load.rate_steps import LocalRateSteps, StepSettings, search_capacity
from harness.load.resources import Sampler
from harness.load.run import LocalLoad
from harness.results import CheckStatus, Endpoint
from harness.run.runner import ValidationRun

from .helpers.servers import ChildServers
from .helpers.stub_target import StubTargetBase

# 40 req/s: a long service time and little CPU per request, so that the scheduling delays of a
# busy machine (tens of ms) stay a small part of each slot's time
SLOTS, SERVICE_MS = 8, 200.0
TRUE_CAPACITY = SLOTS / (SERVICE_MS / 1000)

@pytest.fixture
def slots_server(child_servers: ChildServers) -> Callable[..., tuple[Endpoint, int]]:
    """Starts ``tests/helpers/slots_server.py`` with the given flags; returns its endpoint and pid."""

    def start(*args: str) -> tuple[Endpoint, int]:
        server = child_servers.start("tests.helpers.slots_server", *args)
        assert server.proc is not None
        return Endpoint(server.url, "slots", protocols=("v1", "v2")), server.proc.pid

    return start


def test_users_carry_the_rate_within_bounds() -> None:
    plan = LoadPlan.from_config(Endpoint("http://127.0.0.1:1", "m", protocols=("v1",)), HarnessConfig(), 2)
    steps = LocalRateSteps(plan, Path("."), StepSettings(latency_bound_s=0.25, max_users=64))
    assert steps.users_for(1.0) == 2  # at least one per worker process
    assert steps.users_for(40.0) == 20  # rate x bound x 2
    assert steps.users_for(10_000.0) == 64  # never past max_users


def test_finds_the_capacity_of_a_server_known_by_construction(slots_server: Callable[..., tuple[Endpoint, int]], tmp_path: Path) -> None:
    endpoint, _pid = slots_server("--slots", str(SLOTS), "--service-ms", str(SERVICE_MS))
    # latency gates loose enough for the queueing of a busy server (3x and 5x the service time), so
    # the gate that breaks first is the capacity itself (the backlog grows, the endpoint stops keeping up)
    cfg = HarnessConfig().replace(capacity_step=3, capacity_probe=2, capacity_budget=75, capacity_max_steps=12,
                                  slo_p95_ms=600, slo_p99_ms=1000, load_processes=1, load_protocol="mixed")
    result = search_capacity(LoadPlan.from_config(endpoint, cfg, 1), cfg, tmp_path / "capacity")
    curve = "\n".join(f"{s.offered_rps:.1f} -> {s.achieved_rps:.1f} p95 {s.p95_ms} {s.broken_by}" for s in result.curve)
    assert result.capacity_rps is not None, result.message
    assert abs(result.capacity_rps - TRUE_CAPACITY) / TRUE_CAPACITY <= 0.10, f"{result.message}\n{curve}"
    assert result.limited_by == "slo", f"{result.message}\n{curve}"
    assert any(not s.holds for s in result.steps) and any(s.holds for s in result.steps)
    assert len(result.steps) <= 12 and result.duration_s <= 75 + 10, result.duration_s  # one step's start-up of slack
    assert all(s.generator_cpu_percent is not None and not s.generator_saturated for s in result.steps)
    # the curve is the evidence: holding steps kept up with what they were offered (within the
    # counting noise of a few dozen requests: Step.phase_allowance_rps)
    assert all(s.achieved_rps >= 0.85 * s.offered_rps for s in result.steps if s.holds), curve


class LeakTarget(StubTargetBase):
    """Serves a running ``slots_server.py`` and samples its process, as the local target samples its server."""

    name = "slots"

    def __init__(self, endpoint: Endpoint, pid: int, cfg: HarnessConfig, work_dir: Path) -> None:
        self.endpoint, self.pid, self.cfg, self.work_dir = endpoint, pid, cfg, work_dir

    def provision(self) -> None:
        """Nothing to bring up: the server runs."""

    def deploy(self, run: object) -> Endpoint:
        return self.endpoint

    def load_generator(self, endpoint: Endpoint) -> Any:
        return LocalLoad(LoadPlan.from_config(endpoint, self.cfg, 1), (self.work_dir or Path(".")) / "load")

    def resource_monitor(self) -> Sampler:
        return Sampler(lambda: [self.pid])

    def diagnostics(self, out_dir: Path) -> list[Path]:
        return []

    def teardown(self) -> None:
        """The fixture stops the server."""


def _rss_run(tmp_path: Path, endpoint: Endpoint, pid: int) -> dict[str, Any]:
    register_builtins()
    registry = Registry()
    for name in ("deploy.ready", "slo.rss_growth"):
        registry.add(REGISTRY.get(name))
    cfg = load_config(cli={"robustness": False, "users": 8, "rate": 100, "duration": 9, "warmup": 1, "load_processes": 1,
                           "slo_rss_growth": 30, "target": "endpoint", "url": endpoint.base_url, "model_name": "slots"}, env={})
    run = ValidationRun(cfg, tmp_path / "run", registry=registry)
    run.target = LeakTarget(endpoint, pid, cfg, tmp_path / "run")  # type: ignore[assignment]
    outcome = run.execute()
    return outcome.report


@pytest.mark.parametrize(("leak_kb", "expected"), [(64, CheckStatus.FAILED), (0, CheckStatus.PASSED)])
def test_a_leaking_server_fails_rss_growth_a_healthy_one_passes(
    slots_server: Callable[..., tuple[Endpoint, int]], tmp_path: Path, leak_kb: int, expected: CheckStatus
) -> None:
    endpoint, pid = slots_server("--slots", "8", "--service-ms", "5", "--leak-kb", str(leak_kb))
    report = _rss_run(tmp_path, endpoint, pid)
    check = next(c for c in report["checks"] if c["name"] == "slo.rss_growth")
    assert check["status"] == expected.value, check
    assert "MB/min" in check["message"] and check["details"]["samples"] >= 5, check
    series = report["resources"]
    assert series["source"] == "proc" and len(series["t_s"]) == len(series["rss_mb"]) == len(series["cpu_percent"]) >= 8
    if leak_kb:  # 100 req/s x 64 KiB: ~375 MB/min
        assert check["details"]["value"] > 100, check


def test_a_saturated_generator_is_named_not_taken_for_the_server(
    slots_server: Callable[..., tuple[Endpoint, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every step counts as generator-bound (the threshold at 0 % of a core): the search stops at the
    first broken step and reports a lower bound, limited by the generator, never the server's capacity."""
    from harness.load import rate_steps

    monkeypatch.setattr(rate_steps, "GENERATOR_BUSY_PERCENT", 0.0)
    endpoint, _pid = slots_server("--slots", str(SLOTS), "--service-ms", str(SERVICE_MS))
    cfg = HarnessConfig().replace(capacity_step=3, capacity_start_rps=80, capacity_budget=40, slo_p95_ms=600, slo_p99_ms=1000,
                                  load_processes=1)
    result = search_capacity(LoadPlan.from_config(endpoint, cfg, 1), cfg, tmp_path / "capacity")
    assert result.steps[0].offered_rps == 80 and not result.steps[0].holds and result.steps[0].generator_saturated
    assert result.limited_by in ("generator", "no holding step"), result.message
    if result.capacity_rps is not None:
        assert result.limited_by == "generator" and result.message.startswith("at least ") and "not the server" in result.message
    # no bisection past a generator-bound step: the search only ramped down from the start (80 req/s,
    # twice the server's capacity: how many steps that takes depends on where the machine's noise
    # puts the step at 89 % of capacity) and stopped at the first step that held
    offered = [step.offered_rps for step in result.steps]
    assert offered == sorted(offered, reverse=True) and len(set(offered)) == len(offered), offered
    held = [i for i, step in enumerate(result.steps) if step.holds]
    assert held in ([], [len(result.steps) - 1]), ("no step after the first that held", offered, held)
