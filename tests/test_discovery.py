"""Protocol discovery: readiness over whatever the server speaks, and fast, clear failures."""

from __future__ import annotations

import dataclasses
import time

import pytest

from harness.checks import predict as verify
from harness.checks.quality import check_quality
from harness.contract import IRIS, Thresholds
from harness.errors import WaitTimeout
from harness.inference.client import InferenceClient
from harness.inference.discovery import wait_ready
from harness.results import CheckStatus, Endpoint

from .helpers.stub_server import StubServer, reply

IRIS_90 = dataclasses.replace(IRIS, thresholds=Thresholds(min_accuracy=0.9))

MODEL = "sklearn-iris"
V1_READY = {("GET", f"/v1/models/{MODEL}"): reply(200, {"name": MODEL, "ready": True})}
V2_READY = {
    ("GET", "/v2/health/ready"): reply(200, ""),
    ("GET", f"/v2/models/{MODEL}/ready"): reply(200, ""),
}


def wait(url: str, protocol: str = "auto", timeout: float = 5.0):  # type: ignore[no-untyped-def]
    with InferenceClient(Endpoint(url, MODEL), timeout=2) as client:
        return wait_ready(client, protocol, timeout=timeout, interval=0.1)


@pytest.mark.parametrize(
    ("routes", "spoken"),
    [({**V1_READY, **V2_READY}, ("v1", "v2")), (V1_READY, ("v1",)), (V2_READY, ("v2",))],
    ids=["both", "v1-only", "v2-only (MLServer)"],
)
def test_auto_finds_what_the_server_speaks(routes: dict, spoken: tuple[str, ...]) -> None:
    with StubServer(routes) as url:
        found = wait(url)
    assert found.ready == spoken
    if spoken == ("v2",):
        assert "ready over V2" in found.summary() and "V1 not ready or not spoken" in found.summary()
        assert "HTTP 404" in found.seen["v1"]


def test_a_v2_only_server_with_v1_forced_fails_at_once_naming_the_fix() -> None:
    with StubServer(V2_READY) as url:
        started = time.monotonic()
        with pytest.raises(WaitTimeout, match=r"ready over V2 but not over V1 .*HTTP 404.*use protocol v2 or auto") as info:
            wait(url, "v1", timeout=30)
    assert info.value.aborted
    assert time.monotonic() - started < 10, "must not wait out the 30 s timeout"


def test_a_forced_protocol_that_answers_is_the_only_one_used() -> None:
    with StubServer({**V1_READY, **V2_READY}) as url:
        assert wait(url, "v2").ready == ("v2",)


def test_nothing_ready_times_out_listing_every_probe() -> None:
    routes = {("GET", f"/v1/models/{MODEL}"): reply(503, "loading"), ("GET", "/v2/health/ready"): reply(503, "")}
    with StubServer(routes) as url, pytest.raises(WaitTimeout) as info:
        wait(url, timeout=1.0)
    message = str(info.value)
    assert "timed out after 1s" in message
    assert "V1: GET /v1/models/sklearn-iris -> HTTP 503: loading" in message
    assert "V2: GET /v2/health/ready -> HTTP 503" in message and f"GET /v2/models/{MODEL}/ready -> HTTP 404" in message


def test_ready_false_is_not_ready() -> None:
    with StubServer({("GET", f"/v1/models/{MODEL}"): reply(200, {"name": MODEL, "ready": False})}) as url:
        with pytest.raises(WaitTimeout, match="ready"):
            wait(url, timeout=0.5)


def test_checks_on_a_v2_only_endpoint_run_over_v2(served: Endpoint) -> None:
    """Golden, accuracy and parity over V2 alone; protocols skipped with the reason."""
    v2_only = dataclasses.replace(served, protocols=("v2",))
    with InferenceClient(v2_only) as client:
        golden = verify.check_golden(client, [verify.SEED_CASE])
        accuracy = check_quality(client, IRIS_90)
        protocols = verify.check_protocols(client)
    assert golden.status is CheckStatus.PASSED and "over V2" in golden.message
    assert accuracy.status is CheckStatus.PASSED and accuracy.details["protocol"] == "v2"
    assert protocols.status is CheckStatus.SKIPPED and "speaks only V2" in protocols.message
