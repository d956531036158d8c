"""SLO suite: drive load against the endpoint once and hold it to the configured gates.

Thresholds come from the settings (``--harness-slo-p95-ms``...); under pytest the load window is
5 s unless ``--harness-duration`` is given. The ``slo.*`` and ``baseline.*`` checks are the
registry's (the same ones ``mlharness run`` records); a failure shows the measured value
against the threshold, and the window behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mlharness_fixtures.plugin import assert_check

from harness.results import CheckResult

pytestmark = [pytest.mark.load, pytest.mark.endpoint]


def test_load_completed(harness_load: Any) -> None:
    assert harness_load.requests > 0, "no request completed in the measured window"
    assert harness_load.complete, f"only {harness_load.workers} of {harness_load.processes} locust workers reported figures"


@pytest.mark.harness_checks("slo", "baseline")
def test_gate(harness_check: Callable[[str], CheckResult], harness_check_name: str, request: pytest.FixtureRequest) -> None:
    result = harness_check(harness_check_name)
    if result.failed and result.name.startswith("slo."):
        load = request.getfixturevalue("harness_load")
        window = f"{load.requests} requests over {load.measured_s}s after {load.warmup_s}s warm-up, {load.rps} req/s, {load.failures} failures"
        failures = "".join(f"\n  failure: {f.count}x {f.name} HTTP {f.status} {f.message}" for f in load.failures_by_kind[:3])
        pytest.fail(f"{result.name} failed: {result.message}\n  window: {window}\n  latency: {load.latency_ms.as_dict()}{failures}", pytrace=False)
    assert_check(result)
