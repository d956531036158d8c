"""Cluster targets: ``kind``, ``minikube`` (created with Kubeflow installed) and ``kubeconfig``
(an existing Kubeflow, maybe behind Dex with a cookie or token).

provision: cluster up + Kubeflow servable (:class:`~harness.cluster.provision.session.ClusterSession`),
then a namespace for the run. run_pipeline: ``kfp.Client`` through a port-forward to
``svc/ml-pipeline`` (or ``kfp_url``). deploy: an InferenceService whose storageUri is the
run's model in KFP's object store, reached by port-forward or ``ingress_url`` + Host.
teardown: the run's namespace, then the cluster if this run created it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cluster.kube import diagnostics, manifests
from harness.cluster.kube.auth import Auth
from harness.cluster.kube.commands import CommandRunner
from harness.cluster.kube.portforward import PortForward
from harness.cluster.kubeflow.kfp_run import KfpPipelineRunner
from harness.cluster.kubeflow.serving import (
    ISVC_READY_TIMEOUT,
    KServeDeployment,
    ObjectStore,
    deploy_objects,
    kfp_store_credentials,
    object_store,
)
from harness.cluster.provision.install import KFP_NS, KSERVE_NS
from harness.cluster.provision.session import ClusterSession
from harness.errors import ConfigError, HarnessError, InfrastructureError
from harness.inference.tls import verify_setting
from harness.load import LoadResult
from harness.pipelines.arguments import pipeline_arguments
from harness.results import Endpoint, PipelineRun
from harness.targets.base import (
    LoadGenerator,
    Progress,
    ResourceMonitor,
    RuntimeVersions,
    TargetContext,
    local_load,
)

if TYPE_CHECKING:
    from harness.cluster.provision.versions import SklearnServer

KFP_API_SERVICE = "ml-pipeline"
KFP_API_PORT = 8888  # the ml-pipeline Service's HTTP port (KFP manifests)


class ClusterTarget:
    """What kind, minikube and kubeconfig share; subclasses only name themselves."""

    name = "cluster"
    runs_pipelines = True
    deploys = True
    deploy_failure_is_infrastructure = True
    serves_with_this_python = False

    def __init__(self, ctx: TargetContext, runner: CommandRunner | None = None, *, state_root: Path | None = None,
                 interval: float = 10.0, stable_polls: int = 5) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.auth = Auth.from_config(self.cfg)
        self.session = ClusterSession(self.cfg, ctx.work_dir, runner, state_root=state_root, progress=ctx.progress,
                                      interval=interval, stable_polls=stable_polls)
        self.kubectl = self.session.kubectl
        self.namespace = self.cfg.cluster.namespace or f"mlh-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
        self.created_namespace = False
        self.kfp_forward: PortForward | None = None
        self.deployment: KServeDeployment | None = None
        self._store: ObjectStore | None = None

    @property
    def store(self) -> ObjectStore:
        """KFP's object store on this cluster (the pinned KFP release's, or found on an existing one)."""
        if self._store is None:
            self._store = object_store(self.kubectl, self.session.versions if self.session.installs else None)
        return self._store

    def provision(self) -> None:
        self.session.up()
        labels = self.store.labels if self.session.installs else {}
        if not self.kubectl.exists("namespace", self.namespace):
            if not self.session.installs and self.cfg.cluster.namespace:
                raise InfrastructureError(f"namespace {self.namespace} does not exist on the existing cluster")
            self.kubectl.apply([manifests.namespace(self.namespace, labels)])
            self.created_namespace = True
        elif labels:  # a namespace given with --namespace on a cluster mlharness installed: admit it to the store
            self.kubectl.run("label", "namespace", self.namespace, *(f"{k}={v}" for k, v in labels.items()),
                             "--overwrite", timeout=30.0)

    def _kfp_client(self) -> Any:
        import kfp

        host = self.cfg.cluster.kfp_url
        if not host:
            self.kfp_forward = PortForward(self.kubectl, KFP_NS, KFP_API_SERVICE, KFP_API_PORT,
                                           self.ctx.work_dir / "port-forward-kfp.log")
            host = self.kfp_forward.start()
        return kfp.Client(host=host, **self.auth.kfp_kwargs())

    def run_pipeline(self, package: Path) -> PipelineRun:
        self.ctx.progress("running the pipeline on Kubeflow Pipelines")
        kfp_namespace = None if self.session.installs else self.cfg.cluster.namespace
        runner = KfpPipelineRunner(self._kfp_client(), self.kubectl, self.ctx.work_dir, kfp_namespace)
        return runner.run(package, experiment="mlharness", arguments=pipeline_arguments(package, self.cfg.model.min_accuracy),
                          timeout=self.cfg.core.pipeline_timeout, run_name=f"mlharness-{self.namespace}",
                          model_output=self.cfg.model.model_output)

    def deploy(self, run: PipelineRun | None) -> Endpoint:
        if run is None or not run.model_uri:
            why = f": {run.message}" if run is not None and run.message else ""
            raise InfrastructureError(f"the pipeline run reported no model artifact URI to serve{why}")
        access, secret = kfp_store_credentials(self.kubectl)
        mode = self.session.versions.kserve_release.deployment_mode if self.session.installs else manifests.LEGACY_DEPLOYMENT_MODE
        self.deployment = KServeDeployment(self.kubectl, self.namespace, self.cfg.core.model_name, self.ctx.work_dir)
        self.ctx.progress(f"creating InferenceService {self.namespace}/{self.cfg.core.model_name}")
        self.deployment.apply(deploy_objects(self.cfg.core.model_name, self.namespace, run.model_uri, access, secret,
                                             endpoint=self.store.endpoint, mode=mode))
        return self.deployment.reach(ingress_url=self.cfg.cluster.ingress_url, headers=self.auth.headers(self.cfg),
                                     ready_timeout=max(self.cfg.core.ready_timeout, ISVC_READY_TIMEOUT), protocol=self.cfg.endpoint.protocol,
                                     tls_verify=verify_setting(self.cfg.endpoint))

    def in_cluster_url(self, model: str) -> str:
        """The predictor's URL inside the cluster: the InferenceService's ``status.address.url``,
        else ``http://<model>-predictor.<namespace>.svc.cluster.local`` (RawDeployment's Service)."""
        try:
            url = self.kubectl.get_json("inferenceservice", model, "-n", self.namespace).get("status", {}).get("address", {}).get("url")
        except HarnessError:
            url = None
        return str(url).rstrip("/") if url else f"http://{manifests.predictor_service(model)}.{self.namespace}.svc.cluster.local"

    def load_generator(self, endpoint: Endpoint) -> LoadGenerator:
        """``load_in_cluster``: locust as Jobs next to the model, past the port-forward's throttle;
        else locust on this host, through the port-forward (or the ingress)."""
        if self.cfg.cluster.load_in_cluster:
            return InClusterLoad(self, endpoint)
        return local_load(self.ctx, endpoint, os.cpu_count() or 1, "ingress" if self.cfg.cluster.ingress_url else "port-forward")

    def run_load_in_cluster(self, endpoint: Endpoint, progress: Progress | None = None) -> LoadResult:
        from harness.cluster.kubeflow.load_job import run_load_in_cluster

        return run_load_in_cluster(self.kubectl, self.namespace, self.in_cluster_url(endpoint.model_name), endpoint,
                                   self.cfg, self.ctx.work_dir, progress)

    def model_artifact(self) -> Path | None:
        """The model stays in the cluster's object store: no local copy (parity is skipped)."""
        return None

    def deploy_candidate(self, artifact: Path) -> Endpoint:
        """Not here: on a cluster the candidate is a second InferenceService (or the canary
        revision's URL) that is reached by ``candidate_url`` (docs/diff.md)."""
        raise ConfigError("on a cluster target the candidate is a second InferenceService or the canary revision: "
                          "give its URL with --candidate-url (and --candidate-model-name)", "candidate_artifact")

    def train_candidate(self, package: Path) -> PipelineRun:
        """Not here: the candidate's pipeline runs as any pipeline of the team's, and its
        InferenceService is reached by ``candidate_url`` (docs/diff.md)."""
        raise ConfigError("on a cluster target the candidate is a second InferenceService or the canary revision: "
                          "give its URL with --candidate-url (and --candidate-model-name)", "candidate_pipeline")

    def serving_runtime(self) -> RuntimeVersions | None:
        """What serves the model: the pinned KServe release's sklearn server (None on an existing
        Kubeflow, whose KServe release mlharness does not know)."""
        return kserve_runtime(self.session.versions.kserve_release.sklearn_server) if self.session.installs else None

    def resource_monitor(self) -> ResourceMonitor | None:
        """The predictor pods' CPU and memory from the metrics API (:mod:`harness.cluster.kube.pod_metrics`),
        once the model is deployed; an empty series saying why when the API is not there."""
        import json

        from harness.cluster.kube.pod_metrics import PodMetricsSampler, pod_metrics_path

        if self.deployment is None:
            return None
        path = pod_metrics_path(self.namespace, self.cfg.core.model_name)
        return PodMetricsSampler(lambda: json.loads(self.kubectl.run("get", "--raw", path, timeout=10.0).stdout or "{}"))

    def diagnostics(self, out_dir: Path) -> list[Path]:
        files = diagnostics.collect(self.kubectl, [self.namespace, KSERVE_NS, KFP_NS], out_dir)
        return files + sorted((self.ctx.work_dir / "pipeline-logs").glob("*.log"))

    def teardown(self) -> None:
        for closer in (self.deployment, self.kfp_forward):
            if closer is not None:
                closer.stop()
        self.deployment = self.kfp_forward = None
        try:
            if self.created_namespace and not self.cfg.core.keep:
                self.kubectl.run("delete", "namespace", self.namespace, "--wait=false", "--ignore-not-found", timeout=60.0)
                self.created_namespace = False
        except HarnessError as exc:
            self.ctx.progress(f"could not delete namespace {self.namespace}: {exc}")
        finally:
            self.session.release()


def kserve_runtime(server: SklearnServer) -> RuntimeVersions:
    """KServe's sklearn server image of a release, as recorded in harness.cluster.provision.versions."""
    return RuntimeVersions(server.image, server.sklearn, server.python, server.numpy, server.source)


class InClusterLoad:
    """Load from Jobs in the run's namespace (:mod:`harness.cluster.kubeflow.load_job`): nothing to prestart,
    and no plan this host could step (the capacity search drives locust from this host)."""

    plan = None
    via = "in-cluster"

    def __init__(self, target: ClusterTarget, endpoint: Endpoint) -> None:
        self.target = target
        self.endpoint = endpoint

    def prestart(self) -> None:
        """Pods start with the Jobs; nothing to start early."""

    def run(self, progress: Progress | None = None) -> LoadResult:
        return self.target.run_load_in_cluster(self.endpoint, progress)

    def stop(self) -> None:
        """The Jobs are deleted by the load run itself, and with the namespace at teardown."""


class KindTarget(ClusterTarget):
    """A kind cluster with cert-manager, KServe (raw Deployments) and KFP standalone."""

    name = "kind"


class MinikubeTarget(ClusterTarget):
    """A minikube profile with cert-manager, KServe (raw Deployments) and KFP standalone."""

    name = "minikube"


class KubeconfigTarget(ClusterTarget):
    """An existing cluster with Kubeflow installed, maybe behind Dex/oauth2-proxy."""

    name = "kubeconfig"
