"""kubectl against one cluster, always with the run's own kubeconfig.

Every argv starts ``kubectl --kubeconfig <file>``: the harness never relies on the user's
current context, and never writes ``~/.kube/config``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.cluster.kube.commands import CommandResult, CommandRunner
from harness.errors import InfrastructureError


class Kubectl:
    """kubectl bound to one kubeconfig (and optionally one context).

    Args:
        runner: the command-runner seam.
        kubeconfig: the kubeconfig file of this cluster.
        context: a context in that file (None: its current context).
    """

    def __init__(self, runner: CommandRunner, kubeconfig: Path, context: str | None = None) -> None:
        self.runner = runner
        self.kubeconfig = kubeconfig
        self.context = context

    def argv(self, *args: str) -> tuple[str, ...]:
        """The full argv of ``kubectl args...`` for this cluster."""
        base = ["kubectl", "--kubeconfig", str(self.kubeconfig)]
        if self.context:
            base += ["--context", self.context]
        return (*base, *args)

    def run(self, *args: str, timeout: float = 60.0, input: str | None = None, check: bool = True) -> CommandResult:
        return self.runner.run(self.argv(*args), timeout=timeout, input=input, check=check)

    def get_json(self, *args: str, timeout: float = 30.0) -> dict[str, Any]:
        """``kubectl get ARGS -o json`` parsed; InfrastructureError if the output is not JSON."""
        result = self.run("get", *args, "-o", "json", timeout=timeout)
        try:
            data = json.loads(result.stdout or "{}")
        except json.JSONDecodeError as exc:
            raise InfrastructureError(f"kubectl get {' '.join(args)} did not return JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InfrastructureError(f"kubectl get {' '.join(args)} returned {type(data).__name__}, not an object")
        return data

    def exists(self, *args: str, timeout: float = 30.0) -> bool:
        """Whether ``kubectl get ARGS`` finds the object."""
        return self.run("get", *args, "-o", "name", timeout=timeout, check=False).ok

    def apply(self, objects: Sequence[Mapping[str, Any]], *, timeout: float = 120.0, server_side: bool = False) -> CommandResult:
        """``kubectl apply -f -`` of ``objects`` (a multi-document YAML on stdin)."""
        args = ["apply"] + (["--server-side"] if server_side else []) + ["-f", "-"]
        return self.run(*args, timeout=timeout, input=to_yaml(objects))


def to_yaml(objects: Sequence[Mapping[str, Any]]) -> str:
    """Objects as one multi-document YAML stream (stable key order, for golden files)."""
    return yaml.safe_dump_all([dict(o) for o in objects], sort_keys=False, default_flow_style=False)
