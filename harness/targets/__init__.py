"""Targets, and the one place their names map to implementations."""

from __future__ import annotations

import importlib

from harness.config import CLUSTER_TARGETS, TARGETS
from harness.errors import ConfigError, require_extra
from harness.targets.base import Target, TargetContext

# target name -> "module:Class"; imported lazily so the local target never imports kubernetes
TARGET_CLASSES: dict[str, str] = {
    "local": "harness.targets.local:LocalTarget",
    "endpoint": "harness.targets.endpoint:EndpointTarget",
    "kind": "harness.targets.cluster:KindTarget",
    "minikube": "harness.targets.cluster:MinikubeTarget",
    "kubeconfig": "harness.targets.cluster:KubeconfigTarget",
}
assert set(TARGET_CLASSES) == set(TARGETS), "every configurable target needs an implementation"
# target name -> the optional extra of pyproject.toml it needs (the endpoint target: the base install)
EXTRA_OF: dict[str, str] = {"local": "local", "kind": "cluster", "minikube": "cluster", "kubeconfig": "cluster"}


#: targets whose cluster ``mlharness up`` creates and ``down`` deletes
CREATES_CLUSTERS = ("kind", "minikube")


def is_cluster(name: str) -> bool:
    """Whether target ``name`` runs on Kubernetes (tests marked ``cluster`` need one)."""
    return name in CLUSTER_TARGETS


def make_target(ctx: TargetContext) -> Target:
    """The target named by ``ctx.config.core.target``."""
    name = ctx.config.core.target
    if name not in TARGET_CLASSES:
        raise ConfigError(f"unknown target {name!r}; choose one of {', '.join(TARGET_CLASSES)}", "target")
    if name in EXTRA_OF:
        require_extra(EXTRA_OF[name], f"the {name} target")
    module_name, _, class_name = TARGET_CLASSES[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    target: Target = cls(ctx)
    return target


__all__ = ["CREATES_CLUSTERS", "TARGET_CLASSES", "Target", "TargetContext", "is_cluster", "make_target"]
