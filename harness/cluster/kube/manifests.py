"""The Kubernetes objects a run creates, as plain dicts (schema-checked in the tests).

- a namespace per run (deleted on teardown);
- the S3 credentials Secret and ServiceAccount KServe's storage initializer needs to read
  the model from KFP's object store. Annotations from KServe's S3 storage docs
  (kserve/website docs/model-serving/storage/providers/s3: ``serving.kserve.io/s3-endpoint``
  "e.g minio-service.kubeflow:9000", ``s3-usehttps`` "if testing with minio you can set to 0",
  ``s3-region``), keys ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``; the secret is attached
  through the ServiceAccount's ``secrets``;
- the ``InferenceService`` (serving.kserve.io/v1beta1, ``modelFormat: sklearn``, the
  ``serving.kserve.io/deploymentMode`` annotation);
- the in-cluster load: a Secret (request headers), a ConfigMap (locustfile + plan), the
  master's Service and Job, the workers' Job.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from harness.load.plan import LoadPlan, locust_argv

MANAGED = {"app.kubernetes.io/managed-by": "mlharness"}
# KFP's object store credentials: Secret mlpipeline-minio-artifact with keys accesskey/secretkey
# in every KFP release (kubeflow/pipelines manifests/kustomize/third-party/{minio,seaweedfs}/base/
# .../mlpipeline-minio-artifact-secret.yaml). Its endpoint depends on the KFP release
# (harness.cluster.provision.versions.KFP_RELEASES).
KFP_S3_SECRET = "mlpipeline-minio-artifact"
KFP_S3_REGION = "us-east-1"
# Raw Kubernetes Deployments: "Standard" from KServe v0.16.0, "RawDeployment" before and still
# accepted as an alias (kserve/kserve pkg/constants/constants.go, ParseDeploymentMode).
LEGACY_DEPLOYMENT_MODE = "RawDeployment"
LOCUST_IMAGE = "locustio/locust:2.46.6"  # the locust pinned in pyproject.toml, its published image
# The image has no hdrhistogram (the locustfile's histograms): pip installs this pin (the one in
# pyproject.toml; a manylinux wheel, its runtime needs no dependency) at pod start, from PyPI.
HDRHISTOGRAM = "hdrhistogram==0.10.8"
PIP_TARGET = "/tmp/mlh-py"
LOAD_MASTER_PORT = 5557
LOAD_WORKER_WAIT_S = 300  # the master waits this long for workers: image pull + pip install


def namespace(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {**MANAGED, **(labels or {})}}}


def s3_secret(name: str, ns: str, access_key: str, secret_key: str, endpoint: str) -> dict[str, Any]:
    """KServe's S3 credentials secret for KFP's object store (plain HTTP inside the cluster)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": dict(MANAGED),
            "annotations": {
                "serving.kserve.io/s3-endpoint": endpoint,
                "serving.kserve.io/s3-usehttps": "0",
                "serving.kserve.io/s3-region": KFP_S3_REGION,
            },
        },
        "type": "Opaque",
        "stringData": {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key},
    }


def service_account(name: str, ns: str, secret: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": ns, "labels": dict(MANAGED)},
        "secrets": [{"name": secret}],
    }


def storage_uri(artifact_uri: str) -> str:
    """KFP's artifact URI as KServe's storageUri: ``minio://bucket/key`` -> ``s3://bucket/key``."""
    if artifact_uri.startswith("minio://"):
        return "s3://" + artifact_uri[len("minio://"):]
    return artifact_uri


def inference_service(name: str, ns: str, uri: str, service_account_name: str | None,
                      mode: str = LEGACY_DEPLOYMENT_MODE) -> dict[str, Any]:
    """The InferenceService serving the run's sklearn model on raw Deployments (``mode``)."""
    predictor: dict[str, Any] = {
        "minReplicas": 1,
        "model": {
            "modelFormat": {"name": "sklearn"},
            "storageUri": uri,
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        },
    }
    if service_account_name:
        predictor["serviceAccountName"] = service_account_name
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": dict(MANAGED),
            "annotations": {"serving.kserve.io/deploymentMode": mode},
        },
        "spec": {"predictor": predictor},
    }


def predictor_service(isvc_name: str) -> str:
    """The predictor's Service in raw-Deployment mode (KServe's smoke test port-forwards svc/<name>-predictor 8080:80)."""
    return f"{isvc_name}-predictor"


def load_job(
    name: str,
    ns: str,
    locustfile: str,
    host: str,
    *,
    users: int,
    spawn_rate: float,
    duration_s: float,
    workers: int,
    image: str = LOCUST_IMAGE,
    plan_json: str = "{}",
    headers_secret: str | None = None,
    worker_wait_s: int = LOAD_WORKER_WAIT_S,
    deadline_s: int | None = None,
    modules: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """ConfigMap (locustfile + plan) + master Service + master Job + workers Job for in-cluster load.

    The pods run locust's published image. It lacks ``hdrhistogram``, which the locustfile
    needs, so each container first runs ``pip install`` of the pinned wheel into ``/tmp``
    (the cluster must reach PyPI), then ``exec``s the same locust command lines as the local
    runner (:func:`harness.load.plan.locust_argv`, roles ``master`` / ``worker``), logging to
    stdout. Workers print their result JSON between marker lines (``MLH_LOAD_EMIT=stdout``):
    the harness reads it back with ``kubectl logs``, since a pod's files vanish with it.

    Args:
        host: the predictor's in-cluster URL (locust's ``--host``).
        plan_json: the locustfile's settings (``MLH_LOAD_PLAN``; no header values).
        headers_secret: a Secret whose ``MLH_LOAD_HEADERS`` key holds the request headers
            (they may be secrets: never in the ConfigMap or the Job spec).
        worker_wait_s: how long the master waits for its workers (image pull + pip install).
        deadline_s: ``activeDeadlineSeconds`` of both Jobs (default: duration + 300 s).
        modules: file name -> text of the modules the locustfile loads from beside itself
            (:data:`harness.load.plan.LOCUST_MODULES`), mounted next to it.
    """
    labels = {**MANAGED, "app.kubernetes.io/name": name}
    plan = LoadPlan(base_url=host, model_name="", headers={}, protocol="mixed", batch_size=1, rows=(), users=users,
                    spawn_rate=spawn_rate, duration_s=duration_s, warmup_s=0.0, rate=None, processes=workers)
    where: dict[str, Any] = {"python": "python", "locustfile": "/locust/locustfile.py", "master_port": LOAD_MASTER_PORT}
    master = locust_argv(plan, "master", "/results", bind_host="0.0.0.0", worker_wait_s=worker_wait_s, **where)
    worker = locust_argv(plan, "worker", "/results", master_host=f"{name}-master", **where)
    env: list[dict[str, Any]] = [
        {"name": "MLH_LOAD_PLAN", "valueFrom": {"configMapKeyRef": {"name": f"{name}-locustfile", "key": "plan.json"}}},
        {"name": "MLH_LOAD_OUT", "value": "/results"},
        {"name": "MLH_LOAD_EMIT", "value": "stdout"},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
        {"name": "PYTHONPATH", "value": PIP_TARGET},
        {"name": "PIP_DISABLE_PIP_VERSION_CHECK", "value": "1"},
    ]
    if headers_secret:
        env.insert(1, {"name": "MLH_LOAD_HEADERS",
                       "valueFrom": {"secretKeyRef": {"name": headers_secret, "key": "MLH_LOAD_HEADERS"}}})
    volumes = [
        {"name": "locustfile", "configMap": {"name": f"{name}-locustfile", "items": [
            {"key": key, "path": key} for key in ["locustfile.py", *(modules or {})]]}},
        {"name": "results", "emptyDir": {}},
    ]
    mounts = [{"name": "locustfile", "mountPath": "/locust", "readOnly": True}, {"name": "results", "mountPath": "/results"}]

    def job(role: str, argv: list[str], parallelism: int) -> dict[str, Any]:
        role_labels = {**labels, "mlharness/role": role}
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": f"{name}-{role}", "namespace": ns, "labels": role_labels},
            "spec": {
                "parallelism": parallelism,
                "completions": parallelism,
                "backoffLimit": 0,
                "activeDeadlineSeconds": deadline_s or int(duration_s) + 300,
                "template": {
                    "metadata": {"labels": role_labels},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{
                            "name": "locust",
                            "image": image,
                            "command": ["sh", "-c", container_script(argv)],
                            "env": env,
                            "ports": [{"containerPort": LOAD_MASTER_PORT, "name": "master"}] if role == "master" else [],
                            "volumeMounts": mounts,
                            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                        }],
                        "volumes": volumes,
                    },
                },
            },
        }

    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-locustfile", "namespace": ns, "labels": labels},
         "data": {"locustfile.py": locustfile, **(modules or {}), "plan.json": plan_json}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{name}-master", "namespace": ns, "labels": labels},
         "spec": {"selector": {**labels, "mlharness/role": "master"},
                  "ports": [{"name": "master", "port": LOAD_MASTER_PORT, "targetPort": LOAD_MASTER_PORT}]}},
        job("master", master, 1),
        job("worker", worker, workers),
    ]


def load_headers_secret(name: str, ns: str, headers_json: str) -> dict[str, Any]:
    """The Secret holding the load's request headers (``MLH_LOAD_HEADERS``: cookie, token)."""
    labels = {**MANAGED, "app.kubernetes.io/name": name}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-headers", "namespace": ns, "labels": labels},
            "type": "Opaque", "stringData": {"MLH_LOAD_HEADERS": headers_json}}


def container_script(argv: list[str]) -> str:
    """``sh -c`` script of a load pod: install hdrhistogram (not in locust's image), then run locust.

    ``--logfile`` is dropped so locust logs to the container's output (``kubectl logs``).
    """
    args = list(argv)
    if "--logfile" in args:
        i = args.index("--logfile")
        del args[i:i + 2]
    return (f"pip install --quiet --no-cache-dir --no-deps --only-binary=:all: --target {PIP_TARGET} {HDRHISTOGRAM} "
            f"&& exec {shlex.join(args)}")
