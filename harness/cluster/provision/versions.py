"""Pinned versions of everything a cluster target installs, and what each release ships.

The one place to change a pin. Every pin and every release fact below names the upstream
file and tag it was read from (with ``git show <tag>:<path>`` on the upstream repository).
Override pins for one run with ``versions`` (``--versions kserve=v0.19.0,kfp=2.16.1``,
``HARNESS_VERSIONS`` or ``[versions]`` in ``harness.toml``): :func:`resolve` accepts a KFP or
KServe version only when its release facts are recorded here, because the install steps,
the object-store wiring and the deployment mode depend on them. Anything else is refused
with a ConfigError naming ``versions`` and the releases that are known.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from harness.errors import ConfigError

# kind CLI: kserve/kserve kserve-deps.env at v0.20.0 (KIND_VERSION=v0.30.0). The nightly installs it.
KIND = "v0.30.0"
# kind v0.30.0's default node image, by digest: kubernetes-sigs/kind pkg/apis/config/defaults/image.go at v0.30.0.
KIND_NODE = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
# minikube and its Kubernetes: kserve/kserve .github/actions/minikube-setup/action.yml at v0.20.0
# (minikube-version '1.38.1', kubernetes-version 'v1.34.4').
MINIKUBE = "v1.38.1"
MINIKUBE_KUBERNETES = "v1.34.4"
# kubectl for the nightly job: within one minor of the node's Kubernetes (v1.34).
KUBECTL = "v1.34.1"
# cert-manager: kserve/kserve kserve-deps.env at v0.20.0 (CERT_MANAGER_VERSION=v1.17.0).
CERT_MANAGER = "v1.17.0"
# KServe: the newest release tag of kserve/kserve whose install files are published
# (hack/release/publish-release.sh at v0.20.0 attaches install/<tag>/* to the GitHub release;
# install/v0.20.0/ holds kserve.yaml and kserve-cluster-resources.yaml in the tag's tree).
KSERVE = "v0.20.0"
# Kubeflow Pipelines: the newest backend release tag of kubeflow/pipelines (tags without the
# "sdk-" prefix; its manifests pin images ghcr.io/kubeflow/kfp-*:2.17.0,
# manifests/kustomize/base/pipeline/kustomization.yaml at 2.17.0).
KFP = "2.17.0"


@dataclasses.dataclass(frozen=True)
class KfpRelease:
    """What a KFP backend release installs that the harness depends on.

    Args:
        object_store: the S3 store its ``env/platform-agnostic`` installs ("minio" or "seaweedfs").
        s3_endpoint: host:port its launcher writes artifacts to, which KServe must read from.
        profile_label: whether a NetworkPolicy admits the store's port only from namespaces
            labelled :data:`PROFILE_LABEL` (so the run's namespace needs that label).
    """

    object_store: str
    s3_endpoint: str
    profile_label: bool


# Facts per backend tag (kubeflow/pipelines):
# - store: manifests/kustomize/env/platform-agnostic/kustomization.yaml (third-party/minio/base
#   up to 2.14.4, third-party/seaweedfs/base from 2.15.0);
# - endpoint: backend/src/v2/objectstore/config.go (minio-service.kubeflow:9000 up to 2.15.0,
#   where third-party/seaweedfs/base/seaweedfs/minio-service.yaml keeps that Service in front of
#   SeaweedFS; DefaultEndpointInMultiUserMode = "seaweedfs.kubeflow:9000" from 2.16.0);
# - NetworkPolicy: third-party/seaweedfs/base/seaweedfs/seaweedfs-networkpolicy.yaml (2.15.0 on)
#   admits port 8333 (the Service's 9000 targets it) from namespaces labelled
#   app.kubernetes.io/part-of=kubeflow-profile;
# - credentials: Secret mlpipeline-minio-artifact, keys accesskey/secretkey, in every one
#   (backend/src/v2/config/env.go: minioArtifactSecretName, ...AccessKeyKey, ...SecretKeyKey).
_MINIO = KfpRelease("minio", "minio-service.kubeflow:9000", profile_label=False)
KFP_RELEASES: Mapping[str, KfpRelease] = {
    "2.14.0": _MINIO,
    "2.14.3": _MINIO,
    "2.14.4": _MINIO,
    "2.15.0": KfpRelease("seaweedfs", "minio-service.kubeflow:9000", profile_label=True),
    "2.16.0": KfpRelease("seaweedfs", "seaweedfs.kubeflow:9000", profile_label=True),
    "2.16.1": KfpRelease("seaweedfs", "seaweedfs.kubeflow:9000", profile_label=True),
    "2.17.0": KfpRelease("seaweedfs", "seaweedfs.kubeflow:9000", profile_label=True),
}
PROFILE_LABEL = ("app.kubernetes.io/part-of", "kubeflow-profile")
# Versions kubeflow/pipelines tags only as sdk-<version> (SDK releases: no kfp-* images, no
# manifests of that version), read from the repository's tags from 2.14 on.
KFP_SDK_ONLY = ("2.14.1", "2.14.2", "2.14.5", "2.14.6", "2.15.1", "2.15.2", "2.17.0-1")


@dataclasses.dataclass(frozen=True)
class SklearnServer:
    """What KServe's sklearn server image of a release runs (kserve/sklearnserver:<tag>)."""

    image: str
    sklearn: str
    python: str
    numpy: str | None
    source: str


@dataclasses.dataclass(frozen=True)
class KServeRelease:
    """What a KServe release's install files need and ship.

    Args:
        creates_namespace: ``kserve.yaml`` carries the ``kserve`` Namespace (before v0.17:
            hack/release/generate-install.sh drops it with ``yq 'select(.kind != "Namespace")'``
            from v0.17.0 on, so the namespace must be created first).
        deployment_mode: the value of ``defaultDeploymentMode`` / the
            ``serving.kserve.io/deploymentMode`` annotation for raw Kubernetes Deployments
            (pkg/constants/constants.go: ``Standard`` from v0.16.0, ``RawDeployment`` before,
            still accepted as an alias after).
        min_kubernetes: the Kubernetes minor it needs, where upstream states one.
        sklearn_server: the sklearn server its ClusterServingRuntime runs.
        standard_install: the release publishes KServe's standard-mode install
            (``install/<tag>/kserve-standard-mode-full-install-with-manifests.sh``, in the tag's
            tree from v0.18.0 on; hack/release/generate-install.sh copies it there and
            hack/release/publish-release.sh attaches ``install/<tag>/*`` to the release): the
            harness applies the manifests it embeds (KServe's CRDs, the kserve controller without
            the llmisvc and localmodel controllers, the ClusterServingRuntimes) instead of
            ``kserve.yaml`` (``config/overlays/all``, which includes those controllers).
    """

    creates_namespace: bool
    deployment_mode: str
    sklearn_server: SklearnServer
    min_kubernetes: tuple[int, int] | None = None
    standard_install: bool = False


def _sklearn(tag: str, sklearn: str, lock: str, numpy: str | None = None) -> SklearnServer:
    # Python: python/sklearn.Dockerfile at <tag> (ARG PYTHON_VERSION=3.11); scikit-learn (and numpy
    # for Python 3.11) as locked in python/sklearnserver/<lock> at <tag>; the image name and tag in
    # install/<tag>/kserve-cluster-resources.yaml (ClusterServingRuntime kserve-sklearnserver).
    return SklearnServer(f"kserve/sklearnserver:{tag}", sklearn, "3.11", numpy,
                         f"kserve/kserve python/sklearnserver/{lock} and python/sklearn.Dockerfile at {tag}")


KSERVE_RELEASES: Mapping[str, KServeRelease] = {
    "v0.15.0": KServeRelease(True, "RawDeployment", _sklearn("v0.15.0", "1.5.1", "poetry.lock")),
    "v0.15.1": KServeRelease(True, "RawDeployment", _sklearn("v0.15.1", "1.5.2", "poetry.lock")),
    "v0.15.2": KServeRelease(True, "RawDeployment", _sklearn("v0.15.2", "1.5.2", "poetry.lock")),
    "v0.16.0": KServeRelease(True, "Standard", _sklearn("v0.16.0", "1.5.2", "uv.lock")),
    "v0.17.0": KServeRelease(False, "Standard", _sklearn("v0.17.0", "1.5.2", "uv.lock")),
    "v0.17.1": KServeRelease(False, "Standard", _sklearn("v0.17.1", "1.5.2", "uv.lock")),
    "v0.18.0": KServeRelease(False, "Standard", _sklearn("v0.18.0", "1.5.2", "uv.lock"), standard_install=True),
    "v0.18.1": KServeRelease(False, "Standard", _sklearn("v0.18.1", "1.5.2", "uv.lock"), standard_install=True),
    "v0.19.0": KServeRelease(False, "Standard", _sklearn("v0.19.0", "1.5.2", "uv.lock"), standard_install=True),
    # Kubernetes 1.32+ and cert-manager 1.15+: kserve/website docs/admin-guide/kubernetes-deployment
    # ("Installation Requirements"), the page of the v0.20 docs.
    "v0.20.0": KServeRelease(False, "Standard", _sklearn("v0.20.0", "1.5.2", "uv.lock", numpy="2.4.4"), (1, 32),
                              standard_install=True),
}


@dataclasses.dataclass(frozen=True)
class Versions:
    """The versions one run installs (pins with the run's overrides applied)."""

    kind: str = KIND
    kind_node: str = KIND_NODE
    minikube: str = MINIKUBE
    minikube_kubernetes: str = MINIKUBE_KUBERNETES
    kubectl: str = KUBECTL
    cert_manager: str = CERT_MANAGER
    kserve: str = KSERVE
    kfp: str = KFP

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)

    @property
    def kfp_release(self) -> KfpRelease:
        return KFP_RELEASES[self.kfp]

    @property
    def kserve_release(self) -> KServeRelease:
        return KSERVE_RELEASES[self.kserve]


NAMES = tuple(f.name for f in dataclasses.fields(Versions))
_VERSION = re.compile(r"^[A-Za-z0-9._:/@+-]+$")
_MINOR = re.compile(r"v?(\d+)\.(\d+)")


def kubernetes_minor(reference: str) -> tuple[int, int] | None:
    """The Kubernetes minor of ``kindest/node:v1.34.0@sha256:…`` or ``v1.34.4`` (None if unreadable)."""
    tag = reference.split("@", 1)[0].rsplit(":", 1)[-1]
    match = _MINOR.match(tag)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _check_releases(v: Versions) -> None:
    if v.kfp not in KFP_RELEASES:
        bare = v.kfp.removeprefix("sdk-")
        hint = (f" (kubeflow/pipelines tags {bare} only as sdk-{bare}, an SDK release: no backend images, no "
                "manifests of that version)") if v.kfp.startswith("sdk-") or bare in KFP_SDK_ONLY else ""
        raise ConfigError(f"kfp={v.kfp} is not a Kubeflow Pipelines backend release mlharness knows{hint}; "
                          f"known: {', '.join(KFP_RELEASES)}", "versions")
    if v.kserve not in KSERVE_RELEASES:
        raise ConfigError(f"kserve={v.kserve} is not a KServe release mlharness knows the install files of; "
                          f"known: {', '.join(KSERVE_RELEASES)}", "versions")
    need = v.kserve_release.min_kubernetes
    if need is None:
        return
    for name in ("kind_node", "minikube_kubernetes"):
        have = kubernetes_minor(getattr(v, name))
        if have is not None and have < need:
            raise ConfigError(f"{name}={getattr(v, name)} is Kubernetes {have[0]}.{have[1]}, but KServe {v.kserve} "
                              f"needs {need[0]}.{need[1]} or newer", "versions")


def resolve(overrides: Iterable[tuple[str, str]] = ()) -> Versions:
    """The pinned versions with ``overrides`` (``versions`` setting) applied.

    Raises:
        ConfigError: an override names an unknown component, is not a plain version string,
            names a KFP/KServe release whose facts are not recorded here, or a Kubernetes
            older than the KServe release needs.
    """
    changes: dict[str, str] = {}
    for name, value in overrides:
        key = name.strip().lower().replace("-", "_")
        if key not in NAMES:
            raise ConfigError(f"unknown component {name!r}; choose from {', '.join(NAMES)}", "versions")
        if not _VERSION.match(value):
            raise ConfigError(f"{value!r} is not a version for {key}", "versions")
        changes[key] = value
    versions = dataclasses.replace(Versions(), **changes)
    _check_releases(versions)
    return versions
