"""The predictor pod's CPU and memory under load, from the Kubernetes metrics API.

``GET /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods?labelSelector=...`` answers a
``PodMetricsList`` (served by metrics-server, where it is installed). The fields read here are
those of kubernetes/metrics v0.36.2, ``pkg/apis/metrics/v1beta1/types.go``: ``items[]`` of
``PodMetrics`` with ``timestamp``, ``window`` and ``containers[]``, each container a ``name`` and a
``usage`` ``ResourceList`` of quantities (``cpu``: cores, e.g. ``"250m"`` or ``"12345678n"``;
``memory``: bytes, e.g. ``"102400Ki"``; "the memory usage is the memory working set", not
RSS). Quantities are parsed by the kubernetes client's own ``parse_quantity``.

The predictor's pods are selected as KServe labels them (kserve/kserve, ``pkg/constants/constants.go``:
``InferenceServicePodLabelKey`` = ``serving.kserve.io/inferenceservice``, ``KServiceComponentLabel`` =
``component``, value ``predictor``). metrics-server refreshes its figures once per window
(15 s by default), so a sample is kept only when its timestamp moved. When the API is not
there (no metrics-server), the series is empty and its note says so: the checks that need it
are skipped with that reason.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.utils import parse_quantity

from harness.errors import HarnessError
from harness.load.resources import MB, Series

SOURCE = "metrics.k8s.io/v1beta1 PodMetrics"
INSTANCE_LABEL = "serving.kserve.io/inferenceservice"
COMPONENT_LABEL = "component"


def pod_metrics_path(namespace: str, model: str) -> str:
    """The metrics API path of the predictor pods of InferenceService ``model`` in ``namespace``."""
    selector = f"{INSTANCE_LABEL}={model},{COMPONENT_LABEL}=predictor"
    return f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods?labelSelector={urllib.parse.quote(selector)}"


def usage(doc: Mapping[str, Any]) -> tuple[float, float, int, str]:
    """CPU (% of one core), memory (MB) summed over every container of every pod of a
    ``PodMetricsList``, the number of pods, and the newest ``timestamp``."""
    cpu = memory = 0.0
    stamp = ""
    items = doc.get("items") or []
    for pod in items:
        stamp = max(stamp, str(pod.get("timestamp") or ""))
        for container in pod.get("containers") or []:
            use = container.get("usage") or {}
            cpu += float(parse_quantity(use.get("cpu", "0"))) * 100
            memory += float(parse_quantity(use.get("memory", "0"))) / MB
    return cpu, memory, len(items), stamp


class PodMetricsSampler:
    """Polls the metrics API every ``interval`` seconds until :meth:`stop`; the same interface as
    :class:`harness.load.resources.Sampler` (``start()``, ``stop() -> Series``).

    Args:
        fetch: returns the ``PodMetricsList`` (parsed JSON); raises HarnessError when the API
            cannot be read.
        interval: seconds between polls.
    """

    def __init__(self, fetch: Callable[[], Mapping[str, Any]], interval: float = 1.0) -> None:
        self.fetch = fetch
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rows: list[tuple[float, float, float, int]] = []
        self._last_stamp: str | None = None
        self._note = ""

    def start(self) -> PodMetricsSampler:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="mlharness-pod-metrics", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> Series:
        """Stop polling (within one poll) and return what was seen."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 10)
        rows = self._rows
        note = self._note or (f"the predictor's pods, once per metrics-server window ({len(rows)} distinct samples)"
                              if rows else "the metrics API answered no sample for the predictor's pods")
        return Series(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows),
                      tuple(r[3] for r in rows), source=SOURCE, note=note)

    def poll(self) -> bool:
        """One poll; False when the metrics API is not available (the note says why)."""
        try:
            doc = self.fetch()
        except (HarnessError, ValueError) as exc:
            self._note = f"the metrics API (metrics.k8s.io) is not available: {exc}"
            return False
        cpu, memory, pods, stamp = usage(doc)
        if pods and stamp != self._last_stamp:
            self._last_stamp = stamp
            self._rows.append((time.monotonic() - self._started, cpu, memory, pods))
        return True

    def _loop(self) -> None:
        if not self.poll():
            return
        while not self._stop.wait(self.interval):
            if not self.poll():
                return
