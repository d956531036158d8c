"""The ``minikube`` provider: a profile created with minikube's own CLI (docker driver).

minikube writes the kubeconfig named by ``$KUBECONFIG``; every minikube command here runs
with ``KUBECONFIG`` set to the cluster's own file, so ``~/.kube/config`` is never touched.
Commands (``minikube --help``): ``profile list -o json`` to find a profile, ``start -p
--kubernetes-version --cpus --memory --driver --wait`` to create it, ``update-context -p``
to rewrite the kubeconfig of an existing one, ``delete -p`` to remove it.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.cluster.kube.commands import CommandRunner
from harness.cluster.provision.base import state_dir
from harness.cluster.provision.steps import Step
from harness.cluster.provision.versions import Versions

CPUS = "4"
MEMORY_MB = "8192"  # KFP standalone + KServe: KFP's docs ask for a well-resourced node
DRIVER = "docker"
WAIT_TIMEOUT = "10m0s"
CREATE_TIMEOUT = 900.0


class MinikubeProvider:
    """A minikube profile named ``name`` at the pinned Kubernetes version."""

    target = "minikube"
    tools: tuple[str, ...] = ("docker", "minikube", "kubectl")
    can_create = True

    def __init__(self, name: str, versions: Versions, root: Path | None = None) -> None:
        self.name = name
        self.versions = versions
        self.dir = state_dir(self.target, name, root)
        self.kubeconfig = self.dir / "kubeconfig"

    @property
    def env(self) -> tuple[tuple[str, str], ...]:
        return (("KUBECONFIG", str(self.kubeconfig)),)

    def probe_steps(self) -> list[Step]:
        return [Step(f"list minikube profiles (is there one named {self.name}?)", ("minikube", "profile", "list", "-o", "json"), 60.0)]

    def exists(self, runner: CommandRunner) -> bool:
        result = runner.run(("minikube", "profile", "list", "-o", "json"), timeout=60.0, check=False)
        try:
            data = json.loads(result.stdout or "{}")
        except json.JSONDecodeError:
            return False  # minikube prints an error and exits non-zero when there are no profiles
        profiles = (data.get("valid") or []) + (data.get("invalid") or [])
        return any(p.get("Name") == self.name for p in profiles)

    def create_steps(self) -> list[Step]:
        return [
            Step(
                f"start minikube profile {self.name} (Kubernetes {self.versions.minikube_kubernetes})",
                (
                    "minikube", "start",
                    "-p", self.name,
                    "--kubernetes-version", self.versions.minikube_kubernetes,
                    "--cpus", CPUS,
                    "--memory", MEMORY_MB,
                    "--driver", DRIVER,
                    "--wait", "all",
                    "--wait-timeout", WAIT_TIMEOUT,
                ),
                CREATE_TIMEOUT,
                when="if absent",
                env=self.env,
            )
        ]

    def reuse_steps(self) -> list[Step]:
        return [
            Step(
                f"write the kubeconfig of the existing minikube profile {self.name}",
                ("minikube", "update-context", "-p", self.name),
                60.0,
                when="if present",
                env=self.env,
            )
        ]

    def delete_steps(self) -> list[Step]:
        return [Step(f"delete minikube profile {self.name}", ("minikube", "delete", "-p", self.name), 300.0, env=self.env)]
