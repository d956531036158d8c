"""The pipeline compiles clean, runs on the target, and trains a model good enough to ship."""

import pytest

from harness.config import HarnessConfig
from harness.models import PipelineRun, TaskState

pytestmark = pytest.mark.pipeline

EXPECTED_TASKS = {"load", "print-head", "train", "evaluate"}


def test_every_task_succeeded(pipeline_run: PipelineRun) -> None:
    states = {t.name: t.state for t in pipeline_run.tasks}
    assert pipeline_run.succeeded, f"run {pipeline_run.run_id} failed: {pipeline_run.message}"
    failed = {n: s.value for n, s in states.items() if s is not TaskState.SUCCEEDED}
    assert not failed, f"tasks not succeeded: {failed}"


def test_reference_pipeline_has_the_seed_tasks(pipeline_run: PipelineRun, harness_config: HarnessConfig) -> None:
    if harness_config.core.pipeline:
        pytest.skip("a custom pipeline was given with --harness-pipeline")
    assert {t.name for t in pipeline_run.tasks} == EXPECTED_TASKS


def test_held_out_accuracy_meets_threshold(pipeline_run: PipelineRun, harness_config: HarnessConfig) -> None:
    accuracy = pipeline_run.metrics.get("accuracy")
    if accuracy is None:
        pytest.skip("the pipeline logs no 'accuracy' metric")
    assert accuracy >= harness_config.core.min_accuracy, (
        f"held-out accuracy {accuracy:.4f} < threshold {harness_config.core.min_accuracy}"
    )


def test_run_produced_a_model(pipeline_run: PipelineRun) -> None:
    assert pipeline_run.model_uri, f"no task produced a 'model' output; tasks: {[t.as_dict() for t in pipeline_run.tasks]}"
