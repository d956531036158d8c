"""The CI workflows stay in step with the code they drive, and zizmor finds nothing in them."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.cluster.provision import versions

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


ZIZMOR = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
SHA = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def zizmor(path: Path) -> list[dict]:
    """zizmor's findings of medium severity or more over ``path``, offline (no GitHub token, no network)."""
    if ZIZMOR is None:
        pytest.fail("zizmor is not installed: pip install -e '.[dev]' (pyproject.toml pins it)")
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")}
    proc = subprocess.run([ZIZMOR, "--offline", "--no-progress", "--no-exit-codes", "--format", "json",
                           "--min-severity", "medium", str(path)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    findings: list[dict] = json.loads(proc.stdout)
    return findings


def test_zizmor_finds_nothing_of_medium_severity_or_more() -> None:
    findings = zizmor(WORKFLOWS)
    assert findings == [], [(f["ident"], f["determinations"]["severity"], f["locations"][0]["symbolic"]["key"]) for f in findings]


def test_zizmor_catches_what_the_workflows_used_to_do(tmp_path: Path) -> None:
    """The check can fail: a checkout by tag that keeps its credentials is reported."""
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "ci.yml").write_text("on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n"
                                "      - uses: actions/checkout@v4\n      - run: echo hi\n")
    assert {f["ident"] for f in zizmor(bad)} >= {"unpinned-uses", "artipacked"}


def test_every_action_is_pinned_by_commit_with_its_tag_in_a_comment() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            if "uses:" in line:
                ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
                assert SHA.match(ref), f"{path.name}: {line.strip()}"
                assert re.search(r"#\s*v\d+\.\d+\.\d+", line), f"{path.name}: no tag comment: {line.strip()}"


def test_checkouts_keep_no_credentials_and_the_nightly_frees_disk_first() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path.name
    steps = yaml.safe_load((WORKFLOWS / "nightly.yml").read_text())["jobs"]["kind"]["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    assert names[0] == "Free disk space" and "docker image prune" in steps[0]["run"]
