"""Run a compiled pipeline on Kubeflow Pipelines with ``kfp.Client`` and explain failures.

The client's own ``wait_for_run_completion`` raises a bare ``TimeoutError`` (UPSTREAM.md):
here a timeout or a failed task ends with each task's state and the log of the failing
task's pod in the report directory. Task states come from the run API (``run_details``,
whose fields are those ``toApiPipelineTaskDetail`` sets in kubeflow/pipelines
backend/src/apiserver/server/api_converter.go); pods and the model URI come from the pods
labelled with the run id (:mod:`harness.cluster.kubeflow.kfp_pods`), since the API names no pod. The
model is the run's ``dsl.Model`` output (:mod:`harness.pipelines.model_output`, the local
target's rule too). Runs are submitted with caching off: a cached task has no executor pod to
read its output from.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kubeflow.kfp_pods import MAIN_CONTAINER, RunPods
from harness.errors import HarnessError, PipelineError, WaitTimeout
from harness.pipelines.model_output import choose_model_output
from harness.redact import redact
from harness.results import PipelineRun, TaskRun, TaskState

KFP_NAMESPACE = "kubeflow"
# RuntimeState of backend/api/v2beta1/run.proto (no CACHED state exists in the v2beta1 API).
_STATES = {"SUCCEEDED": TaskState.SUCCEEDED, "FAILED": TaskState.FAILED, "SKIPPED": TaskState.SKIPPED,
           "CANCELED": TaskState.FAILED, "CANCELING": TaskState.FAILED}


def planned_tasks(package: Path) -> list[str]:
    """The task names of the compiled pipeline's root DAG."""
    spec = yaml.safe_load(package.read_text())
    return list(spec.get("root", {}).get("dag", {}).get("tasks", {}))


def task_runs(run: Any, planned: list[str]) -> list[TaskRun]:
    """A TaskRun per planned task from a ``V2beta1Run``'s ``run_details.task_details``.

    A planned task's detail is the one whose ``display_name`` is the task name (the Argo DAG
    task of that name; its driver is ``<task>-driver``, its pod ``executor``:
    backend/src/v2/compiler/argocompiler/dag.go, container.go). A task with no detail was skipped.
    """
    details = getattr(getattr(run, "run_details", None), "task_details", None) or []
    by_name: dict[str, Any] = {}
    for task in details:
        name = getattr(task, "display_name", None)
        if name in planned and name not in by_name:
            by_name[name] = task
    out: list[TaskRun] = []
    for name in planned:
        task = by_name.get(name)
        state = _STATES.get(str(getattr(task, "state", "") or "").upper(), TaskState.UNKNOWN) if task else TaskState.SKIPPED
        duration = None
        if task is not None and getattr(task, "start_time", None) and getattr(task, "end_time", None):
            duration = round((task.end_time - task.start_time).total_seconds(), 3)
        out.append(TaskRun(name=name, state=state, duration_s=duration))
    return out


class KfpPipelineRunner:
    """Submits a package to KFP (caching off) and waits for it.

    Args:
        client: a ``kfp.Client`` (with the run's auth).
        kubectl: kubectl of the cluster, to read the run's pods.
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
            result = self.kubectl.run("logs", pod, "-n", self.pod_namespace, "-c", MAIN_CONTAINER, timeout=60, check=False)
            text = result.stdout + result.stderr
        except HarnessError as exc:
            text = f"could not read the logs of pod {pod}: {exc}"
        path.write_text(redact(f"# kubectl logs {pod} -c {MAIN_CONTAINER} -n {self.pod_namespace}\n{text}"))
        return path

    def run(self, package: Path, *, experiment: str, arguments: Mapping[str, Any], timeout: float, run_name: str,
            model_output: str | None = None) -> PipelineRun:
        """Run ``package`` with caching off and wait at most ``timeout`` seconds; ``model_output``
        names the ``dsl.Model`` output to serve when the pipeline has several.

        Raises:
            ConfigError: the pipeline has several models and ``model_output`` does not pick one.
            WaitTimeout: the run did not finish; tasks so far and logs are in the message.
        """
        text = package.read_text()
        model = choose_model_output(yaml.safe_load(text), model_output)  # before the run: a ConfigError costs no cluster time
        planned = planned_tasks(package)
        started = time.monotonic()
        try:
            self.client.create_experiment(experiment, namespace=self.namespace)
            result = self.client.create_run_from_pipeline_package(
                str(package), arguments=dict(arguments), run_name=run_name, experiment_name=experiment,
                namespace=self.namespace, enable_caching=False,
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
        pods = RunPods(self.kubectl, self.pod_namespace, run_id, text)
        final: list[TaskRun] = []
        model_uri, model_error = None, ""
        for task in task_runs(run, planned):
            log = None
            if task.state is TaskState.FAILED or (timed_out and task.state is not TaskState.SUCCEEDED):
                pod = pods.log_pod(task.name)
                log = str(self._pod_logs(task.name, pod)) if pod else None
            artifacts: dict[str, str] = {}
            if model is not None and task.name == model[0] and task.state is TaskState.SUCCEEDED:
                try:
                    model_uri = pods.output_uri(*model)
                    artifacts[model[1]] = model_uri
                except PipelineError as exc:
                    model_error = str(exc)
            final.append(TaskRun(task.name, task.state, artifacts, {}, task.duration_s, log))
        states = ", ".join(f"{t.name}={t.state.value}" for t in final)
        if timed_out:
            logs = [t.log_path for t in final if t.log_path]
            raise WaitTimeout(f"KFP run {run_id}", timeout, f"tasks: {states}" + (f"; logs: {', '.join(logs)}" if logs else ""))
        state = str(getattr(run, "state", "")).upper()
        failed = [t for t in final if t.state is TaskState.FAILED]
        if state == "SUCCEEDED":
            message = model_error
        else:
            message = f"run ended {state or 'UNKNOWN'}" + (
                f"; failing task {failed[0].name}" + (f", log {failed[0].log_path}" if failed[0].log_path else ", no pod found")
                if failed else "")
        return PipelineRun(
            pipeline_name=yaml.safe_load(text).get("pipelineInfo", {}).get("name", "pipeline"),
            run_id=run_id,
            succeeded=state == "SUCCEEDED",
            tasks=tuple(final),
            model_uri=model_uri,
            duration_s=round(time.monotonic() - started, 3),
            message=message,
        )
