"""The fakes themselves hold to upstream: every Kubernetes object validates against the
Kubernetes schema with unknown fields refused, every KServe status is a ``kserve.models``
status, every KFP run is a ``kfp_server_api`` run with no field the API server never sets."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import kubernetes_validate
import pytest

from tests.helpers.cluster_fakes import (
    deployment,
    isvc,
    kfp_driver_pod,
    kfp_executor_pod,
    kfp_run,
    pod,
    serialize,
    statefulset,
)

K8S = "1.34"  # the pinned node's Kubernetes minor


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.pipelines.compile import compile_pipeline

    return compile_pipeline(None, tmp_path_factory.mktemp("pkg")).path


def k8s_objects(package: Path) -> list[dict]:
    return [serialize(o) for o in (
        deployment("ml-pipeline", "kubeflow"), deployment("x", "kubeflow", ready=0, generation=2, observed=1),
        statefulset("db", "kubeflow"), pod("p", "kubeflow", "Running"), pod("q", "kubeflow", "Running", ready=False,
                                                                             waiting="CrashLoopBackOff"),
        kfp_driver_pod("train"), kfp_executor_pod("train", package), kfp_executor_pod("print-head", package, phase="Failed"),
    )]


def test_kubernetes_fakes_validate_strictly(package: Path) -> None:
    for obj in k8s_objects(package):
        kubernetes_validate.validate(obj, K8S, strict=True)


def test_strict_validation_refuses_an_invented_field(package: Path) -> None:
    obj = copy.deepcopy(k8s_objects(package)[5])
    obj["status"]["podName"] = "made-up"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(obj, K8S, strict=True)


def test_kfp_pods_carry_the_run_label_and_argo_layout(package: Path) -> None:
    executor = serialize(kfp_executor_pod("train", package))
    assert executor["metadata"]["labels"]["pipeline/runid"]
    assert [c["name"] for c in executor["spec"]["containers"]] == ["wait", "main"]
    command = executor["spec"]["containers"][1]["command"]
    assert command[:2] == ["/var/run/argo/argoexec", "emissary"] and "/kfp-launcher/launch" in command
    executor_input = json.loads(command[command.index("--executor_input") + 1])
    uri = executor_input["outputs"]["artifacts"]["model"]["artifacts"][0]["uri"]
    assert uri.startswith("minio://mlpipeline/v2/artifacts/iris/") and uri.endswith("/train/a1d5c7e2-3b4f-4c6d-8e9f-0a1b2c3d4e5f/model")


def test_kfp_run_fake_sets_only_what_the_api_server_sets() -> None:
    run = kfp_run("SUCCEEDED", [("train", "SUCCEEDED")])
    for task in run.run_details.task_details:
        assert task.pod_name is None and task.executor_detail is None and task.error is None


def test_isvc_status_is_kserve_shaped() -> None:
    from kserve.models import V1beta1InferenceServiceStatus

    for ready in (True, False):
        status = isvc("m", "ns", ready=ready, reason="FailedCreate", message="denied")["status"]
        fields = set(V1beta1InferenceServiceStatus.attribute_map.values())
        assert set(status) <= fields, set(status) - fields
        assert {c["type"] for c in status["conditions"]} >= {"PredictorReady", "Ready"}
