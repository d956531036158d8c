"""Readiness that means servable, not just "created": every wait has a timeout and a message.

- :func:`wait_pods_stable`: all pods of a namespace Running and ready, with statuses
  unchanged over several polls (KFP's own CI does this:
  kubeflow/pipelines .github/resources/scripts/kfp-readiness/wait_for_pods.py, which polls
  every 10 s and wants 5 unchanged polls; its default timeout is 600 s, our KFP step allows 900 s).
- :func:`wait_isvc_ready`: the InferenceService's ``Ready`` condition is True (KServe's
  tests poll ``.status.conditions[?(@.type=="Ready")]``; kserve/kserve hack/release/smoke-test.sh).
"""

from __future__ import annotations

import json
from typing import Any

from harness.cluster.kubectl import Kubectl
from harness.waiting import wait_until

PodStatus = tuple[str, int, int, tuple[str, ...]]


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


def describe_statuses(statuses: dict[str, PodStatus]) -> str:
    """The pods that are not ready, for a timeout message."""
    bad = [
        f"{name} {phase} {ready}/{total}" + (f" ({'; '.join(waiting)})" if waiting else "")
        for name, (phase, ready, total, waiting) in sorted(statuses.items())
        if not _settled((phase, ready, total, waiting))
    ]
    if not statuses:
        return "no pods yet"
    return "not ready: " + ", ".join(bad) if bad else f"{len(statuses)} pods ready but still changing"


def wait_pods_stable(
    kubectl: Kubectl,
    namespace: str,
    *,
    timeout: float,
    interval: float = 10.0,
    stable_polls: int = 5,
) -> dict[str, PodStatus]:
    """Wait until every pod in ``namespace`` is ready and statuses stop changing.

    Raises:
        WaitTimeout: naming the pods that are not ready (phase, ready/total, waiting reason).
    """
    state: dict[str, Any] = {"previous": None, "stable": 0, "last": {}}

    def probe() -> dict[str, PodStatus] | None:
        current = pod_statuses(kubectl.get_json("pods", "-n", namespace))
        state["last"] = current
        if current and current == state["previous"] and all(_settled(s) for s in current.values()):
            state["stable"] += 1
        else:
            state["stable"] = 0
        state["previous"] = current
        return current if state["stable"] >= stable_polls else None

    return wait_until(
        probe,
        what=f"pods in namespace {namespace} to be ready and stable over {stable_polls} polls",
        timeout=timeout,
        interval=interval,
        describe=lambda: describe_statuses(state["last"]),
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
