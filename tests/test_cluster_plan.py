"""The dry-run plan of ``mlharness up``: complete, pinned by golden files, touching nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.cli import main
from harness.cluster.session import ClusterSession
from harness.cluster.versions import KFP, KSERVE, resolve
from harness.config import load_config
from harness.errors import ConfigError
from tests.cluster_fakes import check_golden


def plan(target: str, **settings: object) -> str:
    cfg = load_config(cli={"target": target, **settings}, env={})
    return ClusterSession(cfg, Path("<WORK>"), state_root=Path("<STATE>")).plan()


@pytest.mark.parametrize("target", ["kind", "minikube"])
def test_dry_run_plan_is_pinned(target: str) -> None:
    check_golden(f"cluster_plan_{target}.txt", plan(target))


def test_plan_names_every_pinned_version_and_timeout() -> None:
    text = plan("kind")
    assert f"kserve/releases/download/{KSERVE}/kserve.yaml" in text
    assert f"cluster-scoped-resources?ref={KFP}" in text
    assert "wait: all pods in kubeflow Running and ready" in text and "(timeout 900s)" in text
    for line in text.splitlines():
        if ". run: " in line:
            assert "timeout" in line, f"a command without its timeout: {line}"


def test_versions_override_reaches_the_plan() -> None:
    text = plan("kind", versions="kserve=v0.15.2,kfp=2.15.0")
    assert "kserve/releases/download/v0.15.2/kserve-cluster-resources.yaml" in text
    assert "env/platform-agnostic?ref=2.15.0" in text
    assert f"ref={KFP}" not in text


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
