"""What the local runtime changes in KServe 0.21's model server, each for a stated reason.

Each function patches one thing and is called by :mod:`harness.serving.runtime` before the
server starts (and, for the multi-worker server, again in each worker process, which KServe
starts with ``multiprocessing``'s *spawn*: patches made in the parent do not reach it).

- :func:`bind_rest_server_to`: KServe's ``RESTServer`` hard-codes ``host="0.0.0.0"``
  (``kserve/protocol/rest/server.py``, ``RESTServer.__init__``); the harness's servers bind
  127.0.0.1.
- :func:`bind_grpc_server_to`: KServe's ``GRPCServer`` listens on ``[::]:PORT``, every interface
  (``kserve/protocol/grpc/server.py``, ``GRPCServer.start``: ``listen_addr = f"[::]:{self._port}"``);
  the harness's gRPC server binds 127.0.0.1 like its REST server.
- :func:`accept_json_without_content_type`: a V2 ``/infer`` request whose body comes without a
  ``Content-Type`` is read as JSON, as a V1 ``:predict`` request already is. FastAPI ≥ 0.132
  parses a body as JSON only with a JSON content type (``strict_content_type=True`` by
  default), so KServe's V2 route gets raw bytes and answers 400 "inference-header-content-length
  missing" to NVIDIA's tritonclient (which sends no Content-Type with JSON tensors) and to
  ``curl -H 'Content-Type:'``. A body that carries ``Inference-Header-Content-Length`` is the binary
  tensor extension and is left alone.
- :func:`quiet_request_logs`: no access or trace line per request (~25 % of the server's CPU).
- :func:`give_workers_time_to_start`: KServe's multi-worker server pings each worker every
  0.5 s from the moment it is spawned and kills (then respawns) one that does not answer within
  5 s (``kserve/protocol/rest/multiprocess/server.py``, ``RESTServerProcess.is_alive``). A
  worker first imports KServe and scikit-learn: 11 s measured on this project's busy 2-core
  machine, so no worker ever came up. A worker now gets a start-up grace before its first ping.
- :func:`log_each_warning_once`: KServe 0.21 answers with FastAPI's deprecated
  ``ORJSONResponse``, which warns on every response; scikit-learn's ``warnings.catch_warnings``
  blocks reset Python's once-per-location registry, so every request printed the warning again
  (~0.9 MB of log a second under load). Each distinct warning is now shown once per process.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

BINARY_HEADER = b"inference-header-content-length"  # the V2 binary tensor extension's header
MAX_DISTINCT_WARNINGS = 10_000  # past this many distinct warnings, new ones are shown but not remembered
WORKER_START_GRACE = 120.0  # seconds a spawned worker may take to import and start answering pings


def bind_rest_server_to(host: str) -> None:
    """Make KServe's REST server (one worker or many) listen on ``host``, not its fixed 0.0.0.0."""
    from kserve.protocol.rest import server as rest_server

    original = rest_server.RESTServer.__init__

    def __init__(self: rest_server.RESTServer, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        self.config.host = host  # read when the socket is bound, by both server kinds

    rest_server.RESTServer.__init__ = __init__


class _BoundServer:
    """A ``grpc.aio`` server whose ``add_insecure_port`` binds ``host`` instead of the address asked for."""

    def __init__(self, server: Any, host: str) -> None:
        self._server = server
        self._host = host

    def add_insecure_port(self, address: str) -> int:
        port = address.rpartition(":")[2]
        return int(self._server.add_insecure_port(f"{self._host}:{port}"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def bind_grpc_server_to(host: str) -> None:
    """Make KServe's gRPC server listen on ``host``, not on every interface (``[::]``).

    ``GRPCServer.start`` builds its server with ``aio.server(...)`` (the ``aio`` name of
    ``kserve.protocol.grpc.server``) and binds ``[::]:PORT`` right after: only that module's
    ``aio.server`` is wrapped, so the port it binds keeps its number and takes ``host``.
    """
    import types

    from kserve.protocol.grpc import server as grpc_server

    real = grpc_server.aio

    def server(*args: Any, **kwargs: Any) -> _BoundServer:
        return _BoundServer(real.server(*args, **kwargs), host)

    grpc_server.aio = types.SimpleNamespace(server=server)


def is_v2_infer(path: str) -> bool:
    """``/v2/models/NAME/infer`` or ``/v2/models/NAME/versions/V/infer``."""
    return path.startswith("/v2/models/") and path.endswith("/infer")


class JsonWithoutContentType:
    """ASGI middleware: a V2 infer POST without ``Content-Type`` (and not binary) is JSON.

    It adds ``content-type: application/json`` to such a request before FastAPI sees it; every
    other request passes untouched. ASGI servers give header names in lower case.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and is_v2_infer(scope["path"]):
            names = {name for name, _ in scope["headers"]}
            if b"content-type" not in names and BINARY_HEADER not in names:
                scope = dict(scope)
                scope["headers"] = [*scope["headers"], (b"content-type", b"application/json")]
        await self.app(scope, receive, send)


def on_create_application(hook: Callable[[Any], None]) -> None:
    """Call ``hook(app)`` each time a KServe REST server has built its FastAPI app.

    That moment comes after KServe configured logging and registered its routes, in the
    process that serves (the server itself, or each worker of the multi-worker server).
    """
    from kserve.protocol.rest import server as rest_server

    original = rest_server.RESTServer.create_application

    def create_application(self: rest_server.RESTServer) -> None:
        original(self)
        from kserve import model_server  # the app ``create_application`` just set up

        hook(model_server.app)

    rest_server.RESTServer.create_application = create_application


def accept_json_without_content_type() -> None:
    """Put :class:`JsonWithoutContentType` on KServe's app whenever a REST server builds it."""
    on_create_application(lambda app: app.add_middleware(JsonWithoutContentType))


def quiet_request_logs() -> None:
    """No log line per request: uvicorn's access line and KServe's trace line are off.

    Measured at ~25% of the server's CPU. Applied when the app is built, after KServe's own
    logging configuration, which would otherwise turn them back on.
    """

    def quiet(app: object) -> None:
        for name in ("uvicorn.access", "kserve.trace"):
            logging.getLogger(name).setLevel(logging.WARNING)
            logging.getLogger(name).disabled = True

    on_create_application(quiet)


def give_workers_time_to_start(grace: float = WORKER_START_GRACE) -> None:
    """In the multi-worker server's parent: a worker younger than ``grace`` counts as alive while
    its process runs; after that, KServe's own ping (5 s) decides, as before.

    A worker that exits during its start-up is still respawned at once; one that hangs while
    starting is caught ``grace`` seconds later instead of 5.
    """
    from kserve.protocol.rest.multiprocess import server as mp_server

    original_start = mp_server.RESTServerProcess.start
    original_is_alive = mp_server.RESTServerProcess.is_alive

    def start(self: mp_server.RESTServerProcess) -> None:
        self._mlharness_started = time.monotonic()
        original_start(self)

    def is_alive(self: mp_server.RESTServerProcess, timeout: float = 5) -> bool:
        started: float | None = getattr(self, "_mlharness_started", None)
        if started is not None and time.monotonic() - started < grace:
            return bool(self._process.is_alive())
        return bool(original_is_alive(self, timeout))

    mp_server.RESTServerProcess.start = start
    mp_server.RESTServerProcess.is_alive = is_alive


def log_each_warning_once(stream: TextIO | None = None) -> None:
    """Show each distinct warning (category, text, file, line) once in this process.

    Python's own filters decide, as before, whether a warning is shown at all; this only drops
    repeats of one already shown, and says once, under the first, that its repeats are dropped.

    Args:
        stream: where the note about dropped repeats goes (default: ``sys.stderr`` at the time).
    """
    original = warnings.showwarning
    shown: set[tuple[str, str, str, int]] = set()
    noted: set[tuple[str, str, str, int]] = set()

    def showwarning(
        message: Warning | str, category: type[Warning], filename: str, lineno: int,
        file: TextIO | None = None, line: str | None = None,
    ) -> None:
        key = (category.__qualname__, str(message), filename, lineno)
        if key not in shown:
            if len(shown) < MAX_DISTINCT_WARNINGS:
                shown.add(key)
            original(message, category, filename, lineno, file, line)
        elif key not in noted:
            noted.add(key)
            out = stream or file or sys.stderr
            with contextlib.suppress(OSError, ValueError):  # a closed stream: as warnings itself does
                out.write(f"mlharness: {category.__name__} at {filename}:{lineno} repeats; its repeats are not logged\n")

    warnings.showwarning = showwarning
