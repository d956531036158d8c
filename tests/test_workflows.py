"""The CI workflows stay in step with the code they drive."""

import yaml

from harness.cluster import versions

from .conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def test_nightly_installs_the_pinned_kind_and_kubectl() -> None:
    nightly = yaml.safe_load((WORKFLOWS / "nightly.yml").read_text())
    assert nightly["env"]["KIND_VERSION"] == versions.KIND
    assert nightly["env"]["KUBECTL_VERSION"] == versions.KUBECTL


def test_nightly_runs_the_kind_target_and_keeps_the_report() -> None:
    steps = yaml.safe_load((WORKFLOWS / "nightly.yml").read_text())["jobs"]["kind"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "mlharness run --target kind" in runs
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "reports/nightly" in upload["with"]["path"]


def test_pull_request_workflow_runs_the_ci_script() -> None:
    text = (WORKFLOWS / "pr.yml").read_text()
    assert "run: .ci/run" in text or "bash .ci/run" in text
