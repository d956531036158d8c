"""Serve the run's model on KServe and wait until it answers, not just until it is Ready.

Ready is not enough: KServe issue #1658 reports 404s right after Ready, so the deploy ends
with a first successful prediction over the protocol found (retried until ``timeout``), as KServe's own tests
retry on 404/502/503 (UPSTREAM.md).
"""

from __future__ import annotations

import base64
import dataclasses
import time
from pathlib import Path
from typing import Any

from harness.cluster.kube import manifests
from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kube.portforward import PortForward
from harness.cluster.kube.readiness import wait_isvc_ready
from harness.cluster.provision.versions import PROFILE_LABEL, Versions
from harness.errors import InferenceError, InfrastructureError
from harness.inference.client import InferenceClient
from harness.inference.discovery import wait_ready
from harness.procs.waiting import wait_until
from harness.redact import register_secrets
from harness.results import Endpoint

SEED_ROWS = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
# The least time the InferenceService gets to become Ready on a cluster the harness installed: a
# fresh node pulls the storage-initializer and sklearnserver images first. KServe's own release
# smoke test allows the same sklearn InferenceService on kind 600 s (kserve/kserve
# hack/release/smoke-test.sh at v0.20.0: ISVC_TIMEOUT=600, polled every 30 s).
ISVC_READY_TIMEOUT = 600.0
PROBE_TIMEOUT = 10.0
S3_SECRET = "mlharness-s3"
SERVICE_ACCOUNT = "mlharness-sa"


@dataclasses.dataclass(frozen=True)
class ObjectStore:
    """Where KFP keeps artifacts, as KServe's storage initializer must reach it.

    Args:
        endpoint: host:port of the S3 API inside the cluster.
        labels: labels the run's namespace needs to be admitted (KFP >= 2.15's NetworkPolicy).
    """

    endpoint: str
    labels: dict[str, str] = dataclasses.field(default_factory=dict)


def object_store(kubectl: Kubectl, versions: Versions | None, kfp_namespace: str = "kubeflow") -> ObjectStore:
    """KFP's object store: from the pinned release's facts, or (an existing Kubeflow of unknown
    release) from the Service it runs: ``minio-service`` (MinIO, or SeaweedFS behind it in 2.15),
    else ``seaweedfs`` (2.16 on). An existing Kubeflow's profile namespaces carry the label already."""
    if versions is not None:
        release = versions.kfp_release
        return ObjectStore(release.s3_endpoint, dict([PROFILE_LABEL]) if release.profile_label else {})
    for service in ("minio-service", "seaweedfs"):
        if kubectl.exists("service", service, "-n", kfp_namespace):
            return ObjectStore(f"{service}.{kfp_namespace}:9000")
    raise InfrastructureError(f"found neither Service minio-service nor seaweedfs in namespace {kfp_namespace}: "
                              "where does KFP keep its artifacts?")


def kfp_store_credentials(kubectl: Kubectl, kfp_namespace: str = "kubeflow") -> tuple[str, str]:
    """Access and secret key of KFP's object store, read from its Secret (never logged)."""
    data = kubectl.get_json("secret", manifests.KFP_S3_SECRET, "-n", kfp_namespace).get("data", {})
    try:
        access, secret = (base64.b64decode(data[k]).decode() for k in ("accesskey", "secretkey"))
    except (KeyError, ValueError) as exc:
        raise InfrastructureError(f"secret {kfp_namespace}/{manifests.KFP_S3_SECRET} has no accesskey/secretkey: {exc}") from None
    register_secrets([access, secret])
    return access, secret


def deploy_objects(name: str, ns: str, model_uri: str, access: str, secret: str, *, endpoint: str,
                   mode: str = manifests.LEGACY_DEPLOYMENT_MODE) -> list[dict[str, Any]]:
    """Secret + ServiceAccount + InferenceService for the model at ``model_uri``.

    Args:
        endpoint: the object store's host:port (:func:`object_store`).
        mode: the KServe deployment mode annotation (the release's name for raw Deployments).
    """
    uri = manifests.storage_uri(model_uri)
    objs: list[dict[str, Any]] = []
    sa = None
    if uri.startswith("s3://"):
        objs.append(manifests.s3_secret(S3_SECRET, ns, access, secret, endpoint))
        objs.append(manifests.service_account(SERVICE_ACCOUNT, ns, S3_SECRET))
        sa = SERVICE_ACCOUNT
    objs.append(manifests.inference_service(name, ns, uri, sa, mode))
    return objs


def first_prediction(client: InferenceClient, *, timeout: float) -> None:
    """Wait for a first answer with predictions to the seed rows, over the endpoint's first
    protocol (KServe #1658: 404 right after Ready)."""
    last = {"seen": "no answer yet"}

    def probe() -> bool:
        try:
            client.classify(SEED_ROWS)
        except InferenceError as exc:
            last["seen"] = str(exc)
            return False
        return True

    wait_until(probe, what=f"a first successful prediction from {client.endpoint.model_name} (KServe #1658: 404 right after Ready)",
               timeout=timeout, interval=2.0, describe=lambda: last["seen"])


class KServeDeployment:
    """One InferenceService in one namespace, reached by port-forward or through the ingress."""

    def __init__(self, kubectl: Kubectl, namespace: str, name: str, work_dir: Path) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.name = name
        self.work_dir = work_dir
        self.forward: PortForward | None = None

    def apply(self, objects: list[dict[str, Any]]) -> None:
        self.kubectl.apply(objects, timeout=120.0)

    def reach(self, *, ingress_url: str | None, headers: dict[str, str], ready_timeout: float,
              protocol: str = "auto", tls_verify: str | bool = True) -> Endpoint:
        """Wait for Ready, open the way in, find the protocols the model answers ready over,
        wait for a first prediction; the Endpoint."""
        isvc = wait_isvc_ready(self.kubectl, self.name, self.namespace, timeout=ready_timeout)
        headers = dict(headers)
        if ingress_url:
            base = ingress_url.rstrip("/")
            if "Host" not in headers:
                url = str(isvc.get("status", {}).get("url", ""))
                host = url.split("://", 1)[-1].split("/", 1)[0]
                if host:
                    headers["Host"] = host
            how = f"ingress {base} (Host {headers.get('Host', '-')})"
        else:
            self.forward = PortForward(self.kubectl, self.namespace, manifests.predictor_service(self.name), 80,
                                       self.work_dir / "port-forward-predictor.log")
            base = self.forward.start()
            how = f"port-forward to svc/{manifests.predictor_service(self.name)}"
        endpoint = Endpoint(base, self.name, headers, description=f"KServe InferenceService {self.namespace}/{self.name} via {how}",
                            tls_verify=tls_verify)
        deadline = time.monotonic() + ready_timeout
        with InferenceClient(endpoint, PROBE_TIMEOUT) as client:
            found = wait_ready(client, protocol, timeout=ready_timeout)
        endpoint = dataclasses.replace(endpoint, protocols=found.ready, readiness=found.summary())
        with InferenceClient(endpoint, PROBE_TIMEOUT) as client:
            first_prediction(client, timeout=max(1.0, deadline - time.monotonic()))
        return endpoint

    def stop(self) -> None:
        if self.forward is not None:
            self.forward.stop()
            self.forward = None
