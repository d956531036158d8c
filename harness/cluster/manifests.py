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
- the in-cluster load Job (locust master + workers, the locustfile in a ConfigMap).
"""

from __future__ import annotations

from typing import Any

MANAGED = {"app.kubernetes.io/managed-by": "mlharness"}
# KFP's object store, as its manifests name it: Service minio-service.kubeflow:9000 (MinIO, or
# SeaweedFS' S3 gateway in newer releases: kubeflow/pipelines manifests/kustomize/third-party/
# seaweedfs/base/seaweedfs/minio-service.yaml) and Secret mlpipeline-minio-artifact with keys
# accesskey/secretkey (.../mlpipeline-minio-artifact-secret.yaml).
KFP_S3_ENDPOINT = "minio-service.kubeflow:9000"
KFP_S3_SECRET = "mlpipeline-minio-artifact"
KFP_S3_REGION = "us-east-1"
DEPLOYMENT_MODE = "RawDeployment"  # kserve/website kubernetes-deployment.md (v0.15: RawDeployment)
LOCUST_IMAGE = "locustio/locust:2.46.6"  # the locust pinned in pyproject.toml, its published image


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(MANAGED)}}


def s3_secret(name: str, ns: str, access_key: str, secret_key: str, endpoint: str = KFP_S3_ENDPOINT) -> dict[str, Any]:
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


def inference_service(name: str, ns: str, uri: str, service_account_name: str | None) -> dict[str, Any]:
    """The InferenceService serving the run's sklearn model in RawDeployment mode."""
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
            "annotations": {"serving.kserve.io/deploymentMode": DEPLOYMENT_MODE},
        },
        "spec": {"predictor": predictor},
    }


def predictor_service(isvc_name: str) -> str:
    """The predictor's Service in RawDeployment (KServe's smoke test port-forwards svc/<name>-predictor 8080:80)."""
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
) -> list[dict[str, Any]]:
    """ConfigMap (locustfile) + master Job + its Service + workers Job for in-cluster load.

    The master runs headless for ``duration_s`` and writes its CSV/JSON figures to stdout and
    ``/results``; the load runner (harness/load) reads them back with ``kubectl logs`` /
    ``kubectl cp``. ``host`` is the predictor's in-cluster URL.
    """
    labels = {**MANAGED, "app.kubernetes.io/name": name}
    master_cmd = [
        "locust", "-f", "/locust/locustfile.py", "--master", "--headless",
        "--host", host, "--users", str(users), "--spawn-rate", f"{spawn_rate:g}",
        "--run-time", f"{int(duration_s)}s", "--expect-workers", str(workers),
        "--csv", "/results/locust", "--json", "--only-summary",
    ]
    worker_cmd = ["locust", "-f", "/locust/locustfile.py", "--worker", "--master-host", f"{name}-master"]
    volumes = [
        {"name": "locustfile", "configMap": {"name": f"{name}-locustfile"}},
        {"name": "results", "emptyDir": {}},
    ]
    mounts = [{"name": "locustfile", "mountPath": "/locust"}, {"name": "results", "mountPath": "/results"}]

    def job(role: str, command: list[str], parallelism: int) -> dict[str, Any]:
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": f"{name}-{role}", "namespace": ns, "labels": {**labels, "mlharness/role": role}},
            "spec": {
                "parallelism": parallelism,
                "completions": parallelism,
                "backoffLimit": 0,
                "activeDeadlineSeconds": int(duration_s) + 300,
                "template": {
                    "metadata": {"labels": {**labels, "mlharness/role": role}},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{
                            "name": "locust",
                            "image": image,
                            "command": command,
                            "ports": [{"containerPort": 5557, "name": "master"}] if role == "master" else [],
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
         "data": {"locustfile.py": locustfile}},
        job("master", master_cmd, 1),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{name}-master", "namespace": ns, "labels": labels},
         "spec": {"selector": {**labels, "mlharness/role": "master"}, "ports": [{"name": "master", "port": 5557, "targetPort": 5557}]}},
        job("worker", worker_cmd, workers),
    ]
