"""The ``kind`` provider: a Kubernetes cluster in Docker, created with kind's own CLI.

Commands (kind's CLI reference, ``kind create cluster --help``): ``kind get clusters``
to find an existing cluster, ``kind create cluster --name --image --config --kubeconfig
--wait`` to create one writing a kubeconfig of its own, ``kind export kubeconfig`` to
reuse one, ``kind delete cluster`` to remove it. ``--kubeconfig`` keeps kind away from
``~/.kube/config``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.cluster.kube.commands import CommandRunner
from harness.cluster.provision.base import state_dir
from harness.cluster.provision.steps import Step
from harness.cluster.provision.versions import Versions

CREATE_WAIT = "120s"  # kind's --wait: control plane Ready
CREATE_TIMEOUT = 600.0  # pulling the node image on a fresh CI runner takes minutes


def kind_config() -> dict[str, object]:
    """The kind cluster config: one control-plane node (the node image comes from --image)."""
    return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": [{"role": "control-plane"}]}


class KindProvider:
    """A kind cluster named ``name`` at the pinned node image."""

    target = "kind"
    tools: tuple[str, ...] = ("docker", "kind", "kubectl")
    can_create = True

    def __init__(self, name: str, versions: Versions, root: Path | None = None) -> None:
        self.name = name
        self.versions = versions
        self.dir = state_dir(self.target, name, root)
        self.kubeconfig = self.dir / "kubeconfig"
        self.config_path = self.dir / "kind-config.yaml"

    def probe_steps(self) -> list[Step]:
        return [Step(f"list kind clusters (is there one named {self.name}?)", ("kind", "get", "clusters"), 30.0)]

    def exists(self, runner: CommandRunner) -> bool:
        result = runner.run(("kind", "get", "clusters"), timeout=30.0, check=False)
        return result.ok and self.name in result.stdout.split()

    def _write_config(self, runner: CommandRunner) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(kind_config(), sort_keys=False))

    def create_steps(self) -> list[Step]:
        return [
            Step(f"write the kind config to {self.config_path}", timeout=1.0, wait=self._write_config, label="write",
                 when="if absent"),
            Step(
                f"create kind cluster {self.name} (node {self.versions.kind_node})",
                (
                    "kind", "create", "cluster",
                    "--name", self.name,
                    "--image", self.versions.kind_node,
                    "--config", str(self.config_path),
                    "--kubeconfig", str(self.kubeconfig),
                    "--wait", CREATE_WAIT,
                ),
                CREATE_TIMEOUT,
                when="if absent",
            ),
        ]

    def reuse_steps(self) -> list[Step]:
        return [
            Step(
                f"write the kubeconfig of the existing kind cluster {self.name}",
                ("kind", "export", "kubeconfig", "--name", self.name, "--kubeconfig", str(self.kubeconfig)),
                60.0,
                when="if present",
            )
        ]

    def delete_steps(self) -> list[Step]:
        return [
            Step(
                f"delete kind cluster {self.name}",
                ("kind", "delete", "cluster", "--name", self.name, "--kubeconfig", str(self.kubeconfig)),
                300.0,
            )
        ]
