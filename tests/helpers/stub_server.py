"""A scriptable HTTP server on 127.0.0.1, in a thread: each route answers what the test says.

For client-level tests that need exact answers (V2-only readiness, nested outputs, a
redirect, a stalled or endless body) without a model behind them.

Example:
    with StubServer({("GET", "/v2/models/m/ready"): reply(200, {"ready": True})}) as url:
        ...
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.helpers.handlers import JsonHandler
from tests.helpers.servers import ThreadServer

Handler = Callable[[BaseHTTPRequestHandler, bytes], None]


def reply(status: int, body: Any = b"", headers: Mapping[str, str] | None = None) -> Handler:
    """A handler answering ``status`` with ``body`` (a dict/list is sent as JSON)."""
    data = json.dumps(body).encode() if isinstance(body, dict | list) else body.encode() if isinstance(body, str) else body

    def handle(h: BaseHTTPRequestHandler, _body: bytes) -> None:
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return handle


def trickle(every_s: float, total_s: float) -> Handler:
    """200 with headers at once, then one byte every ``every_s`` seconds for ``total_s`` at most."""

    def handle(h: BaseHTTPRequestHandler, _body: bytes) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000000")
        h.end_headers()
        end = time.monotonic() + total_s
        try:
            while time.monotonic() < end:
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(every_s)
        except OSError:
            pass  # the client gave up: that is the point

    return handle


def endless(chunk: int = 64 * 1024, total_s: float = 30.0) -> Handler:
    """200 with a chunked body that keeps coming (for ``total_s`` at most)."""

    def handle(h: BaseHTTPRequestHandler, _body: bytes) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        piece = b"x" * chunk
        end = time.monotonic() + total_s
        try:
            while time.monotonic() < end:
                h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        except OSError:
            pass

    return handle


class StubServer(ThreadServer):
    """Serves ``routes`` ({(method, path): handler}) on a free 127.0.0.1 port; 404 elsewhere.

    ``hits`` counts requests per (method, path), unknown paths included.
    """

    def __init__(self, routes: Mapping[tuple[str, str], Handler], port: int = 0) -> None:
        self.routes = dict(routes)
        self.hits: dict[tuple[str, str], int] = {}
        stub = self

        class _Handler(JsonHandler):
            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                key = (method, self.path)
                stub.hits[key] = stub.hits.get(key, 0) + 1
                stub.routes.get(key, reply(404, {"error": f"no route {method} {self.path}"}))(self, body)

        super().__init__(_Handler, port)

    def __enter__(self) -> str:
        self.start()
        return self.url


def serve(routes: Mapping[tuple[str, str], Handler]) -> Iterator[str]:
    """Fixture helper: ``yield from serve(routes)``."""
    with StubServer(routes) as url:
        yield url
