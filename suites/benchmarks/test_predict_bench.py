"""Micro-benchmarks (pytest-benchmark): in-process predict, and one HTTP round trip.

Compare runs over time (figures are only comparable on the same machine):

    pytest suites/benchmarks --benchmark-autosave                       # store a run
    pytest suites/benchmarks --benchmark-compare                        # vs the last stored run
    pytest suites/benchmarks --benchmark-compare --benchmark-compare-fail=mean:10%   # gate

Skipped when pytest-benchmark is not installed (``pip install mlharness[dev]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.contract.golden import SEED_INSTANCES, SEED_PREDICTIONS
from harness.inference.client import InferenceClient
from harness.results import Endpoint

pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed: pip install mlharness[dev]")
pytestmark = pytest.mark.endpoint
ROWS = [list(r) for r in SEED_INSTANCES]


def test_predict_in_process(benchmark: Any, harness_model_artifact: Path | None) -> None:
    """The model alone: what a request cannot be faster than."""
    if harness_model_artifact is None:
        pytest.skip("the target has no local copy of the model (set --harness-model-artifact)")
    import joblib

    path = harness_model_artifact / "model.joblib" if harness_model_artifact.is_dir() else harness_model_artifact
    model = joblib.load(path)
    result = benchmark(model.predict, ROWS)
    assert list(result) == list(SEED_PREDICTIONS)


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_http_round_trip(benchmark: Any, harness_endpoint: Endpoint, protocol: str) -> None:
    """One request to the served model, end to end over HTTP (keep-alive connection)."""
    if protocol not in harness_endpoint.protocols:
        pytest.skip(f"the endpoint does not speak {protocol.upper()}")
    with InferenceClient(harness_endpoint, timeout=10) as client:
        call = client.predict if protocol == "v1" else client.infer
        prediction = benchmark(call, ROWS)
    assert list(prediction.outputs) == list(SEED_PREDICTIONS)


def test_grpc_round_trip(benchmark: Any, harness_endpoint: Endpoint) -> None:
    """One V2 ``ModelInfer`` call to the served model over gRPC (one channel, kept open)."""
    if "grpc" not in harness_endpoint.protocols:
        pytest.skip("the endpoint does not speak V2 gRPC (give --harness-grpc-url, or the local server's server_grpc)")
    with InferenceClient(harness_endpoint, timeout=10) as client:
        prediction = benchmark(client.grpc.infer, ROWS)
    assert list(prediction.outputs) == list(SEED_PREDICTIONS)
