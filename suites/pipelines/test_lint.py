"""The compiled pipeline passes lint: nothing a reviewer would send back."""

import pytest

from harness.runner import ValidationRun

pytestmark = pytest.mark.pipeline


def test_compiled_spec_has_no_lint_errors(harness_run: ValidationRun, pipeline_run: object) -> None:
    errors = [f for f in harness_run.report.data["lint"] if f["severity"] == "error"]
    assert not errors, "lint errors:\n" + "\n".join(f"  {f['location']}: {f['message']} [{f['rule']}]" for f in errors)
