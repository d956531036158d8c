"""No robustness verdict without evidence: controls before judgement, valid twins, strict answers.

A rejection means something only when the valid request is answered: a server that answers
400 to every inference, or rejects a request for its input's name, gets ``error`` ("cannot
judge rejections"), not a pass; rejections while the valid twin fails too are not evidence.
Answers outside the contract (null, a class the model does not have) fail ``predict.quality``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.errors import EXIT_PASSED
from harness.inference.client import Answer, InferenceClient
from harness.results import CheckStatus, Endpoint
from harness.robustness import PROFILES
from harness.robustness.bad_inputs import run_bad_inputs
from harness.robustness.requests import Request
from harness.robustness.verdicts import Judge, Outcome
from tests.helpers.fault_server import FaultServer
from tests.test_faults import check, statuses, validate

MODEL = "sklearn-iris"
SEED = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]


# --- controls before judgement, against the fault server ---------------------------------------
def test_a_server_that_rejects_every_inference_gets_no_robustness_pass(fault_server: Callable[[str], FaultServer], model_dir: Path,
                                                                       tmp_path: Path) -> None:
    outcome = validate(fault_server("reject-all"), model_dir, tmp_path)
    result = statuses(outcome)
    assert result["deploy.ready"] == "passed", result  # ready, yet it serves nothing
    assert result["robustness.bad_inputs"] == "error" and result["robustness.parity"] == "error", result
    battery = check(outcome, "robustness.bad_inputs")
    assert battery["message"].startswith("cannot judge rejections: the valid request fails over V1 with V1 predict answered HTTP 400")
    assert "unexpected inference input" in battery["message"] and "0 malformed requests sent" in battery["message"]
    assert battery["details"]["total_requests"] == 0
    assert battery["details"]["controls"]["before"]["v2"]["ok"] is False
    assert "cannot judge parity" in check(outcome, "robustness.parity")["message"]
    assert outcome.exit_code != EXIT_PASSED


def test_a_rejection_for_the_input_s_name_is_not_a_correct_rejection(fault_server: Callable[[str], FaultServer], model_dir: Path,
                                                                      tmp_path: Path) -> None:
    """Like Triton: every V2 request named ``input-0`` gets 400 for its name, malformed or not,
    and the server answers NaN with 200 under the right name; the battery cannot tell, so it says so."""
    outcome = validate(fault_server("input-name"), model_dir, tmp_path)
    battery = check(outcome, "robustness.bad_inputs")
    assert battery["status"] == "error", battery["message"]
    assert "cannot judge rejections: the valid request fails over V2" in battery["message"]
    assert "unexpected inference input 'input-0'" in battery["message"]
    assert battery["details"]["protocols"] == ["v2"] and battery["details"]["total_requests"] == 0
    assert outcome.exit_code != EXIT_PASSED


def test_answers_outside_the_contract_fail_quality_with_the_rows_shown(fault_server: Callable[[str], FaultServer], model_dir: Path,
                                                                       tmp_path: Path) -> None:
    """About 6 % of rows answer null or class 7: accuracy alone would stay above 0.9."""
    outcome = validate(fault_server("off-contract"), model_dir, tmp_path, robustness=False)
    quality = check(outcome, "predict.quality")
    assert quality["status"] == "failed", quality["message"]
    assert "row 7: null is not a prediction" in quality["message"], quality["message"]
    assert "(the request held rows 0-63 of the data)" in quality["message"]
    assert statuses(outcome)["predict.golden"] == "passed"  # the seed's two rows are answered right
    assert outcome.exit_code != EXIT_PASSED


# --- valid twins, against a scripted server ---------------------------------------------------
def _scripted(turns_bad_on_first_reject: bool) -> Callable[[httpx.Request], httpx.Response]:
    """A V1 server that answers the seed request right and rejects anything else with 400;
    scripted to reject the seed request too from the first other request until a readiness
    probe (``turns_bad_on_first_reject``): the controls before and after pass, the twins do not."""
    state = {"healthy": True}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == f"/v1/models/{MODEL}":
            state["healthy"] = True
            return httpx.Response(200, json={"name": MODEL, "ready": True})
        try:
            body = json.loads(request.content)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than json reads
            body = None
        valid = request.url.path == f"/v1/models/{MODEL}:predict" and request.method == "POST" and body == {"instances": SEED}
        if valid and state["healthy"]:
            return httpx.Response(200, json={"predictions": [1, 1]})
        if not valid and turns_bad_on_first_reject:
            state["healthy"] = False
        return httpx.Response(400, json={"error": "bad request"})

    return handle


def _battery(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    endpoint = Endpoint("http://scripted.invalid", MODEL, protocols=("v1",))
    with InferenceClient(endpoint, 5) as client:
        client._http = httpx.Client(base_url=endpoint.base_url, transport=httpx.MockTransport(handler))
        return run_bad_inputs(client, PROFILES["ci"], (3.0, 3.0), 5.0, CheckStatus.FAILED, None)


def test_rejections_while_the_valid_twin_fails_too_are_not_evidence() -> None:
    result = _battery(_scripted(turns_bad_on_first_reject=True))
    assert result.status is CheckStatus.ERROR, result.message
    assert result.message.startswith("cannot judge ") and "rejection(s) that are not evidence" in result.message
    details = result.details
    assert details["controls"]["before"]["v1"]["ok"] and details["controls"]["after"]["v1"]["ok"]
    assert details["not_evidence_count"] > 50 and details["twins"]["failed"] == details["twins"]["sent"] > 0
    first = details["not_evidence"][0]
    assert first["status"] == 400 and "HTTP 400" in first["twin"]["problem"]
    assert details["malformed"]["passed_as"].get("rejected", 0) == 0


def test_rejections_count_when_the_valid_twin_is_answered_and_the_final_control_is_shown() -> None:
    result = _battery(_scripted(turns_bad_on_first_reject=False))
    assert result.status is CheckStatus.PASSED, result.message
    assert result.message.endswith("the control still answers (V1 [1, 1])")
    details = result.details
    assert details["not_evidence_count"] == 0 and details["twins"]["failed"] == 0 and details["twins"]["sent"] >= 10
    assert details["malformed"]["passed_as"]["rejected"] == details["malformed"]["total"] > 50


# --- wrong-typed answers to valid requests ----------------------------------------------------
def _answer(body: Any) -> Answer:
    return Answer(200, {"content-type": "application/json"}, json.dumps(body).encode(), False)


@pytest.mark.parametrize(
    ("protocol", "body", "shown"),
    [
        ("v1", {"predictions": [True, True]}, "True: a boolean is not a prediction"),
        ("v1", {"predictions": [[[1]], [[1]]]}, "[[1]]: not one value for the row"),
        ("v1", {"predictions": [1, None]}, "row 1: null is not a prediction"),
        ("v2", {"outputs": [{"name": "o", "shape": [2], "datatype": "BYTES", "data": [1, 1]}]}, "a BYTES output holds strings"),
        ("v2", {"outputs": [{"name": "o", "shape": [2, 1], "datatype": "INT64", "data": [[[1]], [[1]]]}]}, "not one value for the row"),
    ],
)
def test_a_valid_request_answered_outside_the_contract_is_a_finding(protocol: str, body: Any, shown: str) -> None:
    request = Request("json_content_type", protocol, "POST", "/p", b"{}", rows=tuple(tuple(r) for r in SEED), seed_rows=True)
    answer = _answer(body)
    with InferenceClient(Endpoint("http://127.0.0.1:9", MODEL)) as client:
        problem, how = Judge(client, None).judge(request, Outcome.of(answer), answer)
    assert problem is not None and shown in problem and how == "", problem
