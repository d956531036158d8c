"""SLO suite: drive load against the endpoint once and hold it to the configured gates.

Thresholds come from the settings (``--harness-slo-p95-ms``...); the load window is short
under pytest (see ``fixtures/load.py``). Each failure message shows the measured value
against the threshold, and the figures behind it.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.config import pytest_flag
from harness.models import CheckResult

pytestmark = [pytest.mark.load, pytest.mark.endpoint]
GATES = ("slo.p50", "slo.p95", "slo.p99", "slo.error_rate", "slo.min_rps")


def _diff(check: CheckResult, load: dict[str, Any]) -> str:
    details = check.details
    lines = [
        f"{check.name} failed: {check.message}",
        f"  expected: {details.get('threshold')} {details.get('unit', '')}".rstrip(),
        f"  measured: {details.get('value')} {details.get('unit', '')}".rstrip(),
        f"  window:   {load['requests']} requests over {load['measured_s']}s after {load['warmup_s']}s warm-up, "
        f"{load['rps']} req/s, {load['failures']} failures",
        f"  latency:  {load['latency_ms']}",
    ]
    lines += [f"  failure:  {f['count']}x {f['name']} HTTP {f['status']} {f['message']}" for f in load["failures_by_kind"][:3]]
    return "\n".join(lines)


def test_load_completed(load_test: Any) -> None:
    assert load_test.requests > 0, "no request completed in the measured window"
    assert load_test.complete, f"only {load_test.workers} of {load_test.processes} locust workers reported figures"


@pytest.mark.parametrize("gate", GATES)
def test_slo(gate: str, slo_checks: dict[str, CheckResult], load_test: Any) -> None:
    if gate not in slo_checks:
        setting = "slo_" + gate.split(".")[1] + ("_ms" if gate.split(".")[1].startswith("p") else "")
        pytest.skip(f"no threshold configured for {gate} (set {pytest_flag(setting)})")
    check = slo_checks[gate]
    assert not check.failed, _diff(check, load_test.as_dict())


def test_no_regression_against_the_baseline(baseline_comparison: tuple[dict[str, Any], dict[str, CheckResult]]) -> None:
    comparison, checks = baseline_comparison
    failed = [c for c in checks.values() if c.failed]
    rows = [f"  {m['name']:<10} baseline {m['baseline']}  current {m['current']}  change {m['change']}" for m in comparison["metrics"] if m["gated"]]
    assert not failed, "regression against the baseline:\n" + "\n".join([c.message for c in failed] + rows)
