"""Hostile HTTP endpoints on 127.0.0.1: what a broken proxy, a stuck server or an adversary sends.

Stdlib only (no model, no scikit-learn: it starts in ~50 ms). One mode per server:

============  =================================================================================
``stall``     answers 200 with its headers and a large ``Content-Length``, then one byte every
              ``--interval`` seconds: a per-read timeout never fires (a request's total time
              must be bounded by a deadline of its own)
``stream``    answers 200 with an endless chunked body, as fast as the client reads: a client
              that buffers whole bodies runs out of memory
``markup``    error bodies (and the model's metadata) carry console markup: ``[/v1/models/x:predict]``
              (a closing tag rich cannot match: MarkupError), ``[kfp-v2-namespace]`` (a tag rich
              would silently drop) and ``[link=http://evil.invalid/]…[/link]`` (a hyperlink)
``redirect``  answers ``--redirect-status`` (302 or 307) with ``Location: --location``; the default
              is Dex's login page, what an expired oauth2-proxy session gets, and ``/dex/auth``
              itself answers 200 with an HTML login form. ``--location`` may name another host
              (``http://localhost:{port}{path}`` or any URL; ``{port}`` and ``{path}`` are filled in)
``echo``      error bodies echo the method, the path with its query, every request header,
              every cookie and the body, as a careless debug handler does (JSON-escaped: a
              ``"`` or ``\\`` in a value comes back as ``\\"``, ``\\\\``); the harness must mask
              what it sent, in every form
``wrong``     a model that answers every V1 ``:predict`` and V2 ``/infer`` with class 2 (a wrong
              answer for the golden cases): checks fail, the run's report must say ``failed``
============  =================================================================================

``--basic USER:PASS`` refuses (401, echoed) every request without that Basic ``Authorization``
header; ``--require-query NAME=VALUE`` refuses every request whose query lacks it (a gateway
that authenticates by query key). Both hold for the readiness paths too.

``--readiness ok`` makes the readiness paths (``GET /v1/models/NAME``, ``/v2/health/ready``,
``/v2/models/NAME[/ready]``) answer like a healthy KServe model server, so the hostile
behaviour meets the checks after ``deploy.ready``; ``--readiness hostile`` gives them the
mode's behaviour too. The default is ``ok`` for ``markup`` and ``echo``, ``hostile`` for the
others. ``GET /__hostile/alive`` always answers 200 (how :class:`HostileServer` waits for it).
Every request is logged as one JSON line to ``--request-log`` (method, path, headers), so a
test can tell what the harness sent (did a cookie follow a redirect to another host?).
Nothing lasts forever: a stall or a stream ends after ``--max-seconds``.

The readiness answers follow KServe's model server
(kserve/kserve ``python/kserve/kserve/protocol/rest/v1_endpoints.py`` ``model_ready``:
``{"name": NAME, "ready": true}``; ``v2_endpoints.py``: ``{"ready": true}`` for health and
model readiness), and the V1 error body follows ``python/kserve/kserve/errors.py``
(``{"error": MESSAGE}``).

Run: ``python -m tests.helpers.hostile_server --mode stall --port 8080 [--interval 5]``.
Tests use :class:`HostileServer`, which starts it as a tracked child and waits for it.
"""

from __future__ import annotations

import argparse
import base64
import http.cookies
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.helpers.handlers import JsonHandler, QuietServer
from tests.helpers.servers import ChildServer

HOST = "127.0.0.1"
MODES = ("stall", "stream", "markup", "redirect", "echo", "wrong")
READY_BY_DEFAULT = ("markup", "echo", "wrong")
MARKUP = (
    "model not found at [/v1/models/x:predict] in namespace [kfp-v2-namespace]; "
    "see [link=http://evil.invalid/]the docs[/link] [bold red]now[/]"
)
DEX_LOGIN = "/dex/auth?client_id=kubeflow-oidc-authservice&redirect_uri=%2Foauth2%2Fcallback&response_type=code&scope=openid"
STREAM_CHUNK = b"[" + b"1," * 32767 + b"1]\n"  # 64 KiB of JSON-ish bytes
MAX_BODY = 16 * 1024 * 1024


class HostileHTTPServer(QuietServer):
    allow_reuse_address = True

    def __init__(self, port: int, args: argparse.Namespace) -> None:
        super().__init__((HOST, port), Handler)
        self.mode: str = args.mode
        self.model_name: str = args.model_name
        self.interval: float = args.interval
        self.max_seconds: float = args.max_seconds
        self.location: str = args.location
        self.redirect_status: int = args.redirect_status
        self.error_status: int = args.error_status
        self.readiness_ok: bool = (args.readiness or ("ok" if args.mode in READY_BY_DEFAULT else "hostile")) == "ok"
        self.request_log: Path | None = Path(args.request_log) if args.request_log else None
        self.basic: str | None = "Basic " + base64.b64encode(args.basic.encode()).decode() if args.basic else None
        self.require_query: str | None = args.require_query
        self.log_lock = threading.Lock()

    def log_request_line(self, record: dict[str, Any]) -> None:
        if self.request_log is None:
            return
        with self.log_lock, self.request_log.open("a") as out:
            out.write(json.dumps(record) + "\n")


class Handler(JsonHandler):
    """Requests go to ``--request-log`` as JSON."""

    server: HostileHTTPServer
    max_body = MAX_BODY

    # --- plumbing ----------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        body = self._read_body() or b""
        self.body = body
        self.server.log_request_line({"method": method, "path": self.path, "headers": dict(self.headers.items()), "body_bytes": len(body)})
        try:
            self._route(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up: what a bounded client does

    # --- routes ------------------------------------------------------------------------------
    def _readiness(self, path: str) -> dict[str, Any] | None:
        name = self.server.model_name
        answers: dict[str, dict[str, Any]] = {
            f"/v1/models/{name}": {"name": name, "ready": True},
            "/v2/health/ready": {"ready": True},
            "/v2/health/live": {"live": True},
            f"/v2/models/{name}/ready": {"name": name, "ready": True},
            f"/v2/models/{name}": {"name": name, "platform": "sklearn", "inputs": [], "outputs": []},
        }
        return answers.get(path)

    def _route(self, method: str) -> None:
        srv = self.server
        path = self.path.split("?", 1)[0]
        if path == "/__hostile/alive":
            self._send(200, {"mode": srv.mode})
            return
        query = self.path.partition("?")[2].split("&")
        if (srv.basic and self.headers.get("Authorization") != srv.basic) or (srv.require_query and srv.require_query not in query):
            self._echo(method, path, 401)
            return
        ready = self._readiness(path) if method == "GET" else None
        if ready is not None and srv.readiness_ok:
            if srv.mode == "markup" and path == f"/v2/models/{srv.model_name}":
                ready = {**ready, "platform": MARKUP}
            self._send(200, ready)
            return
        getattr(self, f"_{srv.mode}")(method, path)

    def _stall(self, method: str, path: str) -> None:
        """Headers, then one byte per ``interval``: each read succeeds, the answer never ends."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(1024 * 1024))
        self.end_headers()
        self.wfile.flush()
        end = time.monotonic() + self.server.max_seconds
        while time.monotonic() < end:
            time.sleep(self.server.interval)
            self.wfile.write(b" ")
            self.wfile.flush()
        self.close_connection = True

    def _stream(self, method: str, path: str) -> None:
        """200 and a chunked body that never ends (until ``max_seconds``)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        frame = f"{len(STREAM_CHUNK):x}\r\n".encode() + STREAM_CHUNK + b"\r\n"
        end = time.monotonic() + self.server.max_seconds
        while time.monotonic() < end:
            self.wfile.write(frame)
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _markup(self, method: str, path: str) -> None:
        self._send(self.server.error_status, {"error": f"{MARKUP} ({method} {path})"})

    def _redirect(self, method: str, path: str) -> None:
        if path == "/dex/auth":
            login = b"<!DOCTYPE html><html><head><title>Log in to Your Account</title></head><body><form method='post' action='/dex/auth/local/login'><input name='login'><input name='password' type='password'></form></body></html>"
            self._send(200, login, "text/html; charset=utf-8")
            return
        location = self.server.location.format(port=self.server.server_address[1], path=self.path)
        self._send(self.server.redirect_status, b"", "text/html", {"Location": location})

    def _echo(self, method: str, path: str, status: int | None = None) -> None:
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(self.headers.get("Cookie", ""))
        except http.cookies.CookieError:
            pass
        echoed = {
            "error": f"cannot serve {method} {self.path}",
            "request_headers": dict(self.headers.items()),
            "cookies": {k: m.value for k, m in cookies.items()},
            "body": getattr(self, "body", b"").decode("utf-8", errors="replace")[:2000],
        }
        self._send(status or self.server.error_status, echoed)

    def _wrong(self, method: str, path: str) -> None:
        try:
            request = json.loads(getattr(self, "body", b"") or b"{}")
        except ValueError:
            request = {}
        name = self.server.model_name
        if method == "POST" and path == f"/v1/models/{name}:predict" and isinstance(request.get("instances"), list):
            self._send(200, {"predictions": [2] * len(request["instances"])})
        elif method == "POST" and path == f"/v2/models/{name}/infer" and isinstance(request.get("inputs"), list):
            rows = request["inputs"][0].get("shape", [1])[0]
            self._send(200, {"model_name": name, "outputs": [{"name": "output-0", "shape": [rows], "datatype": "INT64", "data": [2] * rows}]})
        else:
            self._echo(method, path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", required=True, choices=MODES)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-name", default="sklearn-iris")
    parser.add_argument("--readiness", choices=("ok", "hostile"), default=None, help="Default: ok for markup and echo, hostile otherwise.")
    parser.add_argument("--interval", type=float, default=5.0, help="stall: seconds between bytes. Default: %(default)s")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stall, stream: give up after this long. Default: %(default)s")
    parser.add_argument("--location", default=DEX_LOGIN, help="redirect: Location ({port} and {path} filled in). Default: Dex's login page")
    parser.add_argument("--redirect-status", type=int, default=302, choices=(301, 302, 303, 307, 308))
    parser.add_argument("--error-status", type=int, default=500, help="markup, echo: status of the error answers. Default: %(default)s")
    parser.add_argument("--request-log", help="Append one JSON line per request here.")
    parser.add_argument("--basic", help="USER:PASS: refuse (401) every request without that Basic Authorization.")
    parser.add_argument("--require-query", help="NAME=VALUE: refuse (401) every request whose query lacks it.")
    return parser.parse_args(argv)


class HostileServer(ChildServer):
    """``tests/helpers/hostile_server.py`` as a tracked child on a free 127.0.0.1 port.

    Example:
        >>> with HostileServer("stall", tmp_path, interval=1) as srv:  # doctest: +SKIP
        ...     run_against(srv.url)
    """

    interval = 0.02

    def __init__(self, mode: str, work_dir: Path, *, model_name: str = "sklearn-iris", **options: Any) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        work_dir = Path(work_dir)
        super().__init__(work_dir / f"hostile-{mode}.log")
        self.log_path = work_dir / f"hostile-{mode}-{self.port}.log"
        self.mode = mode
        self.work_dir = work_dir
        self.model_name = model_name
        self.options = options
        self.request_log = self.work_dir / f"hostile-{mode}-{self.port}.requests.jsonl"
        self.what = f"the hostile server ({mode})"

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "tests.helpers.hostile_server", "--mode", self.mode, "--port", str(self.port),
                "--model-name", self.model_name, "--request-log", str(self.request_log)]
        for key, value in self.options.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        return argv

    def start(self, timeout: float = 15.0) -> HostileServer:
        """Start it and wait until it takes a TCP connection."""
        super().start(timeout)
        return self

    def requests(self) -> list[dict[str, Any]]:
        """Every request it got so far: method, path, headers."""
        if not self.request_log.is_file():
            return []
        return [json.loads(line) for line in self.request_log.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    HostileHTTPServer(args.port, args).serve()


if __name__ == "__main__":
    main()
