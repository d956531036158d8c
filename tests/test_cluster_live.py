"""Live cluster checks: run only with --harness-target kind|minikube|kubeconfig and the tools installed."""

from __future__ import annotations

import pytest
from mlharness_fixtures.cluster import harness_cluster, harness_kubeflow  # noqa: F401 - fixtures used below

from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.provision.install import KFP_NS, KSERVE_NS

pytestmark = pytest.mark.cluster


def test_kubeflow_namespaces_are_servable(harness_kubeflow: Kubectl) -> None:  # noqa: F811
    from harness.cluster.kube.readiness import wait_workloads_ready

    for ns in (KSERVE_NS, KFP_NS):
        statuses = wait_workloads_ready(harness_kubeflow, ns, timeout=300, interval=5, stable_polls=2)
        assert statuses, f"no Deployments or StatefulSets in {ns}"


def test_kfp_api_answers(harness_kubeflow: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> None:  # noqa: F811
    from harness.cluster.kube.portforward import PortForward

    forward = PortForward(harness_kubeflow, KFP_NS, "ml-pipeline", 8888, tmp_path_factory.mktemp("pf") / "pf.log")
    try:
        import httpx

        url = forward.start()
        assert httpx.get(f"{url}/apis/v2beta1/healthz", timeout=10, trust_env=False).status_code == 200
    finally:
        forward.stop()
