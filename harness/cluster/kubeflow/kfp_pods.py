"""A KFP run's pods, read the way KFP lays them out: the run id label, drivers and executors.

What upstream guarantees (kubeflow/pipelines at the backend tags 2.14.0-2.17.0, and Argo
Workflows v4.0.5, which KFP 2.17.0 installs):

- every pod of a run carries the label ``pipeline/runid=<run id>``
  (backend/src/apiserver/template/v2_template.go: ``SetPodMetadataLabels(LabelKeyWorkflowRunId, ...)``,
  backend/src/common/util/consts.go: ``LabelKeyWorkflowRunId = "pipeline/runid"``); the run API
  itself never names a task's pod (backend/src/apiserver/server/api_converter.go,
  ``toApiPipelineTaskDetail`` sets no ``pod_name``);
- a component task is a DAG of a driver pod and an executor pod
  (backend/src/v2/compiler/argocompiler/container.go): the driver's ``main`` container gets
  ``--task_name <task>`` (``addContainerDriverTemplate``); the executor's ``main`` container
  command is the launcher with ``--executor_input <JSON>`` and ``--component_spec <JSON>``
  (backend/src/v2/driver/driver.go, ``initPodSpecPatch``), both protojson, so camelCase keys;
- an output artifact's URI is ``<root>/<pipeline>/<run id>/<task>/<salt>/<output>``
  (driver.go ``provisionOutputs``; backend/src/v2/metadata/client.go ``GenerateOutputURI``);
- Argo puts its emissary in front of the command (workflow/controller/workflowpod.go:
  ``/var/run/argo/argoexec emissary ... --``), so flags are found by name, not position;
- a cached task has a driver pod but no executor pod: the executor DAG step runs only
  ``when: cached-decision != true`` (container.go ``addContainerExecutorTemplate``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from harness.cluster.kube.kubectl import Kubectl
from harness.errors import HarnessError, PipelineError

RUN_ID_LABEL = "pipeline/runid"
MAIN_CONTAINER = "main"  # argo task user container is always called "main" (driver.go)


@dataclasses.dataclass(frozen=True)
class TaskPod:
    """One pod of a run: a task's driver or its executor."""

    name: str
    phase: str
    role: str  # "driver" or "executor"
    task: str | None  # the driver's --task_name; None for an executor
    executor_label: str | None  # the executor's component_spec.executorLabel
    outputs: Mapping[str, tuple[str, ...]]  # executor output artifact name -> URIs


def _flag(argv: Sequence[str], flag: str) -> str | None:
    for i, arg in enumerate(argv[:-1]):
        if arg == flag:
            return argv[i + 1]
    return None


def _json_flag(argv: Sequence[str], flag: str) -> dict[str, Any]:
    text = _flag(argv, flag)
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def classify(pod: Mapping[str, Any]) -> TaskPod | None:
    """The pod as a driver or executor of a task, or None (another kind of pod)."""
    containers = pod.get("spec", {}).get("containers", []) or []
    main = next((c for c in containers if c.get("name") == MAIN_CONTAINER), None)
    if main is None:
        return None
    argv = [str(a) for a in list(main.get("command") or []) + list(main.get("args") or [])]
    name, phase = str(pod.get("metadata", {}).get("name", "?")), str(pod.get("status", {}).get("phase", "Unknown"))
    if "--executor_input" in argv:
        executor_input = _json_flag(argv, "--executor_input")
        artifacts = (executor_input.get("outputs") or {}).get("artifacts") or {}
        outputs = {out: tuple(str(a.get("uri", "")) for a in (spec or {}).get("artifacts", []) if a.get("uri"))
                   for out, spec in artifacts.items()}
        label = _json_flag(argv, "--component_spec").get("executorLabel")
        return TaskPod(name, phase, "executor", None, str(label) if label else None, outputs)
    task = _flag(argv, "--task_name")
    if task is not None:
        return TaskPod(name, phase, "driver", task, None, {})
    return None


def executor_labels(package_text: str) -> dict[str, str]:
    """Task name -> executorLabel of the root DAG's tasks, from the compiled pipeline spec."""
    spec = yaml.safe_load(package_text) or {}
    components = spec.get("components", {}) or {}
    labels: dict[str, str] = {}
    for task, body in (spec.get("root", {}).get("dag", {}).get("tasks", {}) or {}).items():
        ref = (body.get("componentRef") or {}).get("name")
        label = (components.get(ref) or {}).get("executorLabel") if ref else None
        if label:
            labels[task] = str(label)
    return labels


def _of_task(pod: TaskPod, task: str, run_id: str, labels: Mapping[str, str]) -> bool:
    if pod.role == "driver":
        return pod.task == task
    marker = f"/{run_id}/{task}/"
    if any(marker in uri for uris in pod.outputs.values() for uri in uris):
        return True
    label = labels.get(task)
    shared = label is not None and list(labels.values()).count(label) > 1
    return label is not None and not shared and pod.executor_label == label


class RunPods:
    """The pods of one KFP run, listed once by the ``pipeline/runid`` label.

    Args:
        kubectl: kubectl of the cluster.
        namespace: where the run's pods live (``kubeflow`` for standalone KFP).
        run_id: the KFP run id.
        package_text: the compiled pipeline spec (maps tasks to executor labels).
    """

    def __init__(self, kubectl: Kubectl, namespace: str, run_id: str, package_text: str) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.run_id = run_id
        self.labels = executor_labels(package_text)
        self.pods: list[TaskPod] = []
        self.listed = False
        self.error = ""

    def argv(self) -> tuple[str, ...]:
        return ("get", "pods", "-n", self.namespace, "-l", f"{RUN_ID_LABEL}={self.run_id}")

    def all(self) -> list[TaskPod]:
        """List (once) and classify the run's pods; an unreachable API leaves none and an error."""
        if not self.listed:
            self.listed = True
            try:
                items = self.kubectl.get_json(*self.argv(), timeout=60.0).get("items", [])
            except HarnessError as exc:
                self.error = str(exc)
                items = []
            self.pods = [p for p in (classify(item) for item in items) if p is not None]
        return self.pods

    def of_task(self, task: str) -> tuple[list[TaskPod], list[TaskPod]]:
        """(drivers, executors) of ``task``, executors that succeeded first."""
        pods = [p for p in self.all() if _of_task(p, task, self.run_id, self.labels)]
        executors = sorted((p for p in pods if p.role == "executor"), key=lambda p: p.phase != "Succeeded")
        return [p for p in pods if p.role == "driver"], executors

    def log_pod(self, task: str) -> str | None:
        """The pod whose log explains ``task``: its executor, else its driver."""
        drivers, executors = self.of_task(task)
        chosen = executors or drivers
        return chosen[0].name if chosen else None

    def output_uri(self, task: str, output: str) -> str:
        """The URI of ``task``'s output artifact ``output``, from its executor's input.

        Raises:
            PipelineError: no pod of the run, a cached task (no executor pod), or an executor
                without that output; the message says which and why.
        """
        where = f"pods labelled {RUN_ID_LABEL}={self.run_id} in namespace {self.namespace}"
        pods = self.all()
        if not pods:
            reason = self.error or "none found (deleted, or the run ran elsewhere)"
            raise PipelineError(f"cannot find the {output!r} artifact of task {task}: no {where}: {reason}")
        drivers, executors = self.of_task(task)
        if not executors:
            if drivers:
                raise PipelineError(
                    f"task {task} of run {self.run_id} has a driver pod ({drivers[0].name}) but no executor pod: KFP "
                    "skips the executor of a cached task, so there is no executor input to read the model URI from. "
                    "mlharness submits its runs with caching off; rerun without caching")
            raise PipelineError(f"task {task} of run {self.run_id} has no pod among the {len(pods)} {where}")
        for pod in executors:
            uris = pod.outputs.get(output)
            if uris:
                return uris[0]
        raise PipelineError(f"the executor pod {executors[0].name} of task {task} has no output artifact {output!r} "
                            f"(outputs: {', '.join(executors[0].outputs) or 'none'})")
