"""Fakes of the cluster code's boundaries, in the shapes upstream gives them.

- :class:`FakeRunner` stands in for the only process boundary (CommandRunner): it records
  argv and answers from rules.
- Kubernetes objects (what ``kubectl get -o json`` prints) are built with the Kubernetes
  Python client's generated models (kubernetes 30.1, from the Kubernetes OpenAPI spec) and
  serialised with its ``ApiClient``: a field the API does not have cannot be set.
  ``test_cluster_fakes.py`` validates each against the Kubernetes schema (kubernetes-validate,
  strict).
- KFP run API responses are ``kfp_server_api`` models (generated from kubeflow/pipelines
  backend/api/v2beta1), filled only with the fields ``toApiPipelineTaskDetail`` / ``toApiRun``
  set (backend/src/apiserver/server/api_converter.go at 2.17.0): no ``pod_name``, no
  ``executor_detail``.
- KFP pods follow the layout at 2.17.0 cited beside each builder; KServe statuses are
  ``kserve.models`` objects with the conditions KServe's own controller tests expect
  (pkg/controller/v1beta1/inferenceservice/tests_common.go and rawkube_controller_test.go at v0.20.0).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s

from harness.cluster.kube.commands import CommandResult
from harness.errors import CommandError, InfrastructureError, ToolMissingError

GOLDEN = Path(__file__).parents[1] / "golden"
Answer = CommandResult | Callable[[tuple[str, ...]], CommandResult]
_API = k8s.ApiClient()


def ok(stdout: str = "") -> Callable[[tuple[str, ...]], CommandResult]:
    return lambda argv: CommandResult(argv, 0, stdout)


def fail(stderr: str = 'Error from server (NotFound): configmaps "mlharness-install" not found') -> Callable[[tuple[str, ...]], CommandResult]:
    return lambda argv: CommandResult(argv, 1, "", stderr)


def serialize(obj: Any) -> Any:
    """A generated model as the JSON the API server (and so kubectl) returns."""
    return _API.sanitize_for_serialization(obj)


def k8s_list(*items: Any) -> str:
    """``kubectl get … -o json`` of several objects: a ``List`` (kubectl's own wrapper kind)."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [serialize(i) for i in items],
                       "metadata": {"resourceVersion": ""}})


# --- workloads and pods (Kubernetes API types) ---------------------------------------------
def deployment(name: str, ns: str, *, replicas: int = 1, ready: int = 1, updated: int | None = None,
               generation: int = 1, observed: int | None = None) -> k8s.V1Deployment:
    """An apps/v1 Deployment with the status fields the Deployment controller fills."""
    labels = {"app": name}
    updated = ready if updated is None else updated
    return k8s.V1Deployment(
        api_version="apps/v1", kind="Deployment",
        metadata=k8s.V1ObjectMeta(name=name, namespace=ns, generation=generation, labels=labels),
        spec=k8s.V1DeploymentSpec(replicas=replicas, selector=k8s.V1LabelSelector(match_labels=labels),
                                  template=k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels=labels),
                                                                 spec=k8s.V1PodSpec(containers=[k8s.V1Container(name=name, image=f"example.invalid/{name}:1")]))),
        status=k8s.V1DeploymentStatus(observed_generation=generation if observed is None else observed, replicas=replicas,
                                      ready_replicas=ready or None, available_replicas=ready or None,
                                      updated_replicas=updated or None,
                                      unavailable_replicas=(replicas - ready) or None),
    )


def statefulset(name: str, ns: str, *, replicas: int = 1, ready: int = 1) -> k8s.V1StatefulSet:
    labels = {"app": name}
    return k8s.V1StatefulSet(
        api_version="apps/v1", kind="StatefulSet",
        metadata=k8s.V1ObjectMeta(name=name, namespace=ns, generation=1, labels=labels),
        spec=k8s.V1StatefulSetSpec(replicas=replicas, service_name=name, selector=k8s.V1LabelSelector(match_labels=labels),
                                   template=k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels=labels),
                                                                  spec=k8s.V1PodSpec(containers=[k8s.V1Container(name=name, image=f"example.invalid/{name}:1")]))),
        status=k8s.V1StatefulSetStatus(observed_generation=1, replicas=replicas, ready_replicas=ready or None,
                                       current_replicas=replicas, updated_replicas=replicas, available_replicas=ready or None),
    )


def pod(name: str, ns: str, phase: str, *, ready: bool = True, waiting: str | None = None, terminated: str | None = None,
        labels: Mapping[str, str] | None = None, containers: Sequence[k8s.V1Container] | None = None,
        restart_policy: str = "Always") -> k8s.V1Pod:
    """A core/v1 Pod with one container status (running, waiting with a reason, or terminated)."""
    containers = list(containers or [k8s.V1Container(name="main", image="example.invalid/app:1")])
    if waiting:
        state = k8s.V1ContainerState(waiting=k8s.V1ContainerStateWaiting(reason=waiting))
    elif terminated:
        state = k8s.V1ContainerState(terminated=k8s.V1ContainerStateTerminated(exit_code=0 if terminated == "Completed" else 1,
                                                                               reason=terminated))
    else:
        state = k8s.V1ContainerState(running=k8s.V1ContainerStateRunning(started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    statuses = [k8s.V1ContainerStatus(name=c.name, image=c.image, image_id="", ready=ready, restart_count=0, state=state)
                for c in containers]
    return k8s.V1Pod(api_version="v1", kind="Pod",
                     metadata=k8s.V1ObjectMeta(name=name, namespace=ns, labels=dict(labels or {})),
                     spec=k8s.V1PodSpec(containers=containers, restart_policy=restart_policy),
                     status=k8s.V1PodStatus(phase=phase, container_statuses=statuses))


# --- KFP run pods (kubeflow/pipelines 2.17.0, Argo Workflows v4.0.5) ------------------------
KFP_RUN_ID = "4b5f3b4c-2f6e-4a8e-9d55-0c7d1c2f9a61"
KFP_WORKFLOW = "iris-7xk2p"  # argocompiler/argo.go: GenerateName "<pipelineInfo.name>-"
# Argo's emissary in front of every main container's command (workflow/controller/workflowpod.go).
ARGO_EMISSARY = ["/var/run/argo/argoexec", "emissary", "--loglevel", "info", "--log-format", "text", "--gloglevel", "0", "--"]


def _kfp_pod(template: str, node: str, phase: str, main: k8s.V1Container, run_id: str) -> k8s.V1Pod:
    # Name: workflow/util/pod_name.go GeneratePodName (v2: "<workflow>-<template>-<fnv32a(node name)>").
    # Labels: workflowpod.go sets workflows.argoproj.io/workflow and .../completed; the workflow's
    # podMetadata adds pipeline/runid (apiserver/template/v2_template.go SetPodMetadataLabels).
    labels = {"workflows.argoproj.io/workflow": KFP_WORKFLOW, "pipeline/runid": run_id,
              "workflows.argoproj.io/completed": "true" if phase in ("Succeeded", "Failed") else "false"}
    fnv = 0x811C9DC5  # FNV-1a, 32 bit (Go's hash/fnv New32a)
    for byte in node.encode():
        fnv = ((fnv ^ byte) * 0x01000193) & 0xFFFFFFFF
    name = f"{KFP_WORKFLOW}-{template}-{fnv}"
    wait = k8s.V1Container(name="wait", image="quay.io/argoproj/argoexec:v4.0.5",
                           command=["argoexec", "wait", "--loglevel", "info", "--log-format", "text", "--gloglevel", "0"])
    terminated = "Completed" if phase == "Succeeded" else "Error" if phase == "Failed" else None
    # restartPolicy Never: workflowpod.go createWorkflowPod.
    return pod(name, "kubeflow", phase, ready=False, terminated=terminated, labels=labels, containers=[wait, main],
               restart_policy="Never")


def kfp_driver_pod(task: str, phase: str = "Succeeded", run_id: str = KFP_RUN_ID) -> k8s.V1Pod:
    """The driver of ``task``: argocompiler/container.go addContainerDriverTemplate's args, an excerpt
    of the flags whose resolved values are known here (the JSON-valued ones are left out)."""
    main = k8s.V1Container(name="main", image="ghcr.io/kubeflow/kfp-driver:2.17.0", command=[*ARGO_EMISSARY, "driver"],
                           args=["--type", "CONTAINER", "--pipeline_name", "iris", "--run_id", run_id,
                                 "--task_name", task, "--iteration_index", "-1",
                                 "--cached_decision_path", "/tmp/outputs/cached-decision",
                                 "--pod_spec_patch_path", "/tmp/outputs/pod-spec-patch",
                                 "--condition_path", "/tmp/outputs/condition"])
    return _kfp_pod("system-container-driver", f"{KFP_WORKFLOW}.root.{task}-driver", phase, main, run_id)


def artifact_uri(task: str, output: str, run_id: str = KFP_RUN_ID, salt: str = "a1d5c7e2-3b4f-4c6d-8e9f-0a1b2c3d4e5f") -> str:
    """driver.go provisionOutputs: <default root>/<pipeline>/<run id>/<task>/<salt>/<output>
    (default root minio://mlpipeline/v2/artifacts: backend/src/v2/config/env.go)."""
    return f"minio://mlpipeline/v2/artifacts/iris/{run_id}/{task}/{salt}/{output}"


def kfp_executor_pod(task: str, package: Path, phase: str = "Succeeded", run_id: str = KFP_RUN_ID,
                     outputs: Sequence[str] | None = None) -> k8s.V1Pod:
    """The executor of ``task``: the launcher command of driver.go initPodSpecPatch, its
    ``--executor_input`` (protojson ExecutorInput) and ``--component_spec`` (the task's
    ComponentSpec from the compiled ``package``, as the driver marshals it); the args are the
    component's own command and args with ``{{$}}`` resolved to the executor input
    (driver.go resolveContainerArgs)."""
    spec = yaml.safe_load(package.read_text())
    component = spec["components"][spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]]
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    names = list(component.get("outputDefinitions", {}).get("artifacts", {})) if outputs is None else list(outputs)
    artifacts = {n: {"artifacts": [{"name": n, "type": component["outputDefinitions"]["artifacts"][n]["artifactType"],
                                    "uri": artifact_uri(task, n, run_id)}]} for n in names}
    root = artifact_uri(task, "x", run_id).rsplit("/", 1)[0]
    executor_input = {"outputs": {"artifacts": artifacts, "outputFile": "/minio/" + root.removeprefix("minio://") + "/output_metadata.json"}}
    user = [json.dumps(executor_input) if a == "{{$}}" else a for a in container.get("command", []) + container.get("args", [])]
    main = k8s.V1Container(
        name="main", image=container["image"],
        command=[*ARGO_EMISSARY, "/kfp-launcher/launch", "--pipeline_name", "iris", "--run_id", run_id, "--execution_id", "7",
                 "--executor_input", json.dumps(executor_input), "--component_spec", json.dumps(component),
                 "--pod_name", "$(KFP_POD_NAME)", "--pod_uid", "$(KFP_POD_UID)",
                 "--ml_pipeline_server_address", "ml-pipeline.kubeflow.svc.cluster.local", "--ml_pipeline_server_port", "8887",
                 "--mlmd_server_address", "metadata-grpc-service.kubeflow.svc.cluster.local", "--mlmd_server_port", "8080",
                 "--publish_logs", "false", "--"],
        args=user,
    )
    return _kfp_pod("system-container-impl", f"{KFP_WORKFLOW}.root.{task}.executor", phase, main, run_id)


def kfp_run(state: str, tasks: Sequence[tuple[str, str]], run_id: str = KFP_RUN_ID) -> Any:
    """A ``V2beta1Run`` as ``GetRun`` returns it: task details with the fields toApiPipelineTaskDetail
    sets (run_id, task_id, display_name, create/start/end time, state, execution_id, parent_task_id);
    display names are the Argo DAG tasks (``<task>-driver``, ``<task>``, ``executor``: argocompiler/dag.go)."""
    import kfp_server_api as api

    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    details = []
    for i, (name, task_state) in enumerate(tasks):
        for display, n in ((f"{name}-driver", 0), (name, 1), ("executor", 2)):
            details.append(api.V2beta1PipelineTaskDetail(
                run_id=run_id, task_id=f"task-{i}-{n}", display_name=display, create_time=t0, start_time=t0,
                end_time=t0 + dt.timedelta(seconds=3 + i), state=task_state if n else "SUCCEEDED", execution_id=10 * i + n,
                parent_task_id="task-root"))
    return api.V2beta1Run(run_id=run_id, experiment_id="exp-1", display_name="mlharness-run", state=state,
                          created_at=t0, finished_at=t0 + dt.timedelta(minutes=2),
                          run_details=api.V2beta1RunDetails(pipeline_context_id=1, pipeline_run_context_id=2,
                                                            task_details=details))


# --- KServe InferenceService status (kserve.models; KServe v0.20.0 controller tests) --------
def isvc(name: str, ns: str, *, ready: bool, reason: str = "", message: str = "") -> dict[str, Any]:
    """An InferenceService with the status KServe's controller writes in raw-Deployment mode:
    Ready as in tests_common.go getExpectedIsvcStatus; not ready as in rawkube_controller_test.go's
    ReplicaFailure case (PredictorReady False with the Deployment's reason and message, which
    knative's ConditionSet.MarkFalse copies to Ready)."""
    from kserve.models import V1beta1ComponentStatusSpec, V1beta1InferenceServiceStatus
    from kserve.models.knative_addressable import KnativeAddressable
    from kserve.models.knative_condition import KnativeCondition

    def cond(kind: str, status: str, **extra: str) -> KnativeCondition:
        return KnativeCondition(type=kind, status=status, **extra)

    if ready:
        conditions = [cond("IngressReady", "True"), cond("PredictorReady", "True"), cond("Ready", "True"),
                      cond("Stopped", "False", severity="Info")]
    else:
        conditions = [cond("PredictorReady", "False", reason=reason, message=message),
                      cond("Ready", "False", reason=reason, message=message), cond("Stopped", "False", severity="Info")]
    status = V1beta1InferenceServiceStatus(
        conditions=conditions, deployment_mode="Standard", url=f"http://{name}-{ns}.example.com",
        address=KnativeAddressable(url=f"http://{name}-predictor.{ns}.svc.cluster.local"),
        components={"predictor": V1beta1ComponentStatusSpec(url=f"http://{name}-predictor-{ns}.example.com")},
        serving_runtime_name="kserve-sklearnserver")
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": name, "namespace": ns}, "status": serialize(status)}


# --- the command runner ----------------------------------------------------------------------
class FakeBackground:
    def __init__(self) -> None:
        self.stopped = False

    def alive(self) -> bool:
        return not self.stopped

    def stop(self) -> None:
        self.stopped = True


# --- KServe's standard-mode install script (the release asset the installer downloads) ---------
def standard_install_script(tag: str = "v0.20.0") -> str:
    """An excerpt of install/<tag>/kserve-standard-mode-full-install-with-manifests.sh (kserve/kserve
    at v0.20.0): its header, ``install_kserve_manifest`` and the three manifest functions with
    upstream's heredoc markers, each manifest cut down to its first objects (the CRD's head, the
    Namespace, the inferenceservice-config ConfigMap's ``deploy`` and the controller Deployment, the
    sklearn ClusterServingRuntime's head), values as upstream writes them."""
    return f"""#!/bin/bash
# Install KServe Standard Mode, LLMISvc, and all related dependencies with manifests included in the script.
#
# AUTO-GENERATED from: kserve-standard-mode-full-install-with-manifests.definition
# DO NOT EDIT MANUALLY
install_kserve_manifest() {{
    log_info "Installing KServe CRDs..."
    get_kserve_crd_manifest | kubectl apply --server-side -f -

    log_info "Installing KServe core components..."
    get_kserve_core_manifest | kubectl apply --server-side -f -

    log_success "KServe CRD and core components installed successfully!"
}}

get_kserve_runtime_manifests() {{
    cat <<'KSERVE_RUNTIME_MANIFEST_EOF'
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterServingRuntime
metadata:
  name: kserve-sklearnserver
spec:
  containers:
  - image: kserve/sklearnserver:{tag}
    name: kserve-container
KSERVE_RUNTIME_MANIFEST_EOF
}}

get_kserve_llmisvcconfig_manifests() {{
    cat <<'KSERVE_LLMISVCCONFIG_MANIFEST_EOF'
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceServiceConfig
metadata:
  name: kserve-config-llm-template
KSERVE_LLMISVCCONFIG_MANIFEST_EOF
}}

create_kserve_runtime_manifests() {{
    get_kserve_runtime_manifests | kubectl apply --server-side -f -
}}

get_kserve_crd_manifest() {{
    cat <<'KSERVE_CRD_MANIFEST_EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: inferenceservices.serving.kserve.io
KSERVE_CRD_MANIFEST_EOF
}}

get_kserve_core_manifest() {{
    cat <<'KSERVE_CORE_MANIFEST_EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: kserve
---
apiVersion: v1
data:
  deploy: |-
    {{
      "defaultDeploymentMode": "Serverless"
    }}
kind: ConfigMap
metadata:
  name: inferenceservice-config
  namespace: kserve
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kserve-controller-manager
  namespace: kserve
KSERVE_CORE_MANIFEST_EOF
}}
"""


class FakeRunner:
    """Answers each command from the first rule whose tokens all appear in its argv, in order.

    Args:
        rules: (tokens, answer) pairs; unmatched commands succeed with empty output.
        tools: the tools "installed".
        downloads: url -> text for :meth:`fetch` (default: KServe's standard-mode install script
            excerpt for any ``kserve-standard-mode-full-install-with-manifests.sh``).
    """

    def __init__(self, rules: Sequence[tuple[Sequence[str], Answer]] = (), tools: Sequence[str] = ("docker", "kind", "minikube", "kubectl"),
                 downloads: Mapping[str, str] | None = None) -> None:
        self.rules = [(tuple(t), a) for t, a in rules]
        self.tools = set(tools)
        self.calls: list[tuple[tuple[str, ...], dict[str, str], str | None]] = []
        self.started: list[tuple[str, ...]] = []
        self.downloads = dict(downloads or {})
        self.fetched: list[str] = []

    def fetch(self, url: str, *, timeout: float) -> str:
        assert timeout > 0, f"every download needs a timeout: {url}"
        self.fetched.append(url)
        if url in self.downloads:
            return self.downloads[url]
        if url.endswith("/kserve-standard-mode-full-install-with-manifests.sh"):
            return standard_install_script(url.rsplit("/", 2)[-2])
        raise InfrastructureError(f"could not download {url}: not in the fake's downloads")

    def which(self, tool: str) -> str | None:
        return f"/usr/bin/{tool}" if tool in self.tools else None

    def _answer(self, argv: tuple[str, ...]) -> CommandResult:
        for tokens, answer in self.rules:
            it = iter(argv)
            if all(any(tok == a for a in it) for tok in tokens):
                return answer(argv) if callable(answer) else answer
        return CommandResult(argv, 0, "")

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            input: str | None = None, check: bool = True) -> CommandResult:
        argv = tuple(argv)
        assert timeout > 0, f"every command needs a timeout: {argv}"
        if argv[0] not in self.tools:
            raise ToolMissingError(argv[0], "install it")
        self.calls.append((argv, dict(env or {}), input))
        result = self._answer(argv)
        if check and not result.ok:
            raise CommandError(list(argv), result.returncode, result.stdout + result.stderr)
        return result

    def start(self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None) -> FakeBackground:
        self.started.append(tuple(argv))
        return FakeBackground()

    def transcript(self, replace: Mapping[str, str]) -> str:
        """The recorded commands, one per line, with paths replaced by placeholders."""
        lines = []
        for argv, env, stdin in self.calls:
            line = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
            line = (line + " " if line else "") + shlex.join(argv) + (" < stdin" if stdin is not None else "")
            for old, new in replace.items():
                line = line.replace(old, new)
            lines.append(line)
        return "\n".join(lines) + "\n"


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``tests/golden/<name>``; ``UPDATE_GOLDEN=1`` rewrites it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    assert text == expected, f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept):\n{text}"
