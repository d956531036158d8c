"""The cluster-provider protocol and the lifecycle every provider shares.

A provider knows its tool's commands (create, reuse, delete) as plan steps; the lifecycle
(:func:`ensure_cluster`, :func:`release_cluster`) decides which to run: reuse a cluster of
the same name, create it otherwise, and on teardown delete only what this run created.
Each cluster has a state directory of its own (``.mlharness/clusters/<target>-<name>/``)
holding its kubeconfig and a ``state.json`` marker saying mlharness created it, which
``mlharness down`` requires before it deletes anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from harness.cluster.kube.commands import CommandRunner, require_tools
from harness.cluster.provision.steps import Step, execute
from harness.errors import InfrastructureError

STATE_FILE = "state.json"
DEFAULT_STATE_ROOT = Path(".mlharness")  # the state_dir setting (HARNESS_STATE_DIR) moves it


def state_root() -> Path:
    """Where cluster state lives when no ``state_dir`` setting is at hand."""
    return DEFAULT_STATE_ROOT


def state_dir(target: str, name: str, root: Path | None = None) -> Path:
    """The state directory of cluster ``name`` of ``target`` (kubeconfig, config, marker)."""
    return (root or state_root()) / "clusters" / f"{target}-{name}"


@runtime_checkable
class ClusterProvider(Protocol):
    """One way to get a Kubernetes cluster (kind, minikube, an existing kubeconfig)."""

    target: str
    name: str
    kubeconfig: Path
    tools: tuple[str, ...]
    can_create: bool

    def exists(self, runner: CommandRunner) -> bool:
        """Whether a cluster of this name is there (a read-only probe)."""

    def probe_steps(self) -> list[Step]:
        """The read-only commands :meth:`exists` runs, for the plan."""

    def create_steps(self) -> list[Step]:
        """Create the cluster, writing its kubeconfig to :attr:`kubeconfig`."""

    def reuse_steps(self) -> list[Step]:
        """Write the kubeconfig of an existing cluster to :attr:`kubeconfig`."""

    def delete_steps(self) -> list[Step]:
        """Delete the cluster (only called for clusters mlharness created)."""


@dataclasses.dataclass(frozen=True)
class ClusterHandle:
    """A cluster the run can use."""

    target: str
    name: str
    kubeconfig: Path
    created: bool  # True: this run created it, so teardown may delete it

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "name": self.name, "kubeconfig": str(self.kubeconfig), "created": self.created}


def read_state(provider: ClusterProvider) -> dict[str, object]:
    """The ``state.json`` marker of the provider's cluster ({} when there is none)."""
    path = provider.kubeconfig.parent / STATE_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(provider: ClusterProvider) -> None:
    path = provider.kubeconfig.parent / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps({"created_by": "mlharness", "target": provider.target, "name": provider.name, "created_at": stamp}, indent=2))


def tools_step(provider: ClusterProvider) -> Step:
    """The first step of every plan: the tools the provider needs are on PATH."""
    return Step(f"needs on PATH: {', '.join(provider.tools)}", label="check", timeout=0)


def ensure_cluster(
    provider: ClusterProvider,
    runner: CommandRunner,
    progress: Callable[[str], None] = lambda _m: None,
    on_step: Callable[[Step], None] = lambda _s: None,
) -> ClusterHandle:
    """Reuse the named cluster if it exists, else create it (if the provider can).

    Args:
        on_step: called with each plan step as it runs (the trace a test compares with the plan).
    Raises:
        ToolMissingError: a tool the provider needs is not installed (exit 3).
        InfrastructureError: the cluster cannot be created or reached.
    """
    on_step(tools_step(provider))
    require_tools(runner, provider.tools)
    if provider.can_create:
        provider.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    for step in provider.probe_steps():
        on_step(step)
    if provider.exists(runner):
        progress(f"reusing {provider.target} cluster {provider.name}")
        execute(provider.reuse_steps(), runner, progress, on_step=on_step)
        return ClusterHandle(provider.target, provider.name, provider.kubeconfig, created=False)
    if not provider.can_create:
        raise InfrastructureError(f"cannot reach the cluster of {provider.kubeconfig}; check the file and its current context")
    progress(f"creating {provider.target} cluster {provider.name}")
    execute(provider.create_steps(), runner, progress, on_step=on_step)
    _write_state(provider)
    return ClusterHandle(provider.target, provider.name, provider.kubeconfig, created=True)


def release_cluster(
    provider: ClusterProvider, handle: ClusterHandle | None, runner: CommandRunner, *, keep: bool
) -> bool:
    """Delete the cluster if this run created it and ``keep`` is False; return whether it did."""
    if handle is None or not handle.created or keep:
        return False
    execute(provider.delete_steps(), runner)
    (provider.kubeconfig.parent / STATE_FILE).unlink(missing_ok=True)
    return True
