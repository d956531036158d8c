"""Cluster targets' machinery: providers (kind, minikube, kubeconfig), the Kubeflow installer,
readiness, diagnostics, KFP runs, KServe deployment and the manifests they apply.

Every external command goes through :class:`~harness.cluster.commands.CommandRunner`, so
the whole flow is testable without a cluster (see ``tests/test_cluster_*.py``).
"""

from __future__ import annotations

from pathlib import Path

from harness.cluster.base import (
    ClusterHandle,
    ClusterProvider,
    ensure_cluster,
    release_cluster,
    state_dir,
)
from harness.cluster.commands import CommandResult, CommandRunner, SubprocessRunner
from harness.config import HarnessConfig
from harness.errors import ConfigError


def make_provider(cfg: HarnessConfig, root: Path | None = None) -> ClusterProvider:
    """The provider of ``cfg.target`` (kind, minikube or kubeconfig)."""
    from harness.cluster.versions import resolve

    versions = resolve(cfg.versions)
    if cfg.target == "kind":
        from harness.cluster.kind import KindProvider

        return KindProvider(cfg.cluster_name, versions, root)
    if cfg.target == "minikube":
        from harness.cluster.minikube import MinikubeProvider

        return MinikubeProvider(cfg.cluster_name, versions, root)
    if cfg.target == "kubeconfig":
        from harness.cluster.kubeconfig import KubeconfigProvider, default_kubeconfig

        return KubeconfigProvider(cfg.cluster_name, default_kubeconfig(cfg.kubeconfig))
    raise ConfigError(f"{cfg.target!r} is not a cluster target (kind, minikube, kubeconfig)", "target")


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
