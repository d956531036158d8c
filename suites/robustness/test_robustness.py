"""Robustness: property-based inputs against the deployed model, over the protocols it speaks.

Valid generated inputs answer exactly what the trained artifact answers; malformed requests
get a 4xx with an error body, never a 5xx or a hang; valid but unusual ones (large batches,
coercible V2 values, odd content types) get the right predictions or a 4xx. Profile, severity
and accepted findings come from ``--harness-robustness-profile`` (ci|nightly),
``--harness-robustness-severity`` and ``--harness-accepted-findings``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import HarnessConfig
from harness.models import CheckResult, CheckStatus, Endpoint
from harness.robustness import run_robustness
from harness.runner import ValidationRun

pytestmark = pytest.mark.endpoint


@pytest.fixture(scope="module")
def robustness_results(
    endpoint: Endpoint, harness_config: HarnessConfig, model_artifact: Path | None, report_dir: Path, harness_run: ValidationRun
) -> dict[str, CheckResult]:
    """Both checks, once, with the run's client (its settings, labels and the protocols spoken)."""
    with harness_run.client(endpoint) as client:
        return {r.name: r for r in run_robustness(client, harness_config, model_artifact, report_dir)}


@pytest.mark.parametrize("name", ["robustness.parity", "robustness.bad_inputs"])
def test_robustness(robustness_results: dict[str, CheckResult], name: str) -> None:
    result = robustness_results[name]
    if result.status is CheckStatus.SKIPPED:
        pytest.skip(f"{name}: {result.message}")
    assert result.status in (CheckStatus.PASSED, CheckStatus.WARNED), f"{name}: {result.message}"

