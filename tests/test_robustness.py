"""The robustness package: catalogues, strategies, verdicts, accepted findings, and the battery against KServe."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.config import load_config
from harness.config.accepted import load_accepted
from harness.config.categories import CATEGORIES, MALFORMED, UNUSUAL, names
from harness.errors import ConfigError
from harness.inference.client import Answer, InferenceClient
from harness.inference.outputs import OutputReader
from harness.results import CheckStatus, Endpoint
from harness.robustness import PROFILES, bad_inputs_check, get_profile, parity_check
from harness.robustness.malformed import malformed_cases
from harness.robustness.requests import REPLAY_LIMIT, Request
from harness.robustness.strategies import is_json, is_number_text, strategies
from harness.robustness.unusual import fp16, unusual_cases
from harness.robustness.verdicts import Judge, Outcome, malformed_problem

MODEL = "sklearn-iris"
BOTH = ("v1", "v2")
SEED_BODY = b'{"instances":[[6.8,2.8,4.8,1.4]]}'

#: the categories a one-tensor model is sent (unknown_category: a per-column model's, tests/test_mixed.py)
TENSOR_CATEGORIES = {name for name, category in CATEGORIES.items() if "tensor" in category.codecs}


@pytest.fixture(scope="module")
def kserve(served: Endpoint) -> Endpoint:
    """The harness's KServe runtime: the session's (``mlharness run`` in-process reaps only its own children)."""
    return served


def _json(body: bytes | None) -> Any:
    def reject(token: str) -> None:
        raise ValueError(token)

    return json.loads(body or b"", parse_constant=reject)


def _catalogue(protocols: tuple[str, ...], profile: str = "ci") -> list[Request]:
    return malformed_cases(MODEL, PROFILES[profile], protocols) + unusual_cases(MODEL, PROFILES[profile], protocols)


# --- catalogues -------------------------------------------------------------------------------
def test_the_catalogue_tries_every_category_over_every_protocol_it_applies_to() -> None:
    sent = {(c.category, c.protocol) for c in _catalogue(BOTH)}
    expected = {(name, p) for name, category in CATEGORIES.items() for p in category.protocols if "tensor" in category.codecs}
    assert sent == expected
    assert {c.category for c in _catalogue(BOTH)} == TENSOR_CATEGORIES


@pytest.mark.parametrize(("protocols", "prefix"), [(("v1",), "/v1/"), (("v2",), "/v2/")])
def test_a_server_that_speaks_one_protocol_gets_requests_of_that_protocol_only(protocols: tuple[str, ...], prefix: str) -> None:
    cases = _catalogue(protocols)
    assert cases and all(c.path.startswith(prefix) and c.protocol == protocols[0] for c in cases)
    for protocol in protocols:
        assert all(r.path.startswith(prefix) for r in _draw_all(protocol))


def _draw_all(protocol: str) -> list[Request]:
    drawn: list[Request] = []

    @settings(max_examples=5, database=None, deadline=None, derandomize=True)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for strategy in strategies(MODEL, protocol).values():
            drawn.append(data.draw(strategy))

    draw()
    return drawn


def test_the_kind_of_each_request_is_its_category_s() -> None:
    assert set(names(MALFORMED)) | set(names(UNUSUAL)) == set(CATEGORIES)
    for case in _catalogue(BOTH):
        assert case.kind == CATEGORIES[case.category].kind
        assert (case.rows is not None) == (case.kind == UNUSUAL), case.describe()


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_large_requests_follow_the_profile_and_are_valid(profile: str) -> None:
    sizes = PROFILES[profile]
    large = {(c.category, c.protocol): c for c in unusual_cases(MODEL, sizes, BOTH) if c.large}
    assert set(large) == {(c, p) for c in ("large_batch", "large_body") for p in BOTH}
    for (category, protocol), case in large.items():
        body = _json(case.body)
        rows = body["instances"] if protocol == "v1" else body["inputs"][0]["data"]
        width = 1 if protocol == "v1" else 4
        assert case.rows is not None and len(rows) == len(case.rows) * width
        if category == "large_batch":
            assert len(case.rows) == sizes.large_batch_rows
        else:
            assert case.size >= sizes.large_body_bytes, (protocol, case.size)
        if protocol == "v2":
            assert body["inputs"][0]["shape"] == [len(case.rows), 4]
            assert rows[:4] == list(case.rows[0])
        else:
            assert rows[1] == list(case.rows[1])


def test_coercible_values_are_valid_v2_with_the_rows_a_server_reads() -> None:
    cases = {c.note: c for c in unusual_cases(MODEL, PROFILES["ci"], ("v2",)) if c.category == "coercible_values"}
    fp16_case = cases["FP16 data"]
    assert _json(fp16_case.body)["inputs"][0]["datatype"] == "FP16"
    assert fp16_case.rows == fp16(((6.8, 2.8, 4.8, 1.4), (6.0, 3.4, 4.5, 1.6)))
    assert fp16_case.rows is not None and fp16_case.rows[0][0] == 6.80078125  # 6.8 has no exact FP16
    booleans = _json(cases["booleans in an FP32 tensor"].body)["inputs"][0]
    assert booleans["data"] == [True, False, True, False] and cases["booleans in an FP32 tensor"].rows == ((1.0, 0.0, 1.0, 0.0),)
    strings = _json(cases["numeric strings in an FP32 tensor"].body)["inputs"][0]["data"]
    assert all(isinstance(v, str) and is_number_text(v) for v in strings)


def test_content_type_cases_split_valid_json_from_bodies_that_are_not_json() -> None:
    cases = _catalogue(BOTH)
    for case in cases:
        if case.category == "json_content_type":
            assert case.content_type in (None, "text/plain", "application/x-www-form-urlencoded")
            assert is_json(case.body or b"")
        if case.category == "content_type":
            assert case.content_type != "application/json" and not is_json(case.body or b"")


@settings(max_examples=40, database=None, deadline=None)
@given(st.data())
def test_generated_requests_are_malformed_in_their_category(data: st.DataObject) -> None:
    protocol = data.draw(st.sampled_from(BOTH))
    all_strategies = strategies(MODEL, protocol)
    # every malformed category but empty_batch (one request: nothing to generate)
    assert set(all_strategies) == {c for c in names(MALFORMED) if protocol in CATEGORIES[c].protocols} - {"empty_batch"}
    category = data.draw(st.sampled_from(sorted(all_strategies)))
    request = data.draw(all_strategies[category])
    assert request.category == category and request.kind == MALFORMED and request.protocol == protocol
    if category in ("invalid_json", "content_type"):
        assert not is_json(request.body or b"")
    elif category == "unknown_model":
        assert f"/models/{MODEL}:" not in request.path and f"/models/{MODEL}/" not in request.path
    elif category == "wrong_method":
        assert request.method != "POST"
    elif category in ("ragged_rows", "wrong_feature_count") and protocol == "v1":
        assert any(len(r) != 4 for r in _json(request.body)["instances"])
    elif category == "wrong_feature_count":
        assert _json(request.body)["inputs"][0]["shape"][1] != 4
    elif category == "strings" and protocol == "v2":
        texts = [v for v in _json(request.body)["inputs"][0]["data"] if isinstance(v, str)]
        assert texts and not any(is_number_text(t) for t in texts)  # numeric strings are coercible


# --- verdicts ---------------------------------------------------------------------------------
def _request(category: str, protocol: str = "v1") -> Request:
    return Request(category, protocol, "POST", "/v1/models/m:predict", b"{}")


@pytest.mark.parametrize(
    ("category", "outcome", "problem"),
    [
        ("strings", Outcome(400, '{"error": "bad"}'), None),
        ("strings", Outcome(404, "not found"), None),
        ("strings", Outcome(422, '{"detail": []}'), None),
        ("strings", Outcome(400, "  "), "without an error body"),
        ("strings", Outcome(500, '{"error": "boom"}'), "server error HTTP 500"),
        ("strings", Outcome(503, ""), "server error HTTP 503"),
        ("strings", Outcome(200, '{"predictions": [1]}'), "accepted with HTTP 200"),
        ("strings", Outcome(307, "redirect to /x"), "HTTP 307"),
        ("strings", Outcome(None, error="ReadTimeout after 1.0s", timed_out=True), "no answer within"),
        ("strings", Outcome(None, error="ConnectError after 0.0s"), "no HTTP answer"),
        ("wrong_method", Outcome(405, ""), None),
        ("wrong_method", Outcome(404, ""), None),
        ("wrong_method", Outcome(200, "{}"), "expected 405 (any 4xx passes)"),
        ("wrong_method", Outcome(500, "x"), "server error HTTP 500"),
    ],
)
def test_the_verdict_on_a_malformed_request(category: str, outcome: Outcome, problem: str | None) -> None:
    verdict = malformed_problem(_request(category), outcome)
    assert verdict is None if problem is None else problem in (verdict or ""), verdict


def _answer(status: int, body: Any, truncated: bool = False) -> Answer:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status, {"content-type": "application/json"}, content, truncated)


def _valid(protocol: str = "v1", rows: int = 4) -> Request:
    seed = ((6.8, 2.8, 4.8, 1.4), (6.0, 3.4, 4.5, 1.6))
    return Request("large_batch", protocol, "POST", "/p", b"{}", rows=tuple(seed[i % 2] for i in range(rows)), seed_rows=True)


@pytest.mark.parametrize(
    ("protocol", "answer", "problem", "how"),
    [
        ("v1", _answer(200, {"predictions": [1, 1, 1, 1]}), None, "answered"),
        ("v1", _answer(200, {"predictions": [1.0, 1.0, 1.0, 1.0]}), None, "answered"),
        ("v2", _answer(200, {"outputs": [{"name": "predict", "shape": [4, 1], "datatype": "INT64", "data": [[1], [1], [1], [1]]}]}), None, "answered"),
        ("v2", _answer(200, {"outputs": [{"name": "o", "shape": [4], "datatype": "BYTES", "data": ["versicolor"] * 4}]}), None, "answered"),
        ("v1", _answer(200, {"predictions": [1, 2, 1, 1]}), "wrong predictions", ""),
        ("v1", _answer(200, {"predictions": [1, 1]}), "not 4 predictions", ""),
        ("v1", _answer(200, b"<html>ok</html>"), "not 4 predictions", ""),
        ("v1", _answer(200, {"predictions": [1, 1, 1, 1]}, truncated=True), "cut off", ""),
        ("v1", _answer(413, {"error": "too large"}), None, "declined"),
        ("v2", _answer(415, b""), None, "declined"),
        ("v2", _answer(422, {"detail": "no"}), None, "declined"),
        ("v1", _answer(500, {"error": "boom"}), "server error HTTP 500", ""),
        ("v1", _answer(302, b""), "HTTP 302 to a valid request", ""),
    ],
)
def test_the_verdict_on_a_valid_unusual_request(protocol: str, answer: Answer, problem: str | None, how: str) -> None:
    with InferenceClient(Endpoint("http://127.0.0.1:9", MODEL)) as client:
        client.reader = OutputReader(labels=("setosa", "versicolor", "virginica"))
        verdict, passed = Judge(client, None).judge(_valid(protocol), Outcome.of(answer), answer)
    assert (verdict is None) == (problem is None) and (problem or "") in (verdict or ""), verdict
    assert passed == how


def test_a_valid_request_without_an_answer_is_a_finding() -> None:
    with InferenceClient(Endpoint("http://127.0.0.1:9", MODEL)) as client:
        judge = Judge(client, None)
        hung = Outcome(None, error="ReadTimeout after 10.0s", timed_out=True)
        assert "no answer within" in (judge.judge(_valid(), hung, None)[0] or "")


def test_valid_predictions_come_from_the_artifact_when_there_is_one(model_dir: Path) -> None:
    rows = ((1.0, 0.0, 1.0, 0.0),)
    request = Request("coercible_values", "v2", "POST", "/p", b"{}", rows=rows)
    with InferenceClient(Endpoint("http://127.0.0.1:9", MODEL, protocols=("v2",))) as client:
        expected, source = Judge(client, model_dir).expected(request)
    import joblib
    import numpy as np

    model = joblib.load(model_dir / "model.joblib")
    assert expected == [int(v) for v in model.predict(np.asarray(rows))] and source == "the model artifact"


# --- reproducible requests ----------------------------------------------------------------------
def test_a_body_that_is_not_utf8_is_kept_exactly_and_replayable() -> None:
    body = b"\xff\xfe\x00{"
    described = Request("invalid_json", "v1", "POST", "/v1/models/m:predict", body).describe()
    assert described["body"] is None
    assert base64.b64decode(described["body_base64"]) == body
    assert "base64 -d" in described["replay"] and described["body_bytes"] == 4


def test_a_text_body_replays_with_curl_and_a_large_one_is_described_by_its_hash() -> None:
    small = Request("json_content_type", "v2", "POST", "/v2/models/m/infer", SEED_BODY, None).describe()
    assert small["body"] == SEED_BODY.decode()
    assert small["replay"].startswith('curl -sS -X POST "$URL/v2/models/m/infer" -H \'Content-Type:\'')
    big = Request("large_body", "v1", "POST", "/p", b"[" * (REPLAY_LIMIT + 1), large=True).describe()
    assert "replay" not in big and len(big["body_sha256"]) == 64 and big["body"].endswith("...")


# --- accepted findings --------------------------------------------------------------------------
def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_accepted_findings_read_from_toml_and_json_and_match_by_category_status_and_protocol(tmp_path: Path) -> None:
    toml = _write(tmp_path, "accepted.toml", """
[[accept]]
category = "ragged_rows"
protocol = "v2"
status = 500
reason = "MLServer 1.7.1 answers 500 to ragged data"

[[accept]]
category = "nulls"
status = ["5xx", 422]
reason = "known"
""")
    accepted = load_accepted(toml)
    assert accepted.match("ragged_rows", "v2", 500) is accepted.entries[0]
    assert accepted.match("ragged_rows", "v1", 500) is None
    assert accepted.match("ragged_rows", "v2", 503) is None
    assert accepted.match("ragged_rows", "v2", None) is None  # a hang is never accepted by a status entry
    assert accepted.match("nulls", "v1", 503) is accepted.entries[1]
    assert accepted.match("nulls", "v1", 422) is accepted.entries[1]
    assert accepted.match("nulls", "v1", 400) is None
    as_json = _write(tmp_path, "accepted.json", json.dumps([{"category": "invalid_json", "reason": "r"}]))
    entry = load_accepted(as_json).entries[0]
    assert entry.matches("invalid_json", "v1", None) and entry.matches("invalid_json", "v2", 500)
    assert load_accepted(toml).stale([accepted.entries[1]]) == [accepted.entries[0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[accept]]\ncategory = "ragged_rows"\n', "entry 1 (category 'ragged_rows'): no reason"),
        ('[[accept]]\ncategory = "ragged_rows"\nreason = "  "\n', "no reason"),
        ('[[accept]]\ncategory = "raged_rows"\nreason = "x"\n', "unknown category 'raged_rows'; did you mean 'ragged_rows'?"),
        ('[[accept]]\ncategory = "nulls"\nreason = "x"\n[[accept]]\ncategory = "x"\nreason = "x"\n', "entry 2"),
        ('[[accept]]\ncategory = "booleans"\nprotocol = "v2"\nreason = "x"\n', "booleans is sent over v1 only"),
        ('[[accept]]\ncategory = "nulls"\nstatus = 600\nreason = "x"\n', "status 600"),
        ('[[accept]]\ncategory = "nulls"\nreson = "x"\n', "unknown field(s) ['reson']"),
        ('[accept]\ncategory = "nulls"\n', "expected a list of entries"),
        ("category = [", "does not parse"),
    ],
)
def test_a_bad_accepted_findings_file_is_a_config_error_naming_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "accepted.toml", text)
    with pytest.raises(ConfigError) as info:
        load_accepted(path)
    assert info.value.key == "accepted_findings" and message in str(info.value), str(info.value)


def test_the_accepted_findings_setting_is_checked_when_the_config_loads(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="accepted_findings: file .* does not exist"):
        load_config(cli={"accepted_findings": str(tmp_path / "missing.toml")}, env={})
    bad = _write(tmp_path, "bad.json", '{"accept": [{"category": "nulls"}]}')
    with pytest.raises(ConfigError, match=r"accepted_findings: .*entry 1 \(category 'nulls'\): no reason"):
        load_config(cli={"accepted_findings": str(bad)}, env={})
    good = _write(tmp_path, "good.json", '{"accept": [{"category": "nulls", "reason": "known"}]}')
    assert load_config(cli={"accepted_findings": str(good)}, env={}).robustness.accepted_findings == str(good)


def test_unknown_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="robustness_profile"):
        get_profile("weekly")


# --- against the harness's KServe runtime -------------------------------------------------------
def test_kserve_runtime_passes_the_ci_battery(kserve: Endpoint, model_dir: Path, tmp_path: Path) -> None:
    """The harness's own KServe runtime keeps the contract over V1 and V2."""
    cfg = load_config(cli={"robustness_profile": "ci"}, env={})
    with InferenceClient(kserve, cfg.core.request_timeout) as client:
        timeout = cfg.core.request_timeout
        results = {r.name: r for r in (parity_check(client, cfg.robustness, model_dir, tmp_path),
                                       bad_inputs_check(client, cfg.robustness, (timeout, timeout), cfg.core.ready_timeout, model_dir, tmp_path))}
    assert results["robustness.parity"].status is CheckStatus.PASSED, results["robustness.parity"].message
    battery = results["robustness.bad_inputs"]
    assert battery.status is CheckStatus.PASSED, battery.message
    details = battery.details
    tried = {c for kind in (MALFORMED, UNUSUAL) for c in details[kind]["requests"]}
    assert tried == TENSOR_CATEGORIES and details["protocols"] == ["v1", "v2"]
    assert details[MALFORMED]["total"] >= 100 and details[UNUSUAL]["total"] >= 10
    assert details["seed_case"] == {"before": {"v1": [1, 1], "v2": [1, 1]}, "after": {"v1": [1, 1], "v2": [1, 1]}}
    saved = json.loads((tmp_path / "robustness.json").read_text())
    assert [c["name"] for c in saved["checks"]] == ["robustness.parity", "robustness.bad_inputs"]
    assert saved["protocols"] == ["v1", "v2"] and saved["accepted_findings"]["file"] is None


def test_parity_skips_without_an_artifact_and_with_one_protocol(kserve: Endpoint, tmp_path: Path) -> None:
    cfg = load_config(cli={"robustness_profile": "ci", "robustness": True}, env={})
    with InferenceClient(kserve, cfg.core.request_timeout) as client:
        from harness.robustness.parity import run_parity

        both = run_parity(client, PROFILES["ci"], None, CheckStatus.FAILED, None)
    # V1/V2 agreement still runs; only the comparison with the artifact is skipped
    assert both.status is CheckStatus.PASSED and "no model artifact" in both.message
    assert both.details["compared"] == ["V1 vs V2"]
    v2_only = Endpoint(kserve.base_url, kserve.model_name, protocols=("v2",))
    with InferenceClient(v2_only, cfg.core.request_timeout) as client:
        neither = run_parity(client, PROFILES["ci"], None, CheckStatus.FAILED, None)
    assert neither.status is CheckStatus.SKIPPED
    assert "--model-artifact" in neither.message and "only V2" in neither.message

