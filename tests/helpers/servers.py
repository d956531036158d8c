"""One lifecycle for every test server: start on a free 127.0.0.1 port, wait ready, stop, ``with``.

- :class:`ChildServer`: a server in its own tracked child process (:func:`harness.procs.spawn`:
  its own process group, stopped on teardown and at exit). Subclasses say how it is run
  (:meth:`ChildServer.argv`) and, if a TCP connect is not enough, when it is ready
  (:meth:`ChildServer.ready`).
- :class:`ModuleServer`: one of the helper modules here run as ``python -m MODULE --port N ...``.
- :class:`ThreadServer`: an ``http.server`` in a thread of the test process.
- :class:`ChildServers`: starts :class:`ModuleServer` s for one test and stops them all (the
  ``child_servers`` fixture's object).

Example:
    with ModuleServer("tests.helpers.load_server", ["--delay-ms", "20"], tmp_path / "s.log") as srv:
        httpx.get(srv.url + "/stats")
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from harness import procs
from harness.procs.waiting import wait_until

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]


class ChildServer:
    """A test server in a tracked child process on ``127.0.0.1:port``.

    Args:
        log_path: where its stdout and stderr go.
        port: the port it is told to use (a free one when not given).
        cwd: its working directory (the repository, so ``-m tests.helpers...`` resolves).
        env: environment variables added to ours.
    """

    #: for messages: "the fault server (crash)"
    what = "the test server"
    #: how often readiness is probed, in seconds
    interval = 0.05
    #: how long :meth:`stop` waits after SIGTERM before SIGKILL
    grace = 2.0

    def __init__(self, log_path: Path, *, port: int | None = None, cwd: Path = REPO, env: Mapping[str, str] | None = None) -> None:
        self.log_path = Path(log_path)
        self.port = port or procs.free_port(HOST)
        self.cwd = cwd
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def argv(self) -> list[str]:
        """The server's command line."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Ready when its port takes a TCP connection (override for a stricter probe)."""
        return procs.port_open(HOST, self.port)

    def describe(self) -> str:
        """What a timeout's message adds: the tail of the server's log."""
        return f"log tail ({self.log_path}):\n{self.log_tail()}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:])

    def _died(self) -> str | None:
        if self.proc is not None and self.proc.poll() is not None:
            return f"it exited with code {self.proc.returncode}; {self.describe()}"
        return None

    def start(self, timeout: float = 30.0) -> ChildServer:
        """Start it and wait until :meth:`ready`; on a timeout or an early exit stop it and raise
        :class:`harness.errors.WaitTimeout` with the log's tail."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # children start with PYTHONSAFEPATH=1 (harness.procs): the working directory is not on
        # their sys.path, so ``-m tests.helpers...`` needs the repository named
        path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
        self.proc = procs.spawn(self.argv(), log_path=self.log_path, env={"PYTHONPATH": path, **self.env}, cwd=self.cwd)
        try:
            wait_until(self.ready, what=f"{self.what} on port {self.port}", timeout=timeout, interval=self.interval,
                       abort=self._died, describe=self.describe)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop its whole process group (safe to call twice)."""
        if self.proc is not None:
            procs.stop(self.proc, grace=self.grace)
            self.proc = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ModuleServer(ChildServer):
    """``python -m module --port PORT *args`` (a helper module of this folder, or any other)."""

    def __init__(self, module: str, args: Sequence[str], log_path: Path, **kwargs: Any) -> None:
        super().__init__(log_path, **kwargs)
        self.module = module
        self.args = list(args)
        self.what = f"{module} {' '.join(self.args)}".strip()

    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module, "--port", str(self.port), *self.args]


class ChildServers:
    """Starts module servers for one test and stops them all at its end."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.started: list[ChildServer] = []

    def start(self, module: str, *args: str, timeout: float = 30.0) -> ModuleServer:
        name = module.rsplit(".", 1)[-1]
        server = ModuleServer(module, args, self.work / f"{name}-{len(self.started)}.log")
        self.started.append(server)
        server.start(timeout)
        return server

    def stop_all(self) -> None:
        for server in reversed(self.started):
            server.stop()


class ThreadServer:
    """An ``http.server`` server on a free 127.0.0.1 port, served from a daemon thread.

    ``with ThreadServer(handler_class) as srv:`` starts it (it takes connections as soon as it is
    bound, so there is nothing to wait for) and shuts it down on exit.
    """

    def __init__(self, handler: type, port: int = 0, server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> None:
        self.server = server_class((HOST, port), handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> ThreadServer:
        # a short poll: shutdown() waits for the loop's next poll (0.5 s by default, on every test)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"test-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
