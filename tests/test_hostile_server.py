"""The hostile endpoint fixtures do what their docstring promises (stdlib clients, 127.0.0.1)."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

import pytest

from .helpers.hostile_server import MARKUP, HostileServer


def _conn(server: HostileServer, timeout: float = 5.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)


def test_stall_sends_headers_then_a_byte_at_a_time(tmp_path: Path) -> None:
    with HostileServer("stall", tmp_path, interval=0.3) as server:
        conn = _conn(server, timeout=2.0)
        conn.request("GET", "/v1/models/sklearn-iris")
        response = conn.getresponse()
        assert response.status == 200 and int(response.headers["Content-Length"]) == 1024 * 1024
        started = time.monotonic()
        got = b""
        while len(got) < 3:
            got += response.read(1)  # every read succeeds well within its 2 s timeout
        assert got == b"   " and time.monotonic() - started >= 0.5
        conn.close()


def test_stream_never_ends(tmp_path: Path) -> None:
    with HostileServer("stream", tmp_path) as server:
        conn = _conn(server)
        conn.request("POST", "/v1/models/sklearn-iris:predict", body=b"{}")
        response = conn.getresponse()
        assert response.status == 200 and response.headers["Transfer-Encoding"] == "chunked"
        total = 0
        while total < 8 * 1024 * 1024:
            total += len(response.read(256 * 1024))
        conn.close()


def test_markup_answers_ready_and_errors_with_markup(tmp_path: Path) -> None:
    with HostileServer("markup", tmp_path) as server:
        conn = _conn(server)
        conn.request("GET", "/v1/models/sklearn-iris")
        ready = conn.getresponse()
        assert (ready.status, json.loads(ready.read())) == (200, {"name": "sklearn-iris", "ready": True})
        conn.request("POST", "/v1/models/sklearn-iris:predict", body=b"{}", headers={"Content-Type": "application/json"})
        error = conn.getresponse()
        body = json.loads(error.read())
        assert error.status == 500 and MARKUP in body["error"]
        assert "[/v1/models/x:predict]" in MARKUP and "[link=" in MARKUP and "[kfp-v2-namespace]" in MARKUP


def test_redirect_to_dex_and_to_another_host(tmp_path: Path) -> None:
    with HostileServer("redirect", tmp_path) as dex:
        conn = _conn(dex)
        conn.request("GET", "/v1/models/sklearn-iris")
        response = conn.getresponse()
        response.read()
        assert response.status == 302 and response.headers["Location"].startswith("/dex/auth?")
        conn.request("GET", response.headers["Location"])
        login = conn.getresponse()
        assert login.status == 200 and b"Log in" in login.read() and login.headers["Content-Type"].startswith("text/html")
    with HostileServer("redirect", tmp_path, redirect_status=307, location="http://localhost:{port}/elsewhere{path}") as other:
        conn = _conn(other)
        conn.request("POST", "/v1/models/sklearn-iris:predict", body=b"{}")
        response = conn.getresponse()
        assert response.status == 307
        assert response.headers["Location"] == f"http://localhost:{other.port}/elsewhere/v1/models/sklearn-iris:predict"


def test_echo_returns_headers_and_cookies_and_logs_requests(tmp_path: Path) -> None:
    with HostileServer("echo", tmp_path) as server:
        conn = _conn(server)
        conn.request("POST", "/v1/models/sklearn-iris:predict", body=b"{}", headers={"Cookie": "oauth2_proxy_kubeflow=s3cr3t", "Authorization": "Bearer t0k"})
        response = conn.getresponse()
        body = json.loads(response.read())
        assert response.status == 500
        assert body["cookies"] == {"oauth2_proxy_kubeflow": "s3cr3t"} and body["request_headers"]["Authorization"] == "Bearer t0k"
        logged = [r for r in server.requests() if r["path"].endswith(":predict")]
        assert logged and logged[0]["headers"]["Cookie"] == "oauth2_proxy_kubeflow=s3cr3t"


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        HostileServer("tarpit", tmp_path)
