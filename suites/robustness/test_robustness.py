"""Robustness: property-based inputs against the deployed model.

Valid generated inputs answer exactly what the trained artifact answers; malformed requests
get a 4xx with an error body, never a 5xx or a hang. Profile and severity come from
``--harness-robustness-profile`` (ci|nightly) and ``--harness-robustness-severity``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.client import InferenceClient
from harness.config import HarnessConfig
from harness.models import CheckResult, CheckStatus, Endpoint
from harness.robustness import run_robustness

pytestmark = pytest.mark.endpoint


@pytest.fixture(scope="module")
def robustness_results(endpoint: Endpoint, harness_config: HarnessConfig, model_artifact: Path | None, report_dir: Path) -> dict[str, CheckResult]:
    with InferenceClient(endpoint, harness_config.request_timeout) as client:
        return {r.name: r for r in run_robustness(client, harness_config, model_artifact, report_dir)}


@pytest.mark.parametrize("name", ["robustness.parity", "robustness.bad_inputs"])
def test_robustness(robustness_results: dict[str, CheckResult], name: str) -> None:
    result = robustness_results[name]
    if result.status is CheckStatus.SKIPPED:
        pytest.skip(f"{name}: {result.message}")
    assert result.status in (CheckStatus.PASSED, CheckStatus.WARNED), f"{name}: {result.message}"
