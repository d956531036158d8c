"""The capacity search against a third-party server: MLServer 1.7.1 (V2 only), on 127.0.0.1.

Backs ``tests/test_capacity_run.py`` (our own server of known capacity) with someone else's
server: the constant-rate steps speak its protocol (V2 only: V1 would be 404s, failed
steps), the curve is consistent with the closed-loop probe, and the search stays in its bounds.
"""

from __future__ import annotations

from pathlib import Path

from harness.config import HarnessConfig
from harness.load.plan import LoadPlan
from harness.load.rate_steps import search_capacity

from .servers import ForeignServer


def test_capacity_of_mlserver(mlserver: ForeignServer, tmp_path: Path) -> None:
    cfg = HarnessConfig().replace(capacity_step=2.5, capacity_probe=2, capacity_budget=25, capacity_max_steps=8, load_processes=1)
    plan = LoadPlan.from_config(mlserver.endpoint, cfg, 1)
    assert plan.protocol == "v2", "MLServer speaks V2 only: the steps must not send V1"
    result = search_capacity(plan, cfg, tmp_path / "capacity")
    curve = "\n".join(f"{s.offered_rps:.1f} -> {s.achieved_rps:.1f} p95 {s.p95_ms} err {s.error_rate} {s.broken_by}" for s in result.curve)
    assert result.capacity_rps is not None, f"{result.message}\n{curve}"
    assert result.probe_rps is not None and result.probe_rps > 0
    # an open-model rate the server holds cannot be far above what it answers as fast as it can
    assert result.capacity_rps <= 1.5 * result.probe_rps, f"{result.message}\n{curve}"
    held = [s for s in result.steps if s.holds]
    assert held and all(s.error_rate == 0 and s.requests > 0 and s.p95_ms is not None for s in held), curve
    assert len(result.steps) <= 8 and result.duration_s <= 25 + 10, result.duration_s
    assert result.limited_by in ("slo", "generator", "budget", "max_steps"), result.message
