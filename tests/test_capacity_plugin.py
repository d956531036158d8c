"""The pytest front end of the capacity search: ``harness_capacity`` and ``harness_check("slo.capacity_rps")``
run the same search once, into the same report, against a server of known capacity."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.results import Endpoint

from .test_capacity_run import slots_server  # noqa: F401 - the fixture


def test_fixture_and_check_share_one_search(pytester: pytest.Pytester, slots_server: Callable[..., tuple[Endpoint, int]],  # noqa: F811
                                            tmp_path: Path) -> None:
    endpoint, _pid = slots_server("--slots", "2", "--service-ms", "50")  # 40 req/s
    pytester.makepyfile(
        """
        from mlharness_fixtures.plugin import assert_check

        def test_capacity(harness_capacity):
            assert harness_capacity.capacity_rps is not None, harness_capacity.message
            assert 20 <= harness_capacity.capacity_rps <= 48, harness_capacity.message

        def test_gate(harness_check, harness_capacity):
            result = harness_check("slo.capacity_rps")
            assert_check(result)
            assert result.details["value"] == harness_capacity.capacity_rps  # the same search, not a second one
        """
    )
    report = tmp_path / "report"
    result = pytester.runpytest_subprocess(
        "--harness-target", "endpoint", "--harness-url", endpoint.base_url, "--harness-model-name", "slots",
        "--harness-capacity", "--harness-capacity-step", "2", "--harness-capacity-probe", "1.5", "--harness-capacity-budget", "15",
        "--harness-slo-capacity-rps", "10", "--harness-slo-p95-ms", "250", "--harness-slo-p99-ms", "400",
        "--harness-load-processes", "1", "--harness-report-dir", str(report),
    )
    result.assert_outcomes(passed=2)
    data = json.loads((report / "report.json").read_text())
    assert data["capacity"]["capacity_rps"] is not None and len(data["capacity"]["steps"]) >= 2
    assert [c["status"] for c in data["checks"] if c["name"] == "slo.capacity_rps"] == ["passed"]
