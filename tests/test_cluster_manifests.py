"""Generated manifests are valid (kubernetes-validate; KServe's CRD schema) and secrets never leak."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from harness.cluster.kube import manifests
from harness.cluster.kube.auth import Auth
from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kubeflow.serving import deploy_objects
from harness.cluster.provision.install import kserve_namespace, marker_manifest
from harness.cluster.provision.session import ClusterSession
from harness.cluster.provision.versions import resolve
from harness.config import load_config
from harness.redact import redact
from tests.helpers.cluster_fakes import FakeRunner, deployment, fail, k8s_list, ok

ENDPOINT = resolve().kfp_release.s3_endpoint

K8S = "1.34"  # the pinned node's Kubernetes minor
SCHEMA = json.loads((Path(__file__).parent / "data" / "kserve_isvc_v1beta1_schema.json").read_text())
MODEL = "minio://mlpipeline/v2/artifacts/iris/run-1/train/model"


def core_objects() -> list[dict]:
    objs = [manifests.namespace("mlh-1", {"app.kubernetes.io/part-of": "kubeflow-profile"}), marker_manifest(resolve()),
            kserve_namespace()]
    objs += [o for o in deploy_objects("sklearn-iris", "mlh-1", MODEL, "minio", "minio123", endpoint=ENDPOINT)
             if o["kind"] != "InferenceService"]
    objs += manifests.load_job("mlh-load", "mlh-1", "from locust import HttpUser\n", "http://sklearn-iris-predictor.mlh-1",
                               users=8, spawn_rate=50, duration_s=30, workers=2)
    return objs


@pytest.mark.parametrize("obj", core_objects(), ids=lambda o: f"{o['kind']}-{o['metadata']['name']}")
def test_core_objects_validate_against_kubernetes(obj: dict) -> None:
    kubernetes_validate.validate(obj, K8S, strict=True)


def test_kubernetes_validate_catches_a_broken_job() -> None:
    job = copy.deepcopy(core_objects()[-1])
    job["spec"]["parallelism"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, K8S, strict=True)


def isvc(mode: str = "Standard") -> dict:
    return next(o for o in deploy_objects("sklearn-iris", "mlh-1", MODEL, "a", "b", endpoint=ENDPOINT, mode=mode)
                if o["kind"] == "InferenceService")


def test_inference_service_matches_kserve_crd_schema() -> None:
    obj = isvc()
    jsonschema.validate(obj, SCHEMA)
    assert obj["spec"]["predictor"]["model"]["storageUri"] == "s3://mlpipeline/v2/artifacts/iris/run-1/train/model"
    assert obj["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert obj["spec"]["predictor"]["serviceAccountName"] == "mlharness-sa"


@pytest.mark.parametrize("breakage", ["no-format-name", "misspelled-field", "bad-quantity"])
def test_kserve_schema_catches_broken_inference_services(breakage: str) -> None:
    obj = isvc()
    model = obj["spec"]["predictor"]["model"]
    if breakage == "no-format-name":
        model["modelFormat"] = {"version": "1"}
    elif breakage == "misspelled-field":
        model["storageURI"] = model.pop("storageUri")
    else:
        model["resources"]["limits"]["cpu"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(obj, SCHEMA)


def test_s3_secret_carries_kserve_annotations_and_the_service_account_binds_it() -> None:
    secret, sa, _ = deploy_objects("sklearn-iris", "mlh-1", MODEL, "AKIDEXAMPLE", "s3cr3tkey", endpoint=ENDPOINT)
    assert secret["metadata"]["annotations"] == {"serving.kserve.io/s3-endpoint": "seaweedfs.kubeflow:9000",
                                                 "serving.kserve.io/s3-usehttps": "0", "serving.kserve.io/s3-region": "us-east-1"}
    assert sa["secrets"] == [{"name": secret["metadata"]["name"]}]
    gcs = deploy_objects("sklearn-iris", "mlh-1", "gs://kfserving-examples/models/sklearn/1.0/model", "a", "b", endpoint=ENDPOINT)
    assert [o["kind"] for o in gcs] == ["InferenceService"], "no S3 credentials for a non-S3 model"


@pytest.mark.parametrize("kfp, endpoint, labelled", [
    ("2.14.4", "minio-service.kubeflow:9000", False),  # MinIO, no NetworkPolicy
    ("2.15.0", "minio-service.kubeflow:9000", True),  # SeaweedFS behind minio-service, NetworkPolicy
    ("2.16.1", "seaweedfs.kubeflow:9000", True),
    ("2.17.0", "seaweedfs.kubeflow:9000", True),
])
def test_object_store_wiring_follows_the_kfp_release(kfp: str, endpoint: str, labelled: bool, tmp_path: Path) -> None:
    from harness.targets.base import TargetContext
    from harness.targets.cluster import KindTarget

    cfg = load_config(cli={"target": "kind", "namespace": "mlh-1", "versions": f"kfp={kfp}"}, env={})
    runner = FakeRunner([(("get", "namespace", "mlh-1"), fail())])
    target = KindTarget(TargetContext(cfg, tmp_path), runner, state_root=tmp_path)
    assert target.store.endpoint == endpoint
    target.kubectl.apply([manifests.namespace("mlh-1", target.store.labels)])
    applied = yaml.safe_load(runner.calls[-1][2] or "")
    assert (applied["metadata"]["labels"].get("app.kubernetes.io/part-of") == "kubeflow-profile") is labelled


def test_an_existing_kubeflow_is_asked_which_store_it_runs(tmp_path: Path) -> None:
    from harness.cluster.kubeflow.serving import object_store

    only_seaweedfs = FakeRunner([(("get", "service", "minio-service"), fail())])
    assert object_store(Kubectl(only_seaweedfs, tmp_path / "kc"), None).endpoint == "seaweedfs.kubeflow:9000"
    assert object_store(Kubectl(FakeRunner(), tmp_path / "kc"), None).endpoint == "minio-service.kubeflow:9000"


def test_cookie_and_token_go_to_kfp_and_requests_but_never_to_text(tmp_path: Path) -> None:
    cookie, token = "authservice_session=MTU4OTI5NDAzMHxOd3dBTkVveldFUl", "eyJhbGciOiJSUzI1NiJ9.payload.sig"
    cfg = load_config(cli={"target": "kubeconfig", "cookie": cookie, "token": token, "host_header": "sklearn-iris.admin.example.com"}, env={})
    auth = Auth.from_config(cfg)
    assert auth.kfp_kwargs() == {"cookies": cookie, "existing_token": token}
    headers = auth.headers(cfg)
    assert headers["Cookie"] == cookie and headers["Authorization"] == f"Bearer {token}"
    assert headers["Host"] == "sklearn-iris.admin.example.com"
    for text in (repr(auth), json.dumps(cfg.as_dict()), redact(f"curl -H 'Cookie: {cookie}' -H 'Authorization: Bearer {token}'")):
        assert cookie not in text and token not in text and "MTU4OTI5" not in text
    plan = ClusterSession(cfg, tmp_path, FakeRunner(), state_root=tmp_path).plan()
    assert cookie not in plan and token not in plan


def test_diagnostics_files_are_redacted(tmp_path: Path) -> None:
    from harness.cluster.kube import diagnostics
    from harness.redact import register_secret

    register_secret("kfp-store-secret-key-123")
    runner = FakeRunner([(("describe",), ok("env: AWS_SECRET_ACCESS_KEY=kfp-store-secret-key-123\ntoken: abc.def\n"))])
    files = diagnostics.collect(Kubectl(runner, tmp_path / "kc"), ["mlh-1"], tmp_path / "diag")
    text = "".join(f.read_text() for f in files)
    assert "kfp-store-secret-key-123" not in text and "abc.def" not in text and "***" in text


@pytest.mark.parametrize("exists", [False, True])
def test_provision_admits_the_run_namespace_to_kfps_store(exists: bool, tmp_path: Path) -> None:
    """KFP >= 2.15's NetworkPolicy admits the store's port only from namespaces labelled
    app.kubernetes.io/part-of=kubeflow-profile; kind's kindnetd enforces NetworkPolicy."""
    from harness.targets.base import TargetContext
    from harness.targets.cluster import KindTarget

    marker = json.dumps({"data": {"versions": json.dumps(resolve().as_dict(), sort_keys=True)}})
    runner = FakeRunner([(("kind", "get", "clusters"), ok("mlharness\n")),
                         (("get", "configmap", "mlharness-install"), ok(marker)),
                         (("get", "deployments,statefulsets"), ok(k8s_list(deployment("kserve-controller-manager", "kserve")))),
                         (("get", "namespace", "mlh-1"), ok("namespace/mlh-1\n") if exists else fail())])
    cfg = load_config(cli={"target": "kind", "namespace": "mlh-1"}, env={})
    KindTarget(TargetContext(cfg, tmp_path), runner, state_root=tmp_path, interval=0, stable_polls=1).provision()
    last = runner.calls[-1][0]
    if exists:
        assert last[3:] == ("label", "namespace", "mlh-1", "app.kubernetes.io/part-of=kubeflow-profile", "--overwrite")
    else:
        applied = yaml.safe_load(runner.calls[-1][2] or "")
        assert applied["kind"] == "Namespace" and applied["metadata"]["labels"]["app.kubernetes.io/part-of"] == "kubeflow-profile"
