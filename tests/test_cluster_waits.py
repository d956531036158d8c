"""Waits time out with a useful message and leave a diagnostics bundle; KFP runs explain failures."""

from __future__ import annotations

import datetime as dt
import json
import types
from pathlib import Path

import pytest

from harness.cluster.commands import CommandResult
from harness.cluster.install import KubeflowInstaller
from harness.cluster.kfp_run import KfpPipelineRunner, model_uri_from_pod
from harness.cluster.kubectl import Kubectl
from harness.cluster.readiness import wait_isvc_ready, wait_pods_stable
from harness.cluster.versions import resolve
from harness.errors import WaitTimeout
from harness.models import TaskState
from tests.cluster_fakes import FakeRunner, fail, ok, pods_json

NEVER_READY = pods_json(("ml-pipeline-5f7", "Running", False, "CrashLoopBackOff"), ("mysql-0", "Running", True, None))


def kubectl(runner: FakeRunner, tmp_path: Path) -> Kubectl:
    return Kubectl(runner, tmp_path / "kubeconfig")


def test_pods_that_never_settle_time_out_naming_the_bad_pod(tmp_path: Path) -> None:
    runner = FakeRunner([(("get", "pods"), ok(NEVER_READY))])
    with pytest.raises(WaitTimeout) as info:
        wait_pods_stable(kubectl(runner, tmp_path), "kubeflow", timeout=0.2, interval=0.01, stable_polls=2)
    message = str(info.value)
    assert "timed out after 0.2s" in message and "kubeflow" in message
    assert "ml-pipeline-5f7 Running 0/1 (main: CrashLoopBackOff)" in message and "mysql-0" not in message


def test_changing_statuses_are_not_stable(tmp_path: Path) -> None:
    one = pods_json(("a", "Running", True, None))
    two = pods_json(("a", "Running", True, None), ("b", "Pending", False, "ContainerCreating"))
    states = iter([one] * 3 + [two] * 1000)
    runner = FakeRunner([(("get", "pods"), lambda argv: CommandResult(argv, 0, next(states)))])
    with pytest.raises(WaitTimeout, match="b Pending 0/1"):
        wait_pods_stable(kubectl(runner, tmp_path), "kserve", timeout=0.3, interval=0.01, stable_polls=5)


def test_installer_timeout_writes_diagnostics_and_names_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = FakeRunner([
        (("get", "configmap", "mlharness-install"), fail()),
        (("get", "pods", "-n", "kubeflow", "-o", "json"), ok(NEVER_READY)),
        (("get", "pods"), ok(pods_json(("ok", "Running", True, None)))),
        (("logs",), ok("Error: cannot connect to mysql\n")),
        (("describe", "pods"), ok("Events: Back-off restarting failed container\n")),
    ])
    installer = KubeflowInstaller(kubectl(runner, tmp_path), resolve(), tmp_path / "diag", interval=0.01, stable_polls=2)
    installer_steps = installer.readiness_steps()
    assert [s.timeout for s in installer_steps] == [600, 300, 900]
    import harness.cluster.install as install

    monkeypatch.setattr(install, "KFP_STABLE_TIMEOUT", 0.2)
    with pytest.raises(WaitTimeout) as info:
        installer.ensure()
    message = str(info.value)
    assert "pods in namespace kubeflow" in message and "CrashLoopBackOff" in message
    assert "diagnostics" in message and str(tmp_path / "diag") in message
    diag = tmp_path / "diag"
    for name in ("kubeflow/pods.txt", "kubeflow/events.txt", "kubeflow/describe-pods.txt",
                 "kubeflow/logs/ml-pipeline-5f7.log", "kubeflow/logs/ml-pipeline-5f7.previous.log", "nodes.txt"):
        assert (diag / name).is_file(), f"missing {name}"
    assert not (diag / "kubeflow/logs/mysql-0.log").exists(), "ready pods' logs are not collected"
    assert "cannot connect to mysql" in (diag / "kubeflow/logs/ml-pipeline-5f7.log").read_text()
    previous = [argv for argv, _, _ in runner.calls if "--previous" in argv]
    assert previous and previous[0][-5:] == ("-n", "kubeflow", "--all-containers", "--prefix", "--previous")


def test_isvc_not_ready_times_out_with_its_condition(tmp_path: Path) -> None:
    isvc = {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "RevisionMissing",
                                       "message": "storage initializer failed: 403 Forbidden"}]}}
    runner = FakeRunner([(("get", "inferenceservice"), ok(json.dumps(isvc)))])
    with pytest.raises(WaitTimeout, match="Ready=False: storage initializer failed: 403 Forbidden"):
        wait_isvc_ready(kubectl(runner, tmp_path), "sklearn-iris", "mlh-1", timeout=0.1, interval=0.01)


def test_model_uri_comes_from_the_executor_input() -> None:
    executor_input = {"outputs": {"artifacts": {"model": {"artifacts": [{"uri": "minio://mlpipeline/v2/artifacts/iris/run-1/train/model"}]}}}}
    pod = {"spec": {"containers": [{"name": "main", "command": ["launcher"], "args": ["--executor_input", json.dumps(executor_input)]}]}}
    assert model_uri_from_pod(pod) == "minio://mlpipeline/v2/artifacts/iris/run-1/train/model"
    assert model_uri_from_pod({"spec": {"containers": [{"args": ["{not json"]}]}}) is None


class FakeKfp:
    """kfp.Client stand-in whose run never finishes: the train task failed, evaluate is running."""

    def __init__(self, finish: bool) -> None:
        self.finish = finish

    def create_experiment(self, name: str, namespace: str | None = None) -> None:
        self.experiment = name

    def create_run_from_pipeline_package(self, path: str, **kwargs: object) -> types.SimpleNamespace:
        return types.SimpleNamespace(run_id="run-42")

    def _run(self) -> types.SimpleNamespace:
        t0 = dt.datetime(2026, 1, 1)
        task = lambda name, state, pod: types.SimpleNamespace(  # noqa: E731
            display_name=name, state=state, pod_name=pod, start_time=t0, end_time=t0 + dt.timedelta(seconds=3))
        details = [task("load", "SUCCEEDED", "iris-load-1"), task("train", "FAILED", "iris-train-1"),
                   task("train-driver", "SUCCEEDED", "iris-train-driver")]
        return types.SimpleNamespace(state="FAILED", run_details=types.SimpleNamespace(task_details=details))

    def wait_for_run_completion(self, run_id: str, timeout: int) -> types.SimpleNamespace:
        if not self.finish:
            raise TimeoutError("Run timeout")
        return self._run()

    def get_run(self, run_id: str) -> types.SimpleNamespace:
        return self._run()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text("pipelineInfo: {name: iris}\nroot:\n  dag:\n    tasks: {load: {}, print-head: {}, train: {}, evaluate: {}}\n")
    return path


def test_kfp_timeout_is_explained_with_tasks_and_logs(tmp_path: Path, package: Path) -> None:
    runner = FakeRunner([(("logs", "iris-train-1"), ok("ValueError: accuracy 0.31 is below the threshold\n"))])
    kfp_runner = KfpPipelineRunner(FakeKfp(finish=False), kubectl(runner, tmp_path), tmp_path)
    with pytest.raises(WaitTimeout) as info:
        kfp_runner.run(package, experiment="mlharness", arguments={}, timeout=5, run_name="r")
    message = str(info.value)
    assert "KFP run run-42" in message and "train=failed" in message and "print-head=skipped" in message
    assert "below the threshold" in (tmp_path / "pipeline-logs" / "train.log").read_text()


def test_kfp_failure_names_the_failing_task_and_its_log(tmp_path: Path, package: Path) -> None:
    runner = FakeRunner([(("logs", "iris-train-1"), ok("Traceback ...\n"))])
    run = KfpPipelineRunner(FakeKfp(finish=True), kubectl(runner, tmp_path), tmp_path).run(
        package, experiment="mlharness", arguments={}, timeout=5, run_name="r")
    assert not run.succeeded and run.model_uri is None
    assert run.task("train").state is TaskState.FAILED and run.task("load").state is TaskState.SUCCEEDED
    assert "failing task train" in run.message and run.task("train").log_path
    assert [t.name for t in run.tasks] == ["load", "print-head", "train", "evaluate"]
