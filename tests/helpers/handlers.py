"""What every test server's request handling shares: quiet, HTTP/1.1, JSON answers, one dispatch.

The servers (:mod:`.fault_server`, :mod:`.hostile_server`, :mod:`.load_server`,
:mod:`.slots_server`, :mod:`.stub_server`, :mod:`.evidence_server`) differ in their routes only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing and answers JSON; every method goes to :meth:`_dispatch`."""

    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    # delayed ACKs add ~40 ms to every answer
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read figures and request logs, not per-request lines."""

    def _send(self, status: int, payload: Any, content_type: str = "application/json", headers: Mapping[str, str] | None = None) -> None:
        """Answer ``status`` with ``payload``: bytes and text as they are, anything else as JSON."""
        body = payload if isinstance(payload, bytes) else payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    #: a larger request body is not read (see :meth:`_read_body`)
    max_body = 16 * 1024 * 1024

    def _read_body(self) -> bytes | None:
        """The request's body; ``None`` past :attr:`max_body` (unread, so the connection closes)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.max_body:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        self._send(501, {"error": f"{method} is not served here"})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")


class QuietServer(ThreadingHTTPServer):
    """A threading server whose handler threads do not keep it alive and whose errors are quiet."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: dropped clients, refused TLS handshakes and cut answers are what tests cause."""

    def serve(self) -> None:
        """Serve until the process is stopped; then close the socket."""
        try:
            self.serve_forever(poll_interval=0.2)
        finally:
            self.server_close()
