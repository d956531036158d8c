"""The deployed model answers correctly: the seed's golden case, accuracy, parity, protocols."""

from pathlib import Path

import pytest

from harness import verify
from harness.client import InferenceClient
from harness.config import HarnessConfig
from harness.models import CheckResult, CheckStatus

pytestmark = pytest.mark.endpoint


def _assert_passed(result: CheckResult) -> None:
    if result.status is CheckStatus.SKIPPED:
        pytest.skip(f"{result.name}: {result.message}")
    assert result.status is CheckStatus.PASSED, f"{result.name}: {result.message}"


def test_ready(inference_client: InferenceClient) -> None:
    assert inference_client.ready(), f"GET /v1/models/{inference_client.endpoint.model_name} is not ready"


def test_seed_golden_case(inference_client: InferenceClient) -> None:
    answer = inference_client.predict(verify.SEED_INSTANCES)
    assert list(answer.outputs) == list(verify.SEED_PREDICTIONS), (
        f"seed request answered {list(answer.outputs)}, expected {list(verify.SEED_PREDICTIONS)}"
    )


def test_user_golden_cases(inference_client: InferenceClient, harness_config: HarnessConfig) -> None:
    if not harness_config.core.golden_file:
        pytest.skip("no --harness-golden-file given")
    _assert_passed(verify.check_golden(inference_client, verify.load_golden_file(harness_config.core.golden_file)))


def test_accuracy_of_served_model(inference_client: InferenceClient, harness_config: HarnessConfig) -> None:
    _assert_passed(verify.check_accuracy(inference_client, harness_config.core.min_accuracy))


def test_served_equals_trained_artifact(inference_client: InferenceClient, model_artifact: Path | None) -> None:
    _assert_passed(verify.check_parity(inference_client, model_artifact))


def test_v1_and_v2_agree(inference_client: InferenceClient) -> None:
    _assert_passed(verify.check_protocols(inference_client))
