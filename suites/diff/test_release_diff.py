"""Release diff suite: the candidate judged against the live model on the same requests.

Skipped unless a candidate is given (``--harness-candidate-url``, or
``--harness-candidate-artifact`` on the local target); the thresholds are the ``diff`` settings
(``--harness-max-disagreement``...). The ``diff.*`` checks are the registry's, the same ones
``mlharness diff`` and ``mlharness run`` record (docs/diff.md).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mlharness_fixtures.plugin import assert_check

from harness.results import CheckResult

pytestmark = pytest.mark.endpoint


@pytest.mark.harness_checks("diff")
def test_diff(harness_check: Callable[[str], CheckResult], harness_check_name: str) -> None:
    assert_check(harness_check(harness_check_name))
