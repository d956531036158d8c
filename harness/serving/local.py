"""Start the sklearn runtime (:mod:`harness.serving.runtime`) as a child on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from harness import procs
from harness.errors import InfrastructureError, WaitTimeout
from harness.inference.client import InferenceClient
from harness.load.resources import tree
from harness.procs.waiting import wait_until
from harness.results import Endpoint

HOST = "127.0.0.1"
PORT_ATTEMPTS = 3  # a free port picked by the harness, taken by another run before our server bound it


class LocalModelServer:
    """KServe's model server with the harness's sklearn runtime, as a tracked child process.

    Args:
        model_dir: directory holding ``model.joblib``.
        model_name: the name in ``/v1/models/NAME``.
        log_path: where the server's output goes.
        port: TCP port on 127.0.0.1; 0 picks a free one.
        workers: uvicorn worker processes.
        log_requests: log a line per request (off: it costs ~25% of the server's CPU).
        repeat_warnings: log every repeat of a Python warning, as stock KServe does (off: each
            distinct warning is logged once; KServe 0.21 warns on every response).
        grpc: serve V2 gRPC too, on its own free port of 127.0.0.1 (:attr:`grpc_port`).
    """

    def __init__(
        self,
        model_dir: str | Path,
        model_name: str,
        log_path: Path,
        *,
        port: int = 0,
        workers: int = 1,
        log_requests: bool = False,
        repeat_warnings: bool = False,
        grpc: bool = False,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.model_name = model_name
        self.log_path = log_path
        self._auto_port = not port
        self.port = port or procs.free_port(HOST)
        self.workers = workers
        self.log_requests = log_requests
        self.repeat_warnings = repeat_warnings
        self.grpc_port = procs.free_port(HOST) if grpc else 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._handoff: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def grpc_url(self) -> str | None:
        return f"{HOST}:{self.grpc_port}" if self.grpc_port else None

    @property
    def endpoint(self) -> Endpoint:
        pid = self.proc.pid if self.proc else "-"
        return Endpoint(self.url, self.model_name, description=f"local KServe model server (pid {pid})", grpc_url=self.grpc_url)

    def argv(self) -> list[str]:
        source = ["--model_dir_file", str(self._handoff)] if self._handoff else ["--model_dir", str(self.model_dir)]
        return [
            sys.executable, "-m", "harness.serving.runtime",
            "--model_name", self.model_name,
            *source,
            "--http_host", HOST,
            "--http_port", str(self.port),
            "--workers", str(self.workers),
            "--log_requests", "true" if self.log_requests else "false",
            "--log_repeated_warnings", "true" if self.repeat_warnings else "false",
            *(["--enable_grpc", "true", "--grpc_port", str(self.grpc_port)] if self.grpc_port else []),
        ]

    def prestart(self, handoff: Path) -> None:
        """Start the server process before the model exists, to overlap KServe's import with training.

        The server waits for ``handoff``; :meth:`start` writes the model directory into it.
        """
        self._check_port()
        self._handoff = handoff
        handoff.unlink(missing_ok=True)
        self.proc = procs.spawn(self.argv(), log_path=self.log_path, env={"PYTHONUNBUFFERED": "1"})

    def _check_port(self) -> None:
        if procs.port_open(HOST, self.port):
            raise InfrastructureError(f"port {self.port} on {HOST} is already in use; pick another with --port")
        if self.grpc_port and procs.port_open(HOST, self.grpc_port):
            self.grpc_port = procs.free_port(HOST)  # always picked by the harness: pick again

    def start(self, ready_timeout: float = 60.0, model_dir: Path | None = None) -> Endpoint:
        """Start the server (or hand the prestarted one its model) and wait until it is ready.

        Ready means *this* server answers: the port is picked free before the server binds it,
        so another run on the machine may take it in between. The listener must belong to our
        process tree; if our server cannot bind because the port was taken, a port the harness
        picked is picked again (up to :data:`PORT_ATTEMPTS` times).

        Raises:
            InfrastructureError: the port is taken, or the server died while starting.
            WaitTimeout: not ready within ``ready_timeout`` (the server is stopped).
        """
        if model_dir is not None:
            self.model_dir = Path(model_dir)
        deadline = time.monotonic() + ready_timeout
        for attempt in range(1, PORT_ATTEMPTS + 1):
            if self.proc is not None and self._handoff is not None:
                tmp = self._handoff.with_suffix(".tmp")
                tmp.write_text(str(self.model_dir))
                tmp.replace(self._handoff)
            else:
                self._check_port()
                self.proc = procs.spawn(self.argv(), log_path=self.log_path, env={"PYTHONUNBUFFERED": "1"})
            try:
                with InferenceClient(self.endpoint, timeout=2.0) as client:

                    def ours_and_ready() -> bool:
                        return client.ready() and self.listening() and (not self.grpc_port or self.listening(self.grpc_port))

                    wait_until(
                        ours_and_ready,
                        what=f"the model server on {self.url} to get ready",
                        timeout=max(0.1, deadline - time.monotonic()),
                        interval=0.1,
                        abort=self._died,
                        describe=self._log_tail,
                    )
                return self.endpoint
            except WaitTimeout as exc:
                self.stop()
                lost_port = self._auto_port and exc.aborted and "address already in use" in str(exc).lower()
                if not lost_port or attempt == PORT_ATTEMPTS:
                    raise
                self.port, self._handoff = procs.free_port(HOST), None  # another run took it: start afresh elsewhere
                self.grpc_port = procs.free_port(HOST) if self.grpc_port else 0
        raise AssertionError("unreachable")

    def listening(self, port: int | None = None) -> bool:
        """Whether our server process (or one of its workers) is the one listening on ``port`` (default: the REST port)."""
        port = port or self.port
        if self.proc is None:
            return False
        for proc in tree([self.proc.pid]):
            try:
                connections = proc.net_connections("tcp") if hasattr(proc, "net_connections") else proc.connections("tcp")
            except psutil.Error:
                continue
            if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections):
                return True
        return False

    def _died(self) -> str | None:
        if self.proc is not None and self.proc.poll() is not None:
            return f"the server exited with code {self.proc.returncode}: {self._log_tail()}"
        return None

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-5:])

    def stop(self) -> None:
        """Stop the server and its workers (safe to call twice)."""
        if self.proc is not None:
            procs.stop(self.proc)
            self.proc = None
