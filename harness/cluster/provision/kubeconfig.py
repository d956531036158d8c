"""The ``kubeconfig`` provider: an existing cluster (a full Kubeflow, maybe behind Dex).

It never creates or deletes a cluster. The kubeconfig is ``kubeconfig`` (the setting),
else ``$KUBECONFIG``, else ``~/.kube/config``; it is only read.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.cluster.kube.commands import CommandRunner
from harness.cluster.provision.steps import Step


def default_kubeconfig(given: str | None) -> Path:
    """The kubeconfig file to read: the setting, ``$KUBECONFIG`` (its first entry), ``~/.kube/config``."""
    if given:
        return Path(given).expanduser()
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return Path(env.split(os.pathsep)[0]).expanduser()
    return Path.home() / ".kube" / "config"


class KubeconfigProvider:
    """A cluster that already exists, reached through ``kubeconfig``."""

    target = "kubeconfig"
    tools: tuple[str, ...] = ("kubectl",)
    can_create = False

    def __init__(self, name: str, kubeconfig: Path) -> None:
        self.name = name
        self.kubeconfig = kubeconfig

    def _probe_argv(self) -> tuple[str, ...]:
        return ("kubectl", "--kubeconfig", str(self.kubeconfig), "get", "--raw", "/readyz")

    def probe_steps(self) -> list[Step]:
        return [Step("check the API server answers /readyz", self._probe_argv(), 30.0)]

    def exists(self, runner: CommandRunner) -> bool:
        return self.kubeconfig.is_file() and runner.run(self._probe_argv(), timeout=30.0, check=False).ok

    def create_steps(self) -> list[Step]:
        return []

    def reuse_steps(self) -> list[Step]:
        return []

    def delete_steps(self) -> list[Step]:
        return []
