"""Readiness that means servable, not just "created": every wait has a timeout and a message.

- :func:`wait_workloads_ready`: every Deployment and StatefulSet of a namespace has all its
  replicas ready and updated at its current generation, unchanged over several polls (KFP's
  own CI waits for stability the same way: kubeflow/pipelines
  .github/resources/scripts/kfp-readiness/wait_for_pods.py polls every 10 s and wants 5
  unchanged polls). It looks at the platform's own workloads only: pods a pipeline run left
  behind (Failed or Completed; KFP configures no pod GC) never make a reused cluster "not ready".
- :func:`wait_isvc_ready`: the InferenceService's ``Ready`` condition is True (KServe's
  tests poll ``.status.conditions[?(@.type=="Ready")]``; kserve/kserve hack/release/smoke-test.sh).

Field names are those of the Kubernetes API (apps/v1 DeploymentStatus, StatefulSetStatus;
core/v1 PodStatus) as ``kubectl get -o json`` prints them.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from harness.cluster.kube.kubectl import Kubectl
from harness.procs.waiting import wait_until

PodStatus = tuple[str, int, int, tuple[str, ...]]
# (desired replicas, ready, updated, generation observed)
WorkloadStatus = tuple[int, int, int, bool]
WORKLOADS = "deployments,statefulsets"


def pod_statuses(pods: dict[str, Any]) -> dict[str, PodStatus]:
    """name -> (phase, ready containers, containers, waiting reasons) of a ``get pods`` list."""
    statuses: dict[str, PodStatus] = {}
    for pod in pods.get("items", []):
        name = pod.get("metadata", {}).get("name", "?")
        status = pod.get("status", {})
        containers = status.get("containerStatuses") or []
        ready = sum(1 for c in containers if c.get("ready"))
        waiting = tuple(
            f"{c.get('name')}: {c['state']['waiting'].get('reason', '')}"
            for c in containers
            if (c.get("state") or {}).get("waiting")
        )
        statuses[name] = (status.get("phase", "Unknown"), ready, len(containers), waiting)
    return statuses


def _settled(status: PodStatus) -> bool:
    phase, ready, total, _ = status
    return phase == "Succeeded" or (phase == "Running" and ready == total and total > 0)


def workload_statuses(items: dict[str, Any]) -> dict[str, WorkloadStatus]:
    """"Kind/name" -> (desired, ready, updated, generation observed) of a ``get deployments,statefulsets`` list."""
    statuses: dict[str, WorkloadStatus] = {}
    for obj in items.get("items", []):
        meta, spec, status = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {}) or {}
        desired = spec.get("replicas", 1)
        desired = 1 if desired is None else int(desired)
        observed = int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
        name = f"{obj.get('kind', '?')}/{meta.get('name', '?')}"
        statuses[name] = (desired, int(status.get("readyReplicas") or 0), int(status.get("updatedReplicas") or 0), observed)
    return statuses


def _workload_ready(status: WorkloadStatus) -> bool:
    desired, ready, updated, observed = status
    return observed and ready >= desired and updated >= desired


def describe_workloads(statuses: dict[str, WorkloadStatus]) -> str:
    """The workloads that are not ready, for a timeout message."""
    if not statuses:
        return "no Deployments or StatefulSets yet"
    bad = [f"{name} {ready}/{desired} ready, {updated} updated" + ("" if observed else ", new generation not observed")
           for name, (desired, ready, updated, observed) in sorted(statuses.items())
           if not _workload_ready((desired, ready, updated, observed))]
    return "not ready: " + ", ".join(bad) if bad else f"{len(statuses)} workloads ready but still changing"


def unready_others(statuses: dict[str, WorkloadStatus], required: Collection[str]) -> str:
    """The workloads outside ``required`` that are not ready ("" when none): reported, not waited for."""
    others = {name: st for name, st in statuses.items() if name not in required}
    if all(_workload_ready(st) for st in others.values()):
        return ""
    return describe_workloads(others).removeprefix("not ready: ")


def wait_workloads_ready(
    kubectl: Kubectl,
    namespace: str,
    *,
    timeout: float,
    interval: float = 10.0,
    stable_polls: int = 5,
    required: Collection[str] | None = None,
) -> dict[str, WorkloadStatus]:
    """Wait until every Deployment and StatefulSet in ``namespace`` is ready and stops changing.

    Args:
        required: only these workloads ("Deployment/<name>") must exist, be ready and stop changing;
            the others are returned (see :func:`unready_others`) but not waited for.
    Raises:
        WaitTimeout: naming the workloads that are not ready (ready/desired replicas).
    """
    state: dict[str, Any] = {"previous": None, "stable": 0, "last": {}}

    def watched(current: dict[str, WorkloadStatus]) -> dict[str, WorkloadStatus]:
        if required is None:
            return current
        return {name: current[name] for name in required if name in current}

    def probe() -> dict[str, WorkloadStatus] | None:
        current = workload_statuses(kubectl.get_json(WORKLOADS, "-n", namespace))
        state["last"] = current
        mine = watched(current)
        complete = bool(mine) if required is None else len(mine) == len(required)
        if complete and mine == state["previous"] and all(_workload_ready(s) for s in mine.values()):
            state["stable"] += 1
        else:
            state["stable"] = 0
        state["previous"] = mine
        return current if state["stable"] >= stable_polls else None

    def describe() -> str:
        last = state["last"]
        if required is None:
            return describe_workloads(last)
        missing = [name for name in required if name not in last]
        text = describe_workloads(watched(last)) if len(missing) < len(required) else ""
        return "; ".join(part for part in (f"missing: {', '.join(missing)}" if missing else "", text) if part)

    whose = "Deployments and StatefulSets" if required is None else ", ".join(required)
    return wait_until(
        probe,
        what=f"{whose} in namespace {namespace} to be ready and stable over {stable_polls} polls",
        timeout=timeout,
        interval=interval,
        describe=describe,
    )


def isvc_condition(isvc: dict[str, Any], kind: str = "Ready") -> tuple[str, str]:
    """(status, reason/message) of the InferenceService condition ``kind``."""
    for cond in isvc.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return str(cond.get("status", "Unknown")), str(cond.get("message") or cond.get("reason") or "")
    return "Unknown", "no conditions yet"


def wait_isvc_ready(kubectl: Kubectl, name: str, namespace: str, *, timeout: float, interval: float = 5.0) -> dict[str, Any]:
    """Wait for the InferenceService's Ready condition; return the object.

    Raises:
        WaitTimeout: with the last Ready status and its message.
    """
    last: dict[str, str] = {"seen": "not found yet"}

    def probe() -> dict[str, Any] | None:
        result = kubectl.run("get", "inferenceservice", name, "-n", namespace, "-o", "json", check=False, timeout=30)
        if not result.ok:
            last["seen"] = (result.stderr or result.stdout).strip()[-300:] or "not found"
            return None
        isvc = json.loads(result.stdout)
        status, message = isvc_condition(isvc)
        last["seen"] = f"Ready={status}" + (f": {message}" if message else "")
        return isvc if status == "True" else None

    return wait_until(
        probe,
        what=f"InferenceService {namespace}/{name} to be Ready",
        timeout=timeout,
        interval=interval,
        describe=lambda: last["seen"],
    )
