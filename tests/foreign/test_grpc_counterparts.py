"""The gRPC side against a third-party server: MLServer 1.7.1's ``GRPCInferenceService``.

MLServer serves the Open Inference Protocol over gRPC on ``grpc_port``, bound to its ``host``
setting (SeldonIO/MLServer 1.7.1, ``mlserver/settings.py``: ``host``, ``grpc_port``;
``mlserver/grpc/server.py``: ``add_insecure_port(f"{self._settings.host}:{self._settings.grpc_port}")``);
tests/foreign/servers.py sets both, on 127.0.0.1. The harness's client speaks to it with the
protobufs the ``kserve`` package ships (the same ``inference.GRPCInferenceService`` of the
Open Inference Protocol), and its checks and load pass; a faulty model and a gRPC side that
disagrees with REST fail their checks.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.checks import predict as verify
from harness.checks.quality import check_quality
from harness.config import HarnessConfig
from harness.contract import IRIS, Thresholds
from harness.inference.client import InferenceClient
from harness.inference.discovery import wait_ready
from harness.inference.grpc_client import GrpcClient
from harness.load import run_load
from harness.results import CheckStatus, Endpoint
from tests.helpers.grpc_stub import GrpcStub

from .servers import HOST, SEED_ROWS, ForeignServer, listening_addresses

IRIS_90 = dataclasses.replace(IRIS, thresholds=Thresholds(min_accuracy=0.9))

LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}


def grpc_endpoint(server: ForeignServer) -> Endpoint:
    """The server's endpoint with its gRPC address, its protocols discovered as a run discovers them."""
    endpoint = dataclasses.replace(server.endpoint, grpc_url=f"{HOST}:{server.ports['grpc']}")
    with InferenceClient(endpoint, 10) as client:
        found = wait_ready(client, timeout=30)
    return dataclasses.replace(endpoint, protocols=found.ready, readiness=found.summary())


def test_mlserver_grpc_listens_on_loopback_and_answers_the_seed(mlserver: ForeignServer) -> None:
    found = listening_addresses(mlserver.ports["grpc"])
    assert found and found <= LOOPBACK, found
    with GrpcClient(f"{HOST}:{mlserver.ports['grpc']}", mlserver.model_name, timeout=10) as client:
        ready, seen = client.readiness()
        assert ready, seen
        assert client.infer(SEED_ROWS).outputs == (1, 1)


def test_mlserver_passes_every_predict_check_over_v2_rest_and_grpc(mlserver: ForeignServer) -> None:
    endpoint = grpc_endpoint(mlserver)
    assert endpoint.protocols == ("v2", "grpc"), endpoint.readiness
    with InferenceClient(endpoint, 10) as client:
        results = [
            verify.check_golden(client, [verify.SEED_CASE]),
            check_quality(client, IRIS_90),
            verify.check_parity(client, mlserver.model_artifact),
            verify.check_protocols(client),
        ]
    for result in results:
        assert result.status is CheckStatus.PASSED, (result.name, result.message)
    assert results[3].message == "V2 and V2 gRPC agree on all 150 iris rows"


def test_a_faulty_model_fails_golden_and_parity_over_grpc(mlserver_faulty: ForeignServer, iris_model_dir: Path) -> None:
    endpoint = dataclasses.replace(grpc_endpoint(mlserver_faulty), protocols=("grpc",))
    with InferenceClient(endpoint, 10) as client:
        golden = verify.check_golden(client, [verify.SEED_CASE])
        parity = verify.check_parity(client, iris_model_dir / "model.joblib")  # the model it should serve
    assert golden.status is CheckStatus.FAILED and "over V2 gRPC" in golden.message
    assert parity.status is CheckStatus.FAILED and "(V2 gRPC)" in parity.message


def test_a_grpc_side_that_disagrees_with_mlserver_rest_fails_predict_protocols(mlserver: ForeignServer) -> None:
    with GrpcStub("wrong") as stub:
        endpoint = dataclasses.replace(mlserver.endpoint, protocols=("v2", "grpc"), grpc_url=stub.address)
        with InferenceClient(endpoint, 10) as client:
            result = verify.check_protocols(client)
    assert result.status is CheckStatus.FAILED and result.message.startswith("V2 gRPC disagrees with V2")


def test_load_over_grpc_against_mlserver(mlserver: ForeignServer, tmp_path: Path) -> None:
    endpoint = grpc_endpoint(mlserver)
    cfg = HarnessConfig().replace(users=2, spawn_rate=100, duration=3.0, warmup=0.5, load_processes=1, load_protocol="grpc")
    result = run_load(endpoint, cfg, tmp_path)
    assert result.failures == 0, result.failures_by_kind
    assert result.requests > 20 and set(result.by_protocol) == {"grpc"}
