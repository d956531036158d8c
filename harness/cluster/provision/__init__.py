"""Bringing a cluster up: the providers (kind, minikube, kubeconfig), mapped from their names
in one place (:func:`make_provider`), the pinned versions, the Kubeflow installer and the plan."""

from __future__ import annotations

from pathlib import Path

from harness.cluster.kube.commands import CommandResult, CommandRunner, SubprocessRunner
from harness.cluster.provision.base import (
    ClusterHandle,
    ClusterProvider,
    ensure_cluster,
    release_cluster,
    state_dir,
)
from harness.cluster.provision.kind import KindProvider
from harness.cluster.provision.kubeconfig import KubeconfigProvider, default_kubeconfig
from harness.cluster.provision.minikube import MinikubeProvider
from harness.cluster.provision.versions import resolve
from harness.config import HarnessConfig
from harness.errors import ConfigError


def make_provider(cfg: HarnessConfig, root: Path | None = None) -> ClusterProvider:
    """The provider of ``cfg.core.target`` (kind, minikube or kubeconfig)."""
    versions = resolve(cfg.cluster.versions)
    root = root or Path(cfg.core.state_dir)
    if cfg.core.target == "kind":
        return KindProvider(cfg.cluster.name, versions, root)
    if cfg.core.target == "minikube":
        return MinikubeProvider(cfg.cluster.name, versions, root)
    if cfg.core.target == "kubeconfig":
        return KubeconfigProvider(cfg.cluster.name, default_kubeconfig(cfg.cluster.kubeconfig))
    raise ConfigError(f"{cfg.core.target!r} is not a cluster target (kind, minikube, kubeconfig)", "target")


__all__ = [
    "ClusterHandle",
    "ClusterProvider",
    "CommandResult",
    "CommandRunner",
    "SubprocessRunner",
    "ensure_cluster",
    "make_provider",
    "release_cluster",
    "state_dir",
]
