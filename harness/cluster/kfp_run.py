"""Run a compiled pipeline on Kubeflow Pipelines with ``kfp.Client`` and explain failures.

The client's own ``wait_for_run_completion`` raises a bare ``TimeoutError`` (UPSTREAM.md):
here a timeout or a failed task ends with each task's state and the logs of the failing
task's pod in the report directory. The model artifact's URI is read from the ``train``
task's pod: KFP v2 hands the executor its input (output artifact URIs included) as the
``--executor_input`` JSON argument; the pod log is the fallback.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.cluster.kubectl import Kubectl
from harness.errors import HarnessError, PipelineError, WaitTimeout
from harness.models import PipelineRun, TaskRun, TaskState
from harness.redact import redact

MODEL_OUTPUT = "model"
KFP_NAMESPACE = "kubeflow"
_STATES = {"SUCCEEDED": TaskState.SUCCEEDED, "FAILED": TaskState.FAILED, "SKIPPED": TaskState.SKIPPED,
           "CANCELED": TaskState.FAILED, "CACHED": TaskState.SUCCEEDED}
_URI = re.compile(r"((?:minio|s3)://[^\s\"']+/" + MODEL_OUTPUT + r")\b")


def planned_tasks(package: Path) -> list[str]:
    """The task names of the compiled pipeline's root DAG."""
    spec = yaml.safe_load(package.read_text())
    return list(spec.get("root", {}).get("dag", {}).get("tasks", {}))


def model_uri_from_pod(pod: Mapping[str, Any], output: str = MODEL_OUTPUT) -> str | None:
    """The URI of output artifact ``output`` in the pod's ``--executor_input`` JSON, if any."""
    for container in pod.get("spec", {}).get("containers", []):
        for arg in list(container.get("command", [])) + list(container.get("args", [])):
            text = str(arg).strip()
            if not text.startswith("{") or "outputs" not in text:
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                continue
            artifacts = data.get("outputs", {}).get("artifacts", {}).get(output, {}).get("artifacts", [])
            if artifacts and artifacts[0].get("uri"):
                return str(artifacts[0]["uri"])
    return None


def task_runs(run: Any, planned: list[str]) -> list[tuple[TaskRun, str | None]]:
    """(TaskRun, pod name) per planned task from a ``V2beta1Run``'s ``run_details``."""
    details = getattr(getattr(run, "run_details", None), "task_details", None) or []
    by_name: dict[str, Any] = {}
    for task in details:
        name = getattr(task, "display_name", None)
        if name in planned and (getattr(task, "pod_name", None) or name not in by_name):
            by_name[name] = task
    out: list[tuple[TaskRun, str | None]] = []
    for name in planned:
        task = by_name.get(name)
        state = _STATES.get(str(getattr(task, "state", "") or "").upper(), TaskState.UNKNOWN) if task else TaskState.SKIPPED
        duration = None
        if task is not None and getattr(task, "start_time", None) and getattr(task, "end_time", None):
            duration = round((task.end_time - task.start_time).total_seconds(), 3)
        out.append((TaskRun(name=name, state=state, duration_s=duration), getattr(task, "pod_name", None) if task else None))
    return out


class KfpPipelineRunner:
    """Submits a package to KFP and waits for it.

    Args:
        client: a ``kfp.Client`` (with the run's auth).
        kubectl: kubectl of the cluster, to read task pods.
        work_dir: the report directory (task logs go to ``pipeline-logs/``).
        namespace: the KFP user namespace (multi-user Kubeflow), or None for standalone.
    """

    def __init__(self, client: Any, kubectl: Kubectl, work_dir: Path, namespace: str | None = None) -> None:
        self.client = client
        self.kubectl = kubectl
        self.work_dir = work_dir
        self.namespace = namespace
        self.pod_namespace = namespace or KFP_NAMESPACE

    def _pod_logs(self, task: str, pod: str) -> Path:
        path = self.work_dir / "pipeline-logs" / f"{task}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = self.kubectl.run("logs", pod, "-n", self.pod_namespace, "--all-containers", "--prefix", timeout=60, check=False)
            text = result.stdout + result.stderr
        except HarnessError as exc:
            text = f"could not read the logs of pod {pod}: {exc}"
        path.write_text(redact(text))
        return path

    def _model_uri(self, pod: str | None) -> str | None:
        if not pod:
            return None
        try:
            uri = model_uri_from_pod(self.kubectl.get_json("pod", pod, "-n", self.pod_namespace))
            if uri:
                return uri
            logs = self.kubectl.run("logs", pod, "-n", self.pod_namespace, "--all-containers", timeout=60, check=False).stdout
        except HarnessError:
            return None
        match = _URI.search(logs)
        return match.group(1) if match else None

    def run(self, package: Path, *, experiment: str, arguments: Mapping[str, Any], timeout: float, run_name: str) -> PipelineRun:
        """Run ``package`` and wait at most ``timeout`` seconds.

        Raises:
            WaitTimeout: the run did not finish; tasks so far and logs are in the message.
        """
        planned = planned_tasks(package)
        started = time.monotonic()
        try:
            self.client.create_experiment(experiment, namespace=self.namespace)
            result = self.client.create_run_from_pipeline_package(
                str(package), arguments=dict(arguments), run_name=run_name, experiment_name=experiment, namespace=self.namespace
            )
        except Exception as exc:  # kfp raises ApiException, MaxRetryError...: all mean "cannot submit"
            raise PipelineError(f"KFP did not accept the run: {redact(str(exc))[:500]}") from exc
        run_id = str(result.run_id)
        timed_out = False
        try:
            run = self.client.wait_for_run_completion(run_id, timeout=int(timeout))
        except TimeoutError:
            timed_out = True
            run = self.client.get_run(run_id)
        tasks = task_runs(run, planned)
        final: list[TaskRun] = []
        model_uri = None
        for task, pod in tasks:
            log = None
            if pod and (task.state is not TaskState.SUCCEEDED or timed_out):
                log = str(self._pod_logs(task.name, pod))
            if task.name == "train" and task.state is TaskState.SUCCEEDED:
                model_uri = self._model_uri(pod)
            final.append(TaskRun(task.name, task.state, {MODEL_OUTPUT: model_uri} if task.name == "train" and model_uri else {},
                                 {}, task.duration_s, log))
        states = ", ".join(f"{t.name}={t.state.value}" for t in final)
        if timed_out:
            logs = [t.log_path for t in final if t.log_path]
            raise WaitTimeout(f"KFP run {run_id}", timeout, f"tasks: {states}" + (f"; logs: {', '.join(logs)}" if logs else ""))
        state = str(getattr(run, "state", "")).upper()
        failed = [t for t in final if t.state is TaskState.FAILED]
        message = "" if state == "SUCCEEDED" else (
            f"run ended {state or 'UNKNOWN'}" + (f"; failing task {failed[0].name}, log {failed[0].log_path}" if failed else "")
        )
        return PipelineRun(
            pipeline_name=yaml.safe_load(package.read_text()).get("pipelineInfo", {}).get("name", "pipeline"),
            run_id=run_id,
            succeeded=state == "SUCCEEDED",
            tasks=tuple(final),
            model_uri=model_uri,
            duration_s=round(time.monotonic() - started, 3),
            message=message,
        )
