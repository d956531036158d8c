"""Waits time out with a useful message, tolerate objects that do not exist yet, and concern the
platform only. Fakes: tests/helpers/cluster_fakes.py (upstream shapes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cluster.kube.commands import CommandResult
from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kube.readiness import wait_isvc_ready, wait_workloads_ready
from harness.cluster.provision.install import KubeflowInstaller
from harness.cluster.provision.steps import Step, execute
from harness.cluster.provision.versions import resolve
from harness.errors import WaitTimeout
from tests.helpers.cluster_fakes import (
    FakeRunner,
    deployment,
    fail,
    isvc,
    k8s_list,
    ok,
    pod,
    statefulset,
)

READY_KFP = k8s_list(deployment("ml-pipeline", "kubeflow"), deployment("mysql", "kubeflow"))
NEVER_READY = k8s_list(deployment("ml-pipeline", "kubeflow", ready=0), deployment("mysql", "kubeflow"))
KSERVE_READY = (("get", "deployments,statefulsets", "-n", "kserve"), ok(k8s_list(deployment("kserve-controller-manager", "kserve"))))


def kubectl(runner: FakeRunner, tmp_path: Path) -> Kubectl:
    return Kubectl(runner, tmp_path / "kubeconfig")


def test_workloads_that_never_get_ready_time_out_naming_them(tmp_path: Path) -> None:
    runner = FakeRunner([(("get", "deployments,statefulsets"), ok(NEVER_READY))])
    with pytest.raises(WaitTimeout) as info:
        wait_workloads_ready(kubectl(runner, tmp_path), "kubeflow", timeout=0.2, interval=0.01, stable_polls=2)
    message = str(info.value)
    assert "timed out after 0.2s" in message and "kubeflow" in message
    assert "Deployment/ml-pipeline 0/1 ready" in message and "mysql" not in message


def test_changing_workloads_are_not_stable(tmp_path: Path) -> None:
    one = k8s_list(deployment("kserve-controller-manager", "kserve"))
    two = k8s_list(deployment("kserve-controller-manager", "kserve"),
                   deployment("llmisvc-controller-manager", "kserve", ready=0, updated=1))
    states = iter([one] * 3 + [two] * 1000)
    runner = FakeRunner([(("get", "deployments,statefulsets"), lambda argv: CommandResult(argv, 0, next(states)))])
    with pytest.raises(WaitTimeout, match="llmisvc-controller-manager 0/1 ready"):
        wait_workloads_ready(kubectl(runner, tmp_path), "kserve", timeout=0.3, interval=0.01, stable_polls=5)


def test_a_rollout_not_yet_observed_is_not_ready(tmp_path: Path) -> None:
    rolling = k8s_list(deployment("ml-pipeline", "kubeflow", generation=2, observed=1), statefulset("db", "kubeflow"))
    runner = FakeRunner([(("get", "deployments,statefulsets"), ok(rolling))])
    with pytest.raises(WaitTimeout, match="new generation not observed"):
        wait_workloads_ready(kubectl(runner, tmp_path), "kubeflow", timeout=0.1, interval=0.01, stable_polls=1)


def test_reused_cluster_with_failed_pipeline_pods_passes_readiness(tmp_path: Path) -> None:
    """Issue 10 #3: a Failed or Completed pod of an earlier run (KFP sets no pod GC) stays in
    kubeflow; readiness looks at the platform's Deployments/StatefulSets, so it passes."""
    leftovers = k8s_list(pod("iris-7xk2p-system-container-impl-1", "kubeflow", "Failed", ready=False, terminated="Error",
                             labels={"pipeline/runid": "old"}, restart_policy="Never"),
                         pod("iris-7xk2p-system-container-driver-2", "kubeflow", "Succeeded", ready=False,
                             terminated="Completed", labels={"pipeline/runid": "old"}, restart_policy="Never"))
    runner = FakeRunner([KSERVE_READY, (("get", "deployments,statefulsets"), ok(READY_KFP)), (("get", "pods"), ok(leftovers)),
                         (("get", "configmap", "mlharness-install"),
                          ok(json.dumps({"data": {"versions": json.dumps(resolve().as_dict(), sort_keys=True)}})))])
    installer = KubeflowInstaller(kubectl(runner, tmp_path), resolve(), tmp_path / "diag", interval=0.0, stable_polls=2)
    assert installer.ensure() is False, "nothing installed at the same versions"
    assert not any("apply" in argv for argv, _, _ in runner.calls)
    assert not any(argv[3:5] == ("get", "pods") for argv, _, _ in runner.calls), "run pods are not platform"


def test_installer_timeout_writes_diagnostics_and_names_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crashing = k8s_list(pod("ml-pipeline-5f7", "kubeflow", "Running", ready=False, waiting="CrashLoopBackOff"),
                        pod("mysql-0", "kubeflow", "Running"))
    runner = FakeRunner([
        (("get", "configmap", "mlharness-install"), fail()),
        (("get", "deployments,statefulsets", "-n", "kubeflow"), ok(NEVER_READY)),
        KSERVE_READY,
        (("get", "deployments,statefulsets"), ok(k8s_list(deployment("ok", "x")))),
        (("get", "pods", "-n", "kubeflow", "-o", "json"), ok(crashing)),
        (("logs",), ok("Error: cannot connect to mysql\n")),
        (("describe", "pods"), ok("Events: Back-off restarting failed container\n")),
    ])
    installer = KubeflowInstaller(kubectl(runner, tmp_path), resolve(), tmp_path / "diag", interval=0.01, stable_polls=2)
    assert [s.timeout for s in installer.readiness_steps()] == [600, 300, 900]
    import harness.cluster.provision.install as install

    monkeypatch.setattr(install, "KFP_STABLE_TIMEOUT", 0.2)
    with pytest.raises(WaitTimeout) as info:
        installer.ensure()
    message = str(info.value)
    assert "Deployments and StatefulSets in namespace kubeflow" in message and "ml-pipeline 0/1" in message
    assert "diagnostics" in message and str(tmp_path / "diag") in message
    diag = tmp_path / "diag"
    for name in ("kubeflow/pods.txt", "kubeflow/events.txt", "kubeflow/describe-pods.txt",
                 "kubeflow/logs/ml-pipeline-5f7.log", "kubeflow/logs/ml-pipeline-5f7.previous.log", "nodes.txt"):
        assert (diag / name).is_file(), f"missing {name}"
    assert not (diag / "kubeflow/logs/mysql-0.log").exists(), "ready pods' logs are not collected"
    assert "cannot connect to mysql" in (diag / "kubeflow/logs/ml-pipeline-5f7.log").read_text()


NO_MATCH = "error: no matching resources found\n"


def test_kubectl_wait_is_repeated_while_the_objects_do_not_exist_yet(tmp_path: Path) -> None:
    answers = iter([CommandResult((), 1, "", NO_MATCH), CommandResult((), 1, "", NO_MATCH),
                    CommandResult((), 0, "deployment.apps/kserve-controller-manager condition met\n")])
    runner = FakeRunner([(("wait",), lambda argv: next(answers))])
    k = kubectl(runner, tmp_path)
    step = Step("KServe deployments Available", k.argv("wait", "--for=condition=Available", "deployment", "--all",
                                                        "-n", "kserve", "--timeout=300s"), 5.0, until_exists=True)
    execute([step], runner, missing_delay=0.01)
    assert len(runner.calls) == 3 and "repeated while the objects do not exist yet" in step.render()


def test_kubectl_wait_for_objects_that_never_appear_times_out(tmp_path: Path) -> None:
    runner = FakeRunner([(("wait",), fail(NO_MATCH))])
    step = Step("cert-manager deployments Available", kubectl(runner, tmp_path).argv("wait", "deployment", "--all"), 0.2,
                until_exists=True)
    with pytest.raises(WaitTimeout, match="never appeared: error: no matching resources found"):
        execute([step], runner, missing_delay=0.05)


def test_kubectl_wait_failing_for_another_reason_fails_at_once(tmp_path: Path) -> None:
    from harness.errors import CommandError

    runner = FakeRunner([(("wait",), fail("error: timed out waiting for the condition on deployments/kserve-controller-manager"))])
    step = Step("KServe deployments Available", kubectl(runner, tmp_path).argv("wait", "deployment", "--all"), 5.0,
                until_exists=True)
    with pytest.raises(CommandError, match="timed out waiting for the condition"):
        execute([step], runner, missing_delay=0.01)
    assert len(runner.calls) == 1


def test_isvc_not_ready_times_out_with_its_condition(tmp_path: Path) -> None:
    message = 'admission webhook "pod-policy.example.com" denied the request: identity "my-identity" not found'
    failing = isvc("sklearn-iris", "mlh-1", ready=False, reason="FailedCreate", message=message)
    runner = FakeRunner([(("get", "inferenceservice"), ok(json.dumps(failing)))])
    with pytest.raises(WaitTimeout, match=f"Ready=False: {message}"):
        wait_isvc_ready(kubectl(runner, tmp_path), "sklearn-iris", "mlh-1", timeout=0.1, interval=0.01)


def test_isvc_ready_returns_the_object(tmp_path: Path) -> None:
    runner = FakeRunner([(("get", "inferenceservice"), ok(json.dumps(isvc("sklearn-iris", "mlh-1", ready=True))))])
    obj = wait_isvc_ready(kubectl(runner, tmp_path), "sklearn-iris", "mlh-1", timeout=1, interval=0.01)
    assert obj["status"]["address"]["url"] == "http://sklearn-iris-predictor.mlh-1.svc.cluster.local"
