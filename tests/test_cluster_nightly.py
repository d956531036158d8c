"""The nightly workflow's cluster setup (issue 22 #5): verified downloads, optional registry login,
only files the harness writes uploaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

NIGHTLY = Path(__file__).parents[1] / ".github" / "workflows" / "nightly.yml"


def steps() -> list[dict[str, Any]]:
    return list(yaml.safe_load(NIGHTLY.read_text())["jobs"]["kind"]["steps"])


def step(name: str) -> dict[str, Any]:
    return next(s for s in steps() if s.get("name", "").startswith(name))


def test_kind_and_kubectl_are_checked_against_their_published_sha256_before_they_run() -> None:
    script = step("Install kind and kubectl")["run"]
    lines = [line.strip() for line in script.splitlines()]
    assert lines[0] == "set -euo pipefail", "a failed check must stop the step"
    kind_sum = lines.index("sha256sum --check --strict kind-linux-amd64.sha256sum")
    kubectl_sum = lines.index('echo "$(cat kubectl.sha256)  kubectl" | sha256sum --check --strict')
    assert any("releases/download/${KIND_VERSION}/kind-linux-amd64.sha256sum" in line for line in lines[:kind_sum])
    assert any("/bin/linux/amd64/kubectl.sha256\"" in line for line in lines[:kubectl_sum])
    install = lines.index("sudo mv kind kubectl /usr/local/bin/")
    first_run = min(i for i, line in enumerate(lines) if line.startswith(("kind ", "kubectl ")))
    assert max(kind_sum, kubectl_sum) < install < first_run


def test_docker_hub_login_is_optional_and_its_secrets_stay_out_of_the_script() -> None:
    login = step("Log in to Docker Hub")
    assert set(login["env"]) == {"DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN"}
    assert all(v.startswith("${{ secrets.") for v in login["env"].values())
    assert "${{" not in login["run"], "secrets reach the script through env only"
    assert "--password-stdin" in login["run"] and 'if [ -n "${DOCKERHUB_USERNAME}" ]' in login["run"]
    names = [s.get("name", "") for s in steps()]
    assert names.index("Log in to Docker Hub (only when credentials are set)") < names.index("Validate on kind")
    assert "docker logout" in step("Log out of Docker Hub")["run"]


def test_the_artifact_holds_only_what_the_run_writes() -> None:
    upload = next(s for s in steps() if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"]["path"].strip() == "reports/nightly", "no .mlharness/up (nothing writes it; no kubeconfig)"
    run = step("Validate on kind")["run"]
    assert "--report-dir reports/nightly" in run
