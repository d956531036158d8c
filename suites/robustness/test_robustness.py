"""Robustness: property-based inputs against the deployed model, over the protocols it speaks.

Valid generated inputs answer exactly what the trained artifact answers; malformed requests
get a 4xx with an error body, never a 5xx or a hang; valid but unusual ones (large batches,
coercible V2 values, odd content types) get the right predictions or a 4xx. Profile, severity
and accepted findings come from ``--harness-robustness-profile`` (ci|nightly),
``--harness-robustness-severity`` and ``--harness-accepted-findings``.
"""

from collections.abc import Callable

import pytest
from mlharness_fixtures.plugin import assert_check

from harness.results import CheckResult

pytestmark = pytest.mark.endpoint


@pytest.mark.harness_checks("robustness")
def test_robustness_check(harness_check: Callable[[str], CheckResult], harness_check_name: str) -> None:
    assert_check(harness_check(harness_check_name))
