"""``kubectl port-forward`` to 127.0.0.1, started tracked and stopped on teardown."""

from __future__ import annotations

from pathlib import Path

from harness import procs
from harness.cluster.kube.commands import Background
from harness.cluster.kube.kubectl import Kubectl
from harness.procs.waiting import wait_until


class PortForward:
    """Forward ``127.0.0.1:<free port>`` to ``svc/<service>:<port>`` in ``namespace``.

    Args:
        kubectl: kubectl of the cluster.
        namespace, service, port: what to reach.
        log_path: the port-forward's own log (in the report directory).
    """

    def __init__(self, kubectl: Kubectl, namespace: str, service: str, port: int, log_path: Path) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.service = service
        self.port = port
        self.log_path = log_path
        self.local_port = 0
        self.proc: Background | None = None

    def argv(self, local_port: int) -> tuple[str, ...]:
        return self.kubectl.argv("port-forward", "-n", self.namespace, "--address", "127.0.0.1",
                                 f"svc/{self.service}", f"{local_port}:{self.port}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start forwarding; return the local URL once the port accepts connections."""
        self.local_port = procs.free_port()
        self.proc = self.kubectl.runner.start(self.argv(self.local_port), log_path=self.log_path)
        proc = self.proc
        wait_until(
            lambda: procs.port_open("127.0.0.1", self.local_port),
            what=f"port-forward to svc/{self.service} in {self.namespace}",
            timeout=timeout,
            interval=0.2,
            abort=lambda: None if proc.alive() else f"kubectl port-forward exited; see {self.log_path}",
        )
        return self.url

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
