"""The deployed model is ready and answers correctly: the registry's ``deploy.*`` and ``predict.*``
checks (golden cases, accuracy, parity with the trained artifact, V1 against V2), over the
protocols the server speaks, plus any ``predict.*`` check your conftest registers."""

from collections.abc import Callable

import pytest
from mlharness_fixtures.plugin import assert_check

from harness.results import CheckResult

pytestmark = pytest.mark.endpoint


@pytest.mark.harness_checks("deploy", "predict")
def test_serving_check(harness_check: Callable[[str], CheckResult], harness_check_name: str) -> None:
    assert_check(harness_check(harness_check_name))
