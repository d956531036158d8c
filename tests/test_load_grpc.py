"""Load over V2 gRPC (``load_protocol = grpc``): exact figures, merged over workers, faults counted.

Against :mod:`tests.grpc_stub` with a known service time (the figures must match it, as the REST
load runner's tests do against tests/load_server.py), against one that answers UNAVAILABLE
(every request a failure naming the status, secrets masked), and against the local runtime's
own gRPC server. MLServer's gRPC: tests/foreign/test_grpc_counterparts.py.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import HarnessConfig
from harness.load import run_load
from harness.models import Endpoint
from harness.serving.local import LocalModelServer
from tests.grpc_stub import DELAY_MS, GrpcStub

pytestmark = pytest.mark.load
SECRET = "session=grpc-load-secret-5e6f7a8b"


def _cfg(**changes: object) -> HarnessConfig:
    base: dict[str, object] = {"users": 4, "spawn_rate": 100, "duration": 3.0, "warmup": 0.5, "load_processes": 2, "load_protocol": "grpc"}
    base.update(changes)
    return HarnessConfig().replace(**base)


@pytest.fixture
def stub_endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[Endpoint, GrpcStub]]:
    with GrpcStub(request.param) as stub:
        # the REST URL is locust's --host only; nothing listens there and nothing is sent there
        yield Endpoint("http://127.0.0.1:9", "stub", {"Cookie": SECRET}, protocols=("grpc",), grpc_url=stub.address), stub


@pytest.mark.parametrize("stub_endpoint", ["delay"], indirect=True)
def test_grpc_load_figures_match_a_known_service_time(stub_endpoint: tuple[Endpoint, GrpcStub], tmp_path: Path, no_leaked_children: None) -> None:
    endpoint, stub = stub_endpoint
    had_grpc_gevent = "grpc.experimental.gevent" in sys.modules
    result = run_load(endpoint, _cfg(), tmp_path)
    assert result.failures == 0, result.failures_by_kind
    assert set(result.by_protocol) == {"grpc"} and result.protocol == "grpc"
    assert result.workers == 2 and result.complete
    lat = result.latency_ms
    assert lat.p50 is not None and lat.p95 is not None
    # the same bounds as the REST runner's test (tests/test_load_runner.py) for the same delay
    assert DELAY_MS <= lat.p50 <= DELAY_MS * 1.08, f"p50 {lat.p50} ms for a {DELAY_MS} ms server"
    assert lat.p95 <= DELAY_MS * 1.6, f"p95 {lat.p95} ms for a {DELAY_MS} ms server"
    assert 4 * 1000 / DELAY_MS * 0.75 <= result.rps <= 4 * 1000 / DELAY_MS * 1.05
    assert sum(p.requests for p in result.timeline) == result.requests
    assert stub.calls >= result.requests  # warm-up and late answers are sent but not counted
    assert stub.metadata[0]["cookie"] == SECRET  # headers go as metadata
    assert not had_grpc_gevent and "grpc.experimental.gevent" not in sys.modules  # only locust's processes patch grpc


@pytest.mark.parametrize("stub_endpoint", ["unavailable"], indirect=True)
def test_a_grpc_server_answering_unavailable_fails_every_request_and_says_why(
    stub_endpoint: tuple[Endpoint, GrpcStub], tmp_path: Path
) -> None:
    endpoint, _ = stub_endpoint
    result = run_load(endpoint, _cfg(duration=2.0, load_processes=1), tmp_path)
    assert result.requests > 0 and result.failures == result.requests
    kinds = {(f.name, f.status) for f in result.failures_by_kind}
    assert kinds == {("grpc", 0)}
    assert all("gRPC UNAVAILABLE" in f.message for f in result.failures_by_kind)
    written = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    written += json.dumps(result.as_dict())
    assert "grpc-load-secret-5e6f7a8b" not in written  # the server echoed the cookie: masked everywhere


def test_grpc_load_against_the_local_runtime(model_dir: Path, tmp_path: Path) -> None:
    server = LocalModelServer(model_dir, "sklearn-iris", tmp_path / "server.log", grpc=True)
    try:
        endpoint = dataclasses.replace(server.start(ready_timeout=90), protocols=("v1", "v2", "grpc"))
        result = run_load(endpoint, _cfg(duration=3.0, load_processes=1, users=2), tmp_path / "run")
    finally:
        server.stop()
    assert result.failures == 0, result.failures_by_kind
    assert result.requests > 50 and set(result.by_protocol) == {"grpc"}
