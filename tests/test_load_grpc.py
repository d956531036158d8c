"""Load over V2 gRPC (``load_protocol = grpc``): exact figures, merged over workers, faults counted.

Against :mod:`tests.helpers.grpc_stub` with a known service time (the figures must match it, as the REST
load runner's tests do against tests/helpers/load_server.py), against one that answers UNAVAILABLE
(every request a failure naming the status, secrets masked), and against the local runtime's
own gRPC server. MLServer's gRPC: tests/foreign/test_grpc_counterparts.py.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
from pathlib import Path

import pytest

from harness.config import HarnessConfig
from harness.inference.grpc_client import GrpcClient
from harness.load import run_load
from harness.results import Endpoint
from harness.serving.local import LocalModelServer
from tests.helpers.grpc_stub import DELAY_MS
from tests.helpers.servers import ChildServers

SECRET = "session=grpc-load-secret-5e6f7a8b"


def _cfg(**changes: object) -> HarnessConfig:
    base: dict[str, object] = {"users": 4, "spawn_rate": 100, "duration": 3.0, "warmup": 0.5, "load_processes": 2, "load_protocol": "grpc"}
    base.update(changes)
    return HarnessConfig().replace(**base)


@pytest.fixture
def stub_endpoint(request: pytest.FixtureRequest, tmp_path: Path, child_servers: ChildServers) -> tuple[Endpoint, Path]:
    """The stub in its own process (as tests/helpers/load_server.py is for REST): the figures are its alone.

    Yields the endpoint (the REST URL is locust's ``--host`` only; nothing is sent there) and the
    file where the stub writes the metadata of the first call it gets.
    """
    record = tmp_path / "metadata.json"
    server = child_servers.start("tests.helpers.grpc_stub", "--behaviour", request.param, "--record", str(record))
    return Endpoint("http://127.0.0.1:9", "stub", {"Cookie": SECRET}, protocols=("grpc",), grpc_url=f"127.0.0.1:{server.port}"), record


def _sequential_ms(endpoint: Endpoint, count: int) -> list[float]:
    """Latencies of ``count`` calls one after another with the harness's (blocking) gRPC client."""
    assert endpoint.grpc_url
    with GrpcClient(endpoint.grpc_url, "stub", timeout=5) as client:
        client.infer([[6.8, 2.8, 4.8, 1.4]])
        return [client.infer([[6.8, 2.8, 4.8, 1.4]]).latency_ms for _ in range(count)]


@pytest.mark.parametrize("stub_endpoint", ["delay"], indirect=True)
def test_grpc_load_figures_match_a_known_service_time(stub_endpoint: tuple[Endpoint, Path], tmp_path: Path) -> None:
    endpoint, record = stub_endpoint
    had_grpc = "grpc" in sys.modules
    result = run_load(endpoint, _cfg(), tmp_path)
    assert result.failures == 0, result.failures_by_kind
    assert set(result.by_protocol) == {"grpc"} and result.protocol == "grpc"
    assert result.workers == 2 and result.complete
    assert result.generator == "locust users calling grpcio on gevent"
    lat = result.latency_ms
    assert lat.p50 is not None and lat.p95 is not None
    # The stub's service time is DELAY_MS plus what gRPC itself costs a call on this machine (2-3 ms
    # measured here, also with a plain blocking client: unlike the REST stub's, not negligible), so
    # the known time is measured first, sequentially, with a plain grpcio client (no locust, no
    # gevent); then the REST runner's bounds (tests/test_load_runner.py) apply to it.
    known = statistics.median(_sequential_ms(endpoint, 20))
    assert DELAY_MS <= known
    assert DELAY_MS <= lat.p50 <= known * 1.08, f"p50 {lat.p50} ms for a server that answers in {known:.2f} ms"
    assert lat.p95 <= known * 1.6, f"p95 {lat.p95} ms for a server that answers in {known:.2f} ms"
    assert 4 * 1000 / DELAY_MS * 0.75 <= result.rps <= 4 * 1000 / DELAY_MS * 1.05
    assert sum(p.requests for p in result.timeline) == result.requests
    assert json.loads(record.read_text())["cookie"] == SECRET  # headers go as metadata
    if not had_grpc:
        assert "grpc.experimental.gevent" not in sys.modules  # only locust's processes patch grpc


@pytest.mark.parametrize("stub_endpoint", ["unavailable"], indirect=True)
def test_a_grpc_server_answering_unavailable_fails_every_request_and_says_why(
    stub_endpoint: tuple[Endpoint, Path], tmp_path: Path
) -> None:
    endpoint, _ = stub_endpoint
    result = run_load(endpoint, _cfg(duration=2.0, load_processes=1), tmp_path)
    assert result.requests > 0 and result.failures == result.requests
    kinds = {(f.name, f.status) for f in result.failures_by_kind}
    assert kinds == {("grpc", 0)}
    assert all("gRPC UNAVAILABLE" in f.message for f in result.failures_by_kind)
    written = "".join(p.read_text(errors="replace") for p in (tmp_path / "load").rglob("*") if p.is_file())
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
