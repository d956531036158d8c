"""The robustness package: catalogue, strategies, verdicts, and the battery against KServe."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.client import InferenceClient
from harness.config import load_config
from harness.errors import ConfigError
from harness.models import CheckStatus, Endpoint
from harness.robustness import PROFILES, get_profile, run_robustness
from harness.robustness.battery import Outcome
from harness.robustness.malformed import CATEGORIES, BadRequest, explicit_cases, strategies
from harness.serving.local import LocalModelServer

MODEL = "sklearn-iris"
SEED_BODY = b'{"instances":[[6.8,2.8,4.8,1.4]]}'


@pytest.fixture(scope="module")
def kserve(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """The harness's KServe runtime, for this module only.

    Not the session-wide ``served``: any test that calls ``harness.cli.main`` in-process
    reaps every tracked child, that server included.
    """
    server = LocalModelServer(model_dir, MODEL, tmp_path_factory.mktemp("kserve") / "server.log")
    endpoint = server.start(ready_timeout=60)
    yield endpoint
    server.stop()


def _json(body: bytes | None) -> object:
    def reject(token: str) -> None:
        raise ValueError(token)

    return json.loads(body or b"", parse_constant=reject)


def test_the_catalogue_tries_every_category() -> None:
    cases = explicit_cases(MODEL, PROFILES["ci"], v2=True)
    assert {c.category for c in cases} == set(CATEGORIES)
    assert "v2_malformed" not in {c.category for c in explicit_cases(MODEL, PROFILES["ci"], v2=False)}


def test_catalogue_sizes_follow_the_profile() -> None:
    for name, profile in PROFILES.items():
        by_note = {c.category: c for c in explicit_cases(MODEL, profile, v2=False) if c.category in ("large_batch", "oversized_body")}
        assert by_note["oversized_body"].body is not None and len(by_note["oversized_body"].body) >= profile.oversized_bytes, name
        assert by_note["large_batch"].body is not None
        assert len(_json(by_note["large_batch"].body)["instances"]) == profile.large_batch_rows  # type: ignore[index]


def test_only_a_valid_body_with_a_wrong_content_type_may_be_accepted() -> None:
    tolerated = [c for c in explicit_cases(MODEL, PROFILES["ci"], v2=True) if c.tolerate_ok]
    assert [(c.category, c.content_type) for c in tolerated] == [("content_type", "text/plain")]
    assert _json(tolerated[0].body) == {"instances": [[6.8, 2.8, 4.8, 1.4]]}


@settings(max_examples=30, database=None, deadline=None)
@given(st.data())
def test_generated_requests_are_malformed_in_their_category(data: st.DataObject) -> None:
    all_strategies = strategies(MODEL)
    category = data.draw(st.sampled_from(sorted(all_strategies)))
    request = data.draw(all_strategies[category])
    assert request.category == category and not request.tolerate_ok
    if category == "invalid_json":
        with pytest.raises((ValueError, RecursionError)):
            _json(request.body)
    elif category == "unknown_model":
        assert f"/models/{MODEL}:" not in request.path
    elif category == "wrong_method":
        assert request.method != "POST"
    elif category in ("ragged_rows", "wrong_feature_count"):
        rows = _json(request.body)["instances"]  # type: ignore[index]
        assert any(len(r) != 4 for r in rows)


@pytest.mark.parametrize(
    ("outcome", "problem"),
    [
        (Outcome(400, '{"error": "bad"}'), None),
        (Outcome(404, "not found"), None),
        (Outcome(400, "  "), "without an error body"),
        (Outcome(500, '{"error": "boom"}'), "server error HTTP 500"),
        (Outcome(503, ""), "server error HTTP 503"),
        (Outcome(200, '{"predictions": [1]}'), "accepted with HTTP 200"),
        (Outcome(None, error="ReadTimeout after 1.0s", timed_out=True), "no answer within"),
        (Outcome(None, error="ConnectError after 0.0s"), "no HTTP answer"),
    ],
)
def test_the_verdict_on_one_answer(outcome: Outcome, problem: str | None) -> None:
    verdict = outcome.problem(BadRequest("strings", "POST", "/v1/models/m:predict", b"{}"))
    assert verdict is None if problem is None else problem in (verdict or "")


def test_a_2xx_is_tolerated_only_where_marked() -> None:
    lenient = BadRequest("content_type", "POST", "/p", SEED_BODY, "text/plain", tolerate_ok=True)
    assert Outcome(200, '{"predictions": [1]}').problem(lenient) is None
    assert Outcome(500, "x").problem(lenient) is not None


def test_unknown_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="robustness_profile"):
        get_profile("weekly")


def test_kserve_runtime_passes_the_ci_battery_quickly(kserve: Endpoint, model_dir: Path, tmp_path: Path) -> None:
    """The harness's own KServe runtime keeps the contract, within a few seconds."""
    cfg = load_config(cli={"robustness_profile": "ci"}, env={})
    started = time.monotonic()
    with InferenceClient(kserve, cfg.request_timeout) as client:
        results = {r.name: r for r in run_robustness(client, cfg, model_dir, tmp_path)}
    elapsed = time.monotonic() - started
    assert results["robustness.parity"].status is CheckStatus.PASSED, results["robustness.parity"].message
    battery = results["robustness.bad_inputs"]
    assert battery.status is CheckStatus.PASSED, battery.message
    assert set(battery.details["requests"]) == set(CATEGORIES)
    assert battery.details["total_requests"] >= 100
    assert battery.details["seed_case"] == {"before": [1, 1], "after": [1, 1]}
    assert elapsed < 20, f"the ci profile took {elapsed:.1f}s"
    saved = json.loads((tmp_path / "robustness.json").read_text())
    assert [c["name"] for c in saved["checks"]] == ["robustness.parity", "robustness.bad_inputs"]


def test_parity_skips_without_an_artifact_and_without_v2(kserve: Endpoint, tmp_path: Path) -> None:
    cfg = load_config(cli={"robustness_profile": "ci"}, env={})
    with InferenceClient(kserve, cfg.request_timeout) as client:
        with_v2 = {r.name: r for r in run_robustness(client, cfg, None, tmp_path)}
    # V1/V2 agreement still runs; only the comparison with the artifact is skipped
    assert with_v2["robustness.parity"].status is CheckStatus.PASSED
    assert "no model artifact" in with_v2["robustness.parity"].message
    assert with_v2["robustness.parity"].details["compared"] == ["V1 vs V2"]
    v1_only = Endpoint(kserve.base_url, kserve.model_name, protocols=("v1",))
    with InferenceClient(v1_only, cfg.request_timeout) as client:
        neither = {r.name: r for r in run_robustness(client, cfg, None, tmp_path)}
    assert neither["robustness.parity"].status is CheckStatus.SKIPPED
    assert "--model-artifact" in neither["robustness.parity"].message
    assert neither["robustness.bad_inputs"].details["v2_tried"] is False
