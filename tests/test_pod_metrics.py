"""The predictor pods' usage from the metrics API, against a fake in upstream's shape.

The fake answers what ``kubectl get --raw /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods`` gives:
a ``PodMetricsList`` as kubernetes/metrics v0.36.2 defines it (``pkg/apis/metrics/v1beta1/types.go``:
``PodMetrics{metadata, timestamp, window, containers[]}``, ``ContainerMetrics{name, usage}``,
usage a ``ResourceList`` of quantities), for pods labelled as KServe labels a predictor's
(kserve/kserve ``pkg/constants/constants.go``).
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from harness.cluster.kube.pod_metrics import SOURCE, PodMetricsSampler, pod_metrics_path, usage
from harness.errors import InfrastructureError


def pod(name: str, stamp: str, containers: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "mlh-1", "creationTimestamp": "2026-11-30T14:00:00Z",
                     "labels": {"serving.kserve.io/inferenceservice": "sklearn-iris", "component": "predictor"}},
        "timestamp": stamp,
        "window": "10.512s",
        "containers": [{"name": n, "usage": {"cpu": cpu, "memory": memory}} for n, cpu, memory in containers],
    }


def pod_list(*pods: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": list(pods)}


def test_usage_sums_every_container_of_every_pod() -> None:
    doc = pod_list(
        pod("sklearn-iris-predictor-7d9-abc", "2026-11-30T14:00:15Z", [("kserve-container", "250m", "102400Ki"), ("queue-proxy", "12345678n", "20Mi")]),
        pod("sklearn-iris-predictor-7d9-def", "2026-11-30T14:00:16Z", [("kserve-container", "1", "100Mi")]),
    )
    cpu, memory, pods, stamp = usage(doc)
    assert round(cpu, 3) == round(25 + 1.2345678 + 100, 3)  # % of one core
    assert memory == 100 + 20 + 100 and pods == 2 and stamp == "2026-11-30T14:00:16Z"
    assert usage(pod_list()) == (0.0, 0.0, 0, "")


def test_the_path_selects_the_predictor_pods() -> None:
    path = pod_metrics_path("mlh-1", "sklearn-iris")
    base, _, query = path.partition("?")
    assert base == "/apis/metrics.k8s.io/v1beta1/namespaces/mlh-1/pods"
    assert urllib.parse.parse_qs(query) == {"labelSelector": ["serving.kserve.io/inferenceservice=sklearn-iris,component=predictor"]}


def test_sampler_keeps_one_sample_per_metrics_window() -> None:
    answers = [pod_list(pod("p", f"2026-11-30T14:00:{s:02d}Z", [("kserve-container", f"{100 + s}m", f"{200 + s}Mi")])) for s in (15, 15, 30, 30, 45)]
    calls: list[int] = []

    def fetch() -> dict[str, Any]:
        calls.append(1)
        return answers[min(len(calls), len(answers)) - 1]

    sampler = PodMetricsSampler(fetch, interval=0.02).start()
    deadline = time.monotonic() + 5
    while len(calls) < len(answers) and time.monotonic() < deadline:
        time.sleep(0.01)
    series = sampler.stop()
    assert series.source == SOURCE and series.rss_mb == (215.0, 230.0, 245.0), series
    assert [round(c, 3) for c in series.cpu_percent] == [11.5, 13.0, 14.5] and series.processes == (1, 1, 1)
    assert "once per metrics-server window" in series.note


def test_no_metrics_api_is_said_not_guessed() -> None:
    def fetch() -> dict[str, Any]:
        raise InfrastructureError('kubectl get --raw exited 1: Error from server (NotFound): the server could not find the requested resource')

    series = PodMetricsSampler(fetch, interval=0.02).start().stop()
    assert series.t_s == () and series.note.startswith("the metrics API (metrics.k8s.io) is not available: ")
    assert "could not find the requested resource" in series.note
