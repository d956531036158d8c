"""The dry-run plan of ``mlharness up``: complete, pinned by golden files, touching nothing, and
exactly what executes (compared step by step with a run against the fake runner)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.cluster.provision.session import ClusterSession
from harness.cluster.provision.steps import Step
from harness.cluster.provision.versions import KFP, KSERVE, resolve
from harness.config import load_config
from harness.errors import ConfigError
from tests.helpers.cluster_fakes import FakeRunner, check_golden, deployment, fail, k8s_list, ok


def session(target: str, runner: FakeRunner | None = None, root: Path = Path("<STATE>"), **settings: object) -> ClusterSession:
    cfg = load_config(cli={"target": target, **settings}, env={})
    if runner is None:  # the plan as the CLI prints it: default polling
        return ClusterSession(cfg, Path("<WORK>"), state_root=root)
    return ClusterSession(cfg, root / "work", runner, state_root=root, interval=0, stable_polls=1)


def plan(target: str, **settings: object) -> str:
    return session(target, **settings).plan()


@pytest.mark.parametrize("target", ["kind", "minikube"])
def test_dry_run_plan_is_pinned(target: str) -> None:
    check_golden(f"cluster_plan_{target}.txt", plan(target))


def test_plan_installs_the_pinned_releases_as_upstream_publishes_them() -> None:
    text = plan("kind")
    script = f"kserve/releases/download/{KSERVE}/kserve-standard-mode-full-install-with-manifests.sh"
    assert script in text and KSERVE == "v0.20.0", "KServe's standard-mode install, not kserve.yaml (config/overlays/all)"
    assert "/kserve.yaml" not in text and "kserve-cluster-resources.yaml" not in text, "no llmisvc/localmodel controllers"
    assert f"cluster-scoped-resources?ref={KFP}" in text and KFP == "2.17.0"
    lines = text.splitlines()
    order = [next(i for i, line in enumerate(lines) if needle in line) for needle in (
        "--dry-run=server", script, "kserve-crds.yaml'", "kserve-core.yaml'", "--field-manager=mlharness",
        "deployment/kserve-controller-manager", "kserve-runtimes.yaml'")]
    assert order == sorted(order), "webhook answers, download, CRDs, core, deploy mode, controller, runtimes"
    assert "create namespace kserve" not in text, "the standard-mode core manifest carries the Namespace"
    assert "wait pod -l" not in text and "wait --for=condition=Ready pod" not in text, "pods may not exist yet"
    for line in lines:
        if ". run: " in line:
            assert "timeout" in line, f"a command without its timeout: {line}"
        if "kubectl" in line and " wait " in line and "Available" in line:
            assert "repeated while the objects do not exist yet" in line, line


def test_the_marker_is_written_after_readiness_in_the_plan_as_in_execution() -> None:
    lines = plan("kind").splitlines()
    marker = next(i for i, line in enumerate(lines) if "record the installed versions" in line)
    waits = [i for i, line in enumerate(lines) if "wait: " in line and "ready, unchanged over" in line]
    assert len(waits) == 3 and max(waits) < marker


def steps_that_run(s: ClusterSession, *, present: bool, installed: bool) -> list[Step]:
    """The plan's steps a run takes: the branch the cluster's state selects."""
    skip = {"if absent"} if present else {"if present"}
    if installed:
        skip |= {"unless installed at these versions", "after an install"}
    return [step for _title, steps in s.plan_sections() for step in steps if step.when not in skip]


def fake(present: bool, installed: bool) -> FakeRunner:
    marker = json.dumps({"data": {"versions": json.dumps(resolve().as_dict(), sort_keys=True)}})
    return FakeRunner([
        (("kind", "get", "clusters"), ok("mlharness\n" if present else "")),
        (("minikube", "profile", "list"), ok(json.dumps({"valid": [{"Name": "mlharness"}]})) if present else fail("no profiles")),
        (("get", "configmap", "mlharness-install"), ok(marker) if installed else fail()),
        (("get", "deployments,statefulsets"), ok(k8s_list(deployment("kserve-controller-manager", "kserve")))),
    ])


@pytest.mark.parametrize("target", ["kind", "minikube"])
@pytest.mark.parametrize("present, installed", [(False, False), (True, False), (True, True)])
def test_the_plan_is_exactly_what_executes(target: str, present: bool, installed: bool, tmp_path: Path) -> None:
    runner = fake(present, installed)
    s = session(target, runner, tmp_path)
    s.up()
    expected = steps_that_run(s, present=present, installed=installed)
    assert [step.render() for step in s.executed] == [step.render() for step in expected]
    commands = [step.argv for step in expected if step.argv]
    ran = [argv for argv, _env, _stdin in runner.calls]
    assert [argv for argv in ran if argv in commands] == commands, "every planned command ran, in the plan's order"
    assert all(argv in commands or "deployments,statefulsets" in argv for argv in ran), \
        f"nothing ran that the plan does not show: {[a for a in ran if a not in commands]}"


def test_versions_override_reaches_the_plan() -> None:
    text = plan("kind", versions="kserve=v0.19.0,kfp=2.16.1")
    assert "kserve/releases/download/v0.19.0/kserve-standard-mode-full-install-with-manifests.sh" in text
    assert "env/platform-agnostic?ref=2.16.1" in text and f"ref={KFP}" not in text


def test_a_kserve_without_the_standard_mode_install_applies_kserve_yaml() -> None:
    text = plan("kind", versions="kserve=v0.17.1")
    assert "standard-mode" not in text and "kserve/releases/download/v0.17.1/kserve.yaml" in text
    lines = text.splitlines()
    ns = next(i for i, line in enumerate(lines) if "create namespace kserve" in line)
    kserve = next(i for i, line in enumerate(lines) if "/kserve.yaml" in line)
    assert ns < kserve, "kserve.yaml of v0.17+ has no Namespace: create it first"
    assert "apply --server-side --force-conflicts -f https://github.com/kserve/kserve/releases/download/v0.17.1/kserve.yaml" in text
    assert "wait --for=condition=Available deployment/kserve-controller-manager" in text
    assert "deployment --all -n kserve" not in text, "kserve.yaml's llmisvc and localmodel controllers are not waited for"


def test_an_older_kserve_needs_no_namespace_step_and_says_rawdeployment() -> None:
    text = plan("kind", versions="kserve=v0.15.2,kfp=2.14.4")
    assert "create namespace kserve" not in text, "kserve.yaml before v0.17 carries its Namespace"
    assert 'RawDeployment' in text and 'Standard' not in text.split("# teardown")[0].split("versions:")[1]


@pytest.mark.parametrize("override, message", [
    ("kfp=2.14.5", r"kfp=2\.14\.5 is not a Kubeflow Pipelines backend release.*tags 2\.14\.5 only as sdk-2\.14\.5"),
    ("kfp=sdk-2.15.1", r"only as sdk-2\.15\.1"),
    ("kfp=2.18.0", r"known: 2\.14\.0, .*2\.17\.0"),
    ("kserve=v0.21.0", r"kserve=v0\.21\.0 is not a KServe release mlharness knows"),
    ("kind_node=kindest/node:v1.31.0", r"Kubernetes 1\.31, but KServe v0\.20\.0 needs 1\.32"),
    ("minikube_kubernetes=v1.30.2", r"Kubernetes 1\.30, but KServe v0\.20\.0 needs 1\.32"),
])
def test_overrides_across_a_boundary_are_refused_clearly(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        plan("kind", versions=override)
    assert info.value.key == "versions"


def test_unknown_version_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown component 'kservee'"):
        resolve([("kservee", "v1")])


@pytest.mark.parametrize("target", ["kind", "minikube"])
def test_cli_dry_run_prints_the_plan_and_touches_nothing(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")  # no tool is even looked up
    monkeypatch.delenv("HARNESS_STATE_DIR", raising=False)
    assert main(["up", "--target", target, "--dry-run"]) == 0
    out = capsys.readouterr().out
    expected = ClusterSession(load_config(cli={"target": target}, env={}), Path(".mlharness/up")).plan()
    assert out == expected
    assert os.listdir(tmp_path) == [], "a dry run must not write anything"


def test_cli_refuses_an_sdk_only_kfp_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["up", "--target", "kind", "--dry-run", "--versions", "kfp=2.14.5"]) == 2
    assert "sdk-2.14.5" in capsys.readouterr().err
