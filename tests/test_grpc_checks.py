"""Discovery and the predict.* checks over V2 gRPC: the local server passes, injected gRPC faults fail.

Faults come from :mod:`tests.helpers.grpc_stub` (a ``GRPCInferenceService`` in the shape KServe's
generated code registers) put beside a real REST server: a gRPC side that answers other labels
fails ``predict.golden``, ``predict.quality``, ``predict.parity`` and ``predict.protocols``; one that
answers UNAVAILABLE never counts as ready, and the wait names the status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.checks import predict as verify
from harness.checks.quality import check_quality
from harness.config import HarnessConfig
from harness.contract import IRIS, Thresholds
from harness.errors import ConfigError, WaitTimeout
from harness.inference.client import InferenceClient
from harness.inference.discovery import wait_ready
from harness.load.plan import load_protocol
from harness.results import CheckStatus, Endpoint
from harness.serving.local import LocalModelServer
from tests.helpers.grpc_stub import GrpcStub

IRIS_90 = dataclasses.replace(IRIS, thresholds=Thresholds(min_accuracy=0.9))


@pytest.fixture(scope="module")
def grpc_endpoint(grpc_served: tuple[LocalModelServer, Endpoint]) -> Endpoint:
    """The session's local runtime with gRPC on, its protocols discovered as the local target does."""
    endpoint = grpc_served[1]
    with InferenceClient(endpoint, 10) as client:
        found = wait_ready(client, timeout=30)
    return dataclasses.replace(endpoint, protocols=found.ready, readiness=found.summary())


def test_discovery_finds_grpc_beside_rest(grpc_endpoint: Endpoint) -> None:
    assert grpc_endpoint.protocols == ("v1", "v2", "grpc")
    assert "V2 gRPC" in grpc_endpoint.readiness


def test_checks_pass_over_every_protocol(grpc_endpoint: Endpoint, model_dir: Path) -> None:
    with InferenceClient(grpc_endpoint, 10) as client:
        results = [
            verify.check_golden(client, [verify.SEED_CASE]),
            check_quality(client, IRIS_90),
            verify.check_parity(client, model_dir / "model.joblib"),
            verify.check_protocols(client),
        ]
    for result in results:
        assert result.status is CheckStatus.PASSED, (result.name, result.message)
    assert results[1].details["by_protocol"].keys() == {"v1", "v2", "grpc"}
    assert results[3].message == "V1, V2 and V2 gRPC agree on all 150 iris rows"


def test_forced_grpc_protocol_uses_only_grpc(grpc_endpoint: Endpoint) -> None:
    with InferenceClient(grpc_endpoint, 10) as client:
        found = wait_ready(client, "grpc", timeout=10)
    assert found.ready == ("grpc",)


def test_robustness_on_a_grpc_only_endpoint_is_skipped_with_nothing_sent(grpc_endpoint: Endpoint, model_dir: Path, tmp_path: Path) -> None:
    """``--protocol grpc``: the robustness checks send HTTP; with nothing sent or compared they
    are skipped, saying so, never passed."""
    from harness.robustness import bad_inputs_check, parity_check

    cfg = HarnessConfig().replace(robustness_profile="ci")
    only_grpc = dataclasses.replace(grpc_endpoint, protocols=("grpc",))
    with InferenceClient(only_grpc, 10) as client:
        parity = parity_check(client, cfg.robustness, model_dir, tmp_path)
        battery = bad_inputs_check(client, cfg.robustness, (3.0, 3.0), 5.0, model_dir, tmp_path)
    assert parity.status is CheckStatus.SKIPPED, parity.message
    assert "tested over V2 gRPC only: 0 batches compared" in parity.message and parity.details["compared"] == []
    assert battery.status is CheckStatus.SKIPPED, battery.message
    assert "tested over V2 gRPC only: 0 requests sent" in battery.message and battery.details["total_requests"] == 0


@pytest.fixture
def wrong_grpc(served: Endpoint) -> Iterator[Endpoint]:
    """The session's REST server (right answers) with a gRPC side that answers label 2 to every row."""
    with GrpcStub("wrong") as stub:
        yield dataclasses.replace(served, protocols=("v1", "v2", "grpc"), grpc_url=stub.address)


def test_a_grpc_side_that_answers_wrong_fails_every_predict_check(wrong_grpc: Endpoint, model_dir: Path) -> None:
    with InferenceClient(wrong_grpc, 10) as client:
        golden = verify.check_golden(client, [verify.SEED_CASE])
        accuracy = check_quality(client, IRIS_90)
        parity = verify.check_parity(client, model_dir / "model.joblib")
        protocols = verify.check_protocols(client)
    assert golden.status is CheckStatus.FAILED and "over V2 gRPC" in golden.message and "expected 1, got 2" in golden.message
    assert accuracy.status is CheckStatus.FAILED and accuracy.details["protocol"] == "grpc"
    assert parity.status is CheckStatus.FAILED and "(V2 gRPC)" in parity.message
    assert protocols.status is CheckStatus.FAILED and protocols.message.startswith("V2 gRPC disagrees with V1")
    assert set(protocols.details["mismatched_batches"]) == {"grpc"}


def test_a_grpc_side_that_answers_unavailable_is_never_ready(served: Endpoint) -> None:
    with GrpcStub("unavailable") as stub:
        endpoint = dataclasses.replace(served, grpc_url=stub.address)
        with InferenceClient(endpoint, 2) as client, pytest.raises(WaitTimeout) as info:
            wait_ready(client, timeout=1.5, interval=0.2)
    message = str(info.value)
    assert "V2 gRPC at" in message and "UNAVAILABLE" in message


def test_load_over_grpc_only_when_spoken() -> None:
    assert load_protocol("grpc", ("v1", "v2", "grpc")) == "grpc"
    assert load_protocol("auto", ("v1", "v2", "grpc")) == "mixed"  # gRPC load only when asked for
    assert load_protocol("auto", ("grpc",)) == "grpc"
    with pytest.raises(ConfigError, match="--grpc-url") as info:
        load_protocol("grpc", ("v1", "v2"))
    assert info.value.key == "load_protocol"


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"target": "endpoint", "url": "http://127.0.0.1:1", "protocol": "grpc"}, "protocol"),
        ({"target": "endpoint", "url": "http://127.0.0.1:1", "load_protocol": "grpc"}, "load_protocol"),
        ({"server_grpc": False, "load_protocol": "grpc"}, "load_protocol"),
        ({"target": "endpoint", "url": "http://127.0.0.1:1", "grpc_url": "http://x:1"}, "grpc_url"),
        ({"target": "endpoint", "url": "http://127.0.0.1:1", "grpc_url": "grpcs://x:443", "insecure": True}, "insecure"),
    ],
)
def test_grpc_settings_are_checked_with_the_key_named(settings: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        HarnessConfig().replace(**settings)
    assert info.value.key == key
