"""The pipeline compiles clean, runs on the target, and trains a model good enough to ship.

``pipeline.compile``, ``pipeline.lint`` and ``pipeline.run`` are the registry's checks (the same
ones ``mlharness run`` records); the tests below add what only a pytest reader asks for.
"""

from collections.abc import Callable

import pytest
from mlharness_fixtures.plugin import assert_check

from harness.config import HarnessConfig
from harness.results import CheckResult, PipelineRun, TaskState

pytestmark = pytest.mark.pipeline

EXPECTED_TASKS = {"load", "print-head", "train", "evaluate"}


@pytest.mark.harness_checks("pipeline")
def test_pipeline_check(harness_check: Callable[[str], CheckResult], harness_check_name: str) -> None:
    assert_check(harness_check(harness_check_name))


def test_every_task_succeeded(harness_pipeline_run: PipelineRun) -> None:
    failed = {t.name: t.state.value for t in harness_pipeline_run.tasks if t.state is not TaskState.SUCCEEDED}
    assert not failed, f"tasks not succeeded: {failed}"


def test_reference_pipeline_has_the_seed_tasks(harness_pipeline_run: PipelineRun, harness_config: HarnessConfig) -> None:
    if harness_config.core.pipeline:
        pytest.skip("a custom pipeline was given with --harness-pipeline")
    assert {t.name for t in harness_pipeline_run.tasks} == EXPECTED_TASKS


def test_held_out_accuracy_meets_threshold(harness_pipeline_run: PipelineRun, harness_config: HarnessConfig) -> None:
    accuracy = harness_pipeline_run.metrics.get("accuracy")
    if accuracy is None:
        pytest.skip("the pipeline logs no 'accuracy' metric")
    assert accuracy >= harness_config.model.min_accuracy, f"held-out accuracy {accuracy:.4f} < threshold {harness_config.model.min_accuracy}"


def test_run_produced_a_model(harness_pipeline_run: PipelineRun) -> None:
    assert harness_pipeline_run.model_uri, f"no task produced a 'model' output; tasks: {[t.as_dict() for t in harness_pipeline_run.tasks]}"
