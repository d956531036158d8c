"""The counterparts work, with plain httpx: what each answers is what docs/conformance.md says."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.results import Endpoint

from .catalogue import PROBES, Probe, table
from .servers import REPO, SEED_ROWS, ForeignServer, flat, listening_addresses

LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}  # 127.0.0.1, and as IPv4-mapped IPv6
V2_SEED = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": SEED_ROWS}]}


def v2_infer(base_url: str, model: str) -> httpx.Response:
    return httpx.post(f"{base_url}/v2/models/{model}/infer", json=V2_SEED, timeout=30)


def v1_predict(base_url: str, model: str) -> httpx.Response:
    return httpx.post(f"{base_url}/v1/models/{model}:predict", json={"instances": SEED_ROWS}, timeout=30)


def test_mlserver_answers_the_seed_rows_over_v2(mlserver: ForeignServer) -> None:
    answer = v2_infer(mlserver.base_url, "sklearn-iris")
    assert answer.status_code == 200, answer.text
    outputs = answer.json()["outputs"]
    assert flat(outputs[0]["data"]) == [1, 1], outputs
    assert outputs[0]["name"] == "predict" and outputs[0]["shape"] == [2, 1], "MLServer's output convention changed"


def test_mlserver_does_not_speak_v1(mlserver: ForeignServer) -> None:
    assert v1_predict(mlserver.base_url, "sklearn-iris").status_code == 404
    assert httpx.get(f"{mlserver.base_url}/v1/models/sklearn-iris", timeout=10).status_code == 404


def test_stock_kserve_answers_v1_and_v2(kserve_stock: ForeignServer) -> None:
    v1 = v1_predict(kserve_stock.base_url, "sklearn-iris")
    assert v1.status_code == 200 and v1.json() == {"predictions": [1, 1]}, v1.text
    v2 = v2_infer(kserve_stock.base_url, "sklearn-iris")
    assert v2.status_code == 200, v2.text
    assert flat(v2.json()["outputs"][0]["data"]) == [1, 1]


@pytest.mark.parametrize("fixture", ["mlserver_faulty", "kserve_stock_faulty"])
def test_faulty_variants_answer_wrongly(fixture: str, request: pytest.FixtureRequest) -> None:
    server: ForeignServer = request.getfixturevalue(fixture)
    answer = v2_infer(server.base_url, "sklearn-iris")
    assert answer.status_code == 200, answer.text
    assert flat(answer.json()["outputs"][0]["data"]) == [2, 2], "the faulty model should answer the seed rows wrongly"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
@pytest.mark.parametrize("fixture", ["mlserver", "kserve_stock"])
def test_counterparts_listen_on_loopback_only(fixture: str, request: pytest.FixtureRequest) -> None:
    server: ForeignServer = request.getfixturevalue(fixture)
    for role, port in server.ports.items():
        found = listening_addresses(port)
        assert found and found <= LOOPBACK, f"{server.kind}'s {role} port {port} listens on {found}"


def _probe_cases() -> list[object]:
    return [
        pytest.param(who, probe, id=f"{who}:{probe.name}")
        for who in ("mlserver", "kserve", "local")
        for probe in PROBES
        if who in probe.expect
    ]


@pytest.mark.parametrize(("who", "probe"), _probe_cases())
def test_catalogue_statuses(who: str, probe: Probe, request: pytest.FixtureRequest) -> None:
    """Each request of the catalogue gets the status the docs record, from each counterpart."""
    if who == "local":
        endpoint: Endpoint = request.getfixturevalue("served")
        base_url = endpoint.base_url
    else:
        base_url = request.getfixturevalue({"mlserver": "mlserver", "kserve": "kserve_stock"}[who]).base_url
    # a new connection per request: MLServer may drop a kept-alive connection after a 500
    answer = httpx.request(probe.method, base_url + probe.path("sklearn-iris"), headers=dict(probe.headers), content=probe.body, timeout=60)
    assert answer.status_code == probe.expect[who], f"{who} answered {answer.status_code}: {answer.text[:300]}"
    if answer.status_code >= 400:
        assert answer.content, "an error without a body"


def test_the_docs_show_the_catalogue() -> None:
    docs = (REPO / "docs" / "conformance.md").read_text()
    assert table() in docs, "docs/conformance.md differs from tests/foreign/catalogue.py: paste `python -m tests.foreign.catalogue`"
