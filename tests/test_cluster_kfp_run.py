"""The model URI and the failing task's log, found as KFP records them: the run's pods by their
``pipeline/runid`` label, the ``train`` executor's ``--executor_input``. No cluster: the run API
answers are kfp_server_api models and the pods follow KFP 2.17.0 / Argo v4.0.5 (tests/helpers/cluster_fakes.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kubeflow.kfp_pods import RunPods, classify
from harness.cluster.kubeflow.kfp_run import KfpPipelineRunner
from harness.errors import PipelineError, WaitTimeout
from harness.results import TaskState
from tests.helpers.cluster_fakes import (
    KFP_RUN_ID,
    FakeRunner,
    artifact_uri,
    k8s_list,
    kfp_driver_pod,
    kfp_executor_pod,
    kfp_run,
    ok,
    serialize,
)

TASKS = ("load", "print-head", "train", "evaluate")
MODEL_URI = artifact_uri("train", "model")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in iris pipeline, compiled by this kfp (the spec KFP's driver reads)."""
    from harness.pipelines.compile import compile_pipeline

    return compile_pipeline(None, tmp_path_factory.mktemp("pkg")).path


def run_pods(package: Path, *, train: str = "executor") -> str:
    """``kubectl get pods -l pipeline/runid=<run> -o json`` for a finished iris run."""
    pods = []
    for task in TASKS:
        pods.append(kfp_driver_pod(task))
        if task != "train" or train == "executor":
            pods.append(kfp_executor_pod(task, package))
    return k8s_list(*pods)


class FakeKfp:
    """kfp.Client stand-in answering with kfp_server_api models (see cluster_fakes.kfp_run)."""

    def __init__(self, run: Any, finish: bool = True) -> None:
        self.run, self.finish = run, finish
        self.submitted: dict[str, Any] = {}

    def create_experiment(self, name: str, namespace: str | None = None) -> None:
        self.experiment = name

    def create_run_from_pipeline_package(self, path: str, **kwargs: Any) -> Any:
        import kfp_server_api

        self.submitted = kwargs
        return kfp_server_api.V2beta1Run(run_id=KFP_RUN_ID)

    def wait_for_run_completion(self, run_id: str, timeout: int) -> Any:
        if not self.finish:
            raise TimeoutError("Run timeout")
        return self.run

    def get_run(self, run_id: str) -> Any:
        return self.run


def kfp_runner(runner: FakeRunner, client: FakeKfp, tmp_path: Path) -> KfpPipelineRunner:
    return KfpPipelineRunner(client, Kubectl(runner, tmp_path / "kubeconfig"), tmp_path)


def test_the_run_api_names_no_pod() -> None:
    """The premise: toApiPipelineTaskDetail (api_converter.go) sets no pod_name, so nothing can be read there."""
    run = kfp_run("SUCCEEDED", [(t, "SUCCEEDED") for t in TASKS])
    assert all(d.pod_name is None and d.executor_detail is None for d in run.run_details.task_details)


def test_the_model_uri_comes_from_the_train_executors_input(package: Path, tmp_path: Path) -> None:
    runner = FakeRunner([(("get", "pods", "-l", f"pipeline/runid={KFP_RUN_ID}"), ok(run_pods(package)))])
    client = FakeKfp(kfp_run("SUCCEEDED", [(t, "SUCCEEDED") for t in TASKS]))
    run = kfp_runner(runner, client, tmp_path).run(package, experiment="mlharness", arguments={}, timeout=5, run_name="r")
    assert run.succeeded and run.model_uri == MODEL_URI and run.task("train").artifacts == {"model": MODEL_URI}
    assert client.submitted["enable_caching"] is False, "a cached train has no executor pod to read"
    lists = [argv for argv, _, _ in runner.calls if "pods" in argv]
    assert len(lists) == 1 and lists[0][-4:] == ("-l", f"pipeline/runid={KFP_RUN_ID}", "-o", "json")


def test_pods_are_classified_by_their_main_container(package: Path) -> None:
    executor = classify(serialize(kfp_executor_pod("train", package)))
    driver = classify(serialize(kfp_driver_pod("train")))
    assert executor is not None and executor.role == "executor" and executor.executor_label == "exec-train"
    assert executor.outputs == {"model": (MODEL_URI,)}
    assert driver is not None and driver.role == "driver" and driver.task == "train"
    wait_only = serialize(kfp_driver_pod("train"))
    wait_only["spec"]["containers"] = wait_only["spec"]["containers"][:1]
    assert classify(wait_only) is None


def test_the_executor_is_matched_by_its_output_uri_or_its_executor_label(package: Path, tmp_path: Path) -> None:
    text = package.read_text()
    # print-head has no output artifact: only its component's executorLabel ties the pod to it.
    pods = RunPods(Kubectl(FakeRunner([(("get", "pods"), ok(run_pods(package)))]), tmp_path / "kc"), "kubeflow", KFP_RUN_ID, text)
    drivers, executors = pods.of_task("print-head")
    assert [p.executor_label for p in executors] == ["exec-print-head"] and [p.task for p in drivers] == ["print-head"]
    assert pods.log_pod("print-head") == executors[0].name


def test_a_cached_train_gives_a_clear_error(package: Path, tmp_path: Path) -> None:
    runner = FakeRunner([(("get", "pods"), ok(run_pods(package, train="cached")))])
    client = FakeKfp(kfp_run("SUCCEEDED", [(t, "SUCCEEDED") for t in TASKS]))
    run = kfp_runner(runner, client, tmp_path).run(package, experiment="mlharness", arguments={}, timeout=5, run_name="r")
    assert run.succeeded and run.model_uri is None
    assert "task train" in run.message and "driver pod" in run.message and "cached" in run.message


def test_no_pod_of_the_run_gives_a_clear_error(package: Path, tmp_path: Path) -> None:
    runner = FakeRunner([(("get", "pods"), ok(k8s_list()))])
    pods = RunPods(Kubectl(runner, tmp_path / "kc"), "kubeflow", KFP_RUN_ID, package.read_text())
    with pytest.raises(PipelineError, match=f"no pods labelled pipeline/runid={KFP_RUN_ID} in namespace kubeflow"):
        pods.output_uri("train", "model")


def test_an_executor_without_the_output_is_named(package: Path, tmp_path: Path) -> None:
    runner = FakeRunner([(("get", "pods"), ok(k8s_list(kfp_driver_pod("train"), kfp_executor_pod("train", package, outputs=[]))))])
    pods = RunPods(Kubectl(runner, tmp_path / "kc"), "kubeflow", KFP_RUN_ID, package.read_text())
    with pytest.raises(PipelineError, match="has no output artifact 'model'"):
        pods.output_uri("train", "model")


def test_the_deploy_error_carries_the_reason(package: Path, tmp_path: Path) -> None:
    from harness.config import load_config
    from harness.errors import InfrastructureError
    from harness.results import PipelineRun
    from harness.targets.base import TargetContext
    from harness.targets.cluster import KindTarget

    target = KindTarget(TargetContext(load_config(cli={"target": "kind"}, env={}), tmp_path), FakeRunner(), state_root=tmp_path)
    run = PipelineRun("iris", KFP_RUN_ID, True, (), None, message="task train of run x has a driver pod but no executor pod")
    with pytest.raises(InfrastructureError, match="no model artifact URI to serve: task train of run x has a driver pod"):
        target.deploy(run)


def test_a_failed_train_saves_its_executors_log(package: Path, tmp_path: Path) -> None:
    pods = k8s_list(kfp_driver_pod("load"), kfp_executor_pod("load", package), kfp_driver_pod("train"),
                    kfp_executor_pod("train", package, phase="Failed"))
    runner = FakeRunner([(("get", "pods"), ok(pods)), (("logs",), ok("ValueError: accuracy 0.31 is below the threshold\n"))])
    client = FakeKfp(kfp_run("FAILED", [("load", "SUCCEEDED"), ("train", "FAILED")]))
    run = kfp_runner(runner, client, tmp_path).run(package, experiment="mlharness", arguments={}, timeout=5, run_name="r")
    assert not run.succeeded and run.model_uri is None
    assert run.task("train").state is TaskState.FAILED and run.task("load").state is TaskState.SUCCEEDED
    assert run.task("print-head").state is TaskState.SKIPPED, "no task detail: it never ran"
    assert "failing task train" in run.message and run.task("train").log_path
    log = Path(run.task("train").log_path or "").read_text()
    assert "below the threshold" in log and "system-container-impl" in log, "the executor's log, not the driver's"
    logs = [argv for argv, _, _ in runner.calls if "logs" in argv]
    assert logs and logs[0][logs[0].index("-c") + 1] == "main"


def test_a_timeout_lists_the_tasks_and_their_logs(package: Path, tmp_path: Path) -> None:
    pods = k8s_list(kfp_driver_pod("load"), kfp_executor_pod("load", package), kfp_driver_pod("train", phase="Running"))
    runner = FakeRunner([(("get", "pods"), ok(pods)), (("logs",), ok("driver: waiting for mlmd\n"))])
    client = FakeKfp(kfp_run("RUNNING", [("load", "SUCCEEDED"), ("train", "RUNNING")]), finish=False)
    with pytest.raises(WaitTimeout) as info:
        kfp_runner(runner, client, tmp_path).run(package, experiment="mlharness", arguments={}, timeout=5, run_name="r")
    message = str(info.value)
    assert f"KFP run {KFP_RUN_ID}" in message and "train=unknown" in message and "print-head=skipped" in message
    assert "waiting for mlmd" in (tmp_path / "pipeline-logs" / "train.log").read_text(), "the driver's log when no executor ran"


def test_the_model_is_the_runs_dsl_model_output_whatever_its_task_and_name(tmp_path: Path) -> None:
    """examples/diabetes: the model is ``fit``'s ``regressor`` output; found by its type, as on the local target."""
    from harness.pipelines.compile import compile_pipeline
    from tests.helpers.example_models import DIABETES

    package = compile_pipeline(f"{DIABETES / 'pipeline.py'}:diabetes_pipeline", tmp_path / "pkg").path
    tasks = ("load", "fit", "score")
    pods = k8s_list(*(pod for t in tasks for pod in (kfp_driver_pod(t), kfp_executor_pod(t, package))))
    runner = FakeRunner([(("get", "pods", "-l", f"pipeline/runid={KFP_RUN_ID}"), ok(pods))])
    client = FakeKfp(kfp_run("SUCCEEDED", [(t, "SUCCEEDED") for t in tasks]))
    run = kfp_runner(runner, client, tmp_path).run(package, experiment="mlharness", arguments={}, timeout=5, run_name="r")
    assert run.succeeded and run.model_uri == artifact_uri("fit", "regressor"), run
    assert run.task("fit").artifacts == {"regressor": run.model_uri}
