"""A tiny stand-in model server for the load tests: known latency, known failures.

Speaks the V1 (``/v1/models/NAME:predict``) and V2 (``/v2/models/NAME/infer``) paths,
answers after a fixed delay, optionally fails every request with a given status, and
counts requests carrying an expected header (``GET /stats``), so tests can prove the
endpoint's headers were sent. Binds to 127.0.0.1 only.

Run: ``python tests/load_server.py --port 8080 --delay-ms 20 [--fail-status 500]``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {"requests": 0, "with_header": 0, "host_ok": 0}
LOCK = threading.Lock()


def make_handler(delay_s: float, fail_status: int, header: tuple[str, str] | None, host: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in separate writes: without TCP_NODELAY, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every answer
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read figures, not logs."""

        def _send(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/stats":
                with LOCK:
                    self._send(200, dict(COUNTS))
            else:
                self._send(200, {"name": "stub", "ready": True})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with LOCK:
                COUNTS["requests"] += 1
                if header and self.headers.get(header[0]) == header[1]:
                    COUNTS["with_header"] += 1
                if host and self.headers.get("Host") == host:
                    COUNTS["host_ok"] += 1
            time.sleep(delay_s)
            if fail_status:
                self._send(fail_status, {"error": "stub failure"})
            elif self.path.startswith("/v1/"):
                self._send(200, {"predictions": [1] * len(body.get("instances", []))})
            elif self.path.startswith("/v2/"):
                rows = body["inputs"][0]["shape"][0]
                self._send(200, {"outputs": [{"name": "output-0", "shape": [rows], "datatype": "INT64", "data": [1] * rows}]})
            else:
                self._send(404, {"error": "no such path"})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--fail-status", type=int, default=0)
    parser.add_argument("--expect-header", default=None, help="NAME:VALUE to count")
    parser.add_argument("--expect-host", default=None)
    args = parser.parse_args()
    header = tuple(args.expect_header.split(":", 1)) if args.expect_header else None
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.delay_ms / 1000, args.fail_status, header, args.expect_host))  # type: ignore[arg-type]
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
