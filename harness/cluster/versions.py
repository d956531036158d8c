"""Pinned versions of everything a cluster target installs: the one place to change them.

Each pin names the upstream file it was read from. Override any of them for one run with
``versions`` (``--versions kserve=v0.15.2,kfp=2.14.5``, ``HARNESS_VERSIONS`` or
``[versions]`` in ``harness.toml``); :func:`resolve` rejects unknown names.

Manifest URLs and readiness conditions that depend on these versions live next to the
steps that use them (:mod:`harness.cluster.install`), each with its source.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from harness.errors import ConfigError

# kind CLI: kserve/kserve kserve-deps.env (KIND_VERSION=v0.30.0). The nightly workflow installs it.
KIND = "v0.30.0"
# Node image of kind v0.30.0 for Kubernetes v1.34.0, pinned by digest as kind's release notes
# ask; the same reference is used in kubeflow/manifests README ("Create Kind Cluster").
KIND_NODE = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
# minikube and its Kubernetes: KServe's CI (UPSTREAM.md: "CI ran Minikube 1.38.1 with
# Kubernetes v1.34.4").
MINIKUBE = "v1.38.1"
MINIKUBE_KUBERNETES = "v1.34.4"
# kubectl for the nightly job: one minor within the node's Kubernetes (v1.34).
KUBECTL = "v1.34.1"
# cert-manager: kserve/kserve kserve-deps.env (CERT_MANAGER_VERSION=v1.17.0).
CERT_MANAGER = "v1.17.0"
# KServe: the release whose YAML install (kserve.yaml + kserve-cluster-resources.yaml, with
# --server-side) and RawDeployment patch are documented in kserve/website
# docs/admin-guide/kubernetes-deployment.md ("Ingress with YAML", v0.15.0).
KSERVE = "v0.15.0"
# Kubeflow Pipelines standalone: kubeflow/pipelines VERSION file (2.14.5).
KFP = "2.14.5"


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


NAMES = tuple(f.name for f in dataclasses.fields(Versions))
_VERSION = re.compile(r"^[A-Za-z0-9._:/@+-]+$")


def resolve(overrides: Iterable[tuple[str, str]] = ()) -> Versions:
    """The pinned versions with ``overrides`` (``versions`` setting) applied.

    Raises:
        ConfigError: an override names an unknown component or is not a plain version string.
    """
    changes: dict[str, str] = {}
    for name, value in overrides:
        key = name.strip().lower().replace("-", "_")
        if key not in NAMES:
            raise ConfigError(f"unknown component {name!r}; choose from {', '.join(NAMES)}", "versions")
        if not _VERSION.match(value):
            raise ConfigError(f"{value!r} is not a version for {key}", "versions")
        changes[key] = value
    return dataclasses.replace(Versions(), **changes)
