"""The model is found among a pipeline's outputs by its type (``dsl.Model``), not by a task
named ``train``: on compiled pipelines of this kfp, and with several models to choose from."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import ConfigError
from harness.pipelines.compile import compile_pipeline
from harness.pipelines.model_output import choose_model_output, model_outputs

from .helpers.example_models import DIABETES


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The iris and the diabetes pipelines as this kfp compiles them."""
    out = {}
    for name, source in (("iris", None), ("diabetes", f"{DIABETES / 'pipeline.py'}:diabetes_pipeline")):
        path = compile_pipeline(source, tmp_path_factory.mktemp(name)).path
        out[name] = yaml.safe_load(Path(path).read_text())
    return out


def test_the_model_output_of_a_compiled_pipeline_is_found_by_its_type(specs: dict[str, dict[str, Any]]) -> None:
    assert model_outputs(specs["iris"]) == [("train", "model")]
    assert choose_model_output(specs["diabetes"]) == ("fit", "regressor")  # neither "train" nor "model"


def two_models(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with a second task running the train component: two dsl.Model outputs."""
    twice = copy.deepcopy(spec)
    tasks = twice["root"]["dag"]["tasks"]
    tasks["train-2"] = copy.deepcopy(tasks["train"])
    return twice


def test_several_models_need_model_output_to_pick_one(specs: dict[str, dict[str, Any]]) -> None:
    spec = two_models(specs["iris"])
    with pytest.raises(ConfigError, match="several dsl.Model artifacts \\(train.model, train-2.model\\)") as err:
        choose_model_output(spec)
    assert err.value.key == "model_output"
    assert choose_model_output(spec, "train-2.model") == ("train-2", "model")
    with pytest.raises(ConfigError, match="matches several"):
        choose_model_output(spec, "model")
    with pytest.raises(ConfigError, match="'evaluate.metrics' is not a dsl.Model output"):
        choose_model_output(spec, "evaluate.metrics")


def test_a_pipeline_without_a_model_output_has_none(specs: dict[str, dict[str, Any]]) -> None:
    spec = copy.deepcopy(specs["iris"])
    for component in spec["components"].values():
        for artifact in component.get("outputDefinitions", {}).get("artifacts", {}).values():
            artifact["artifactType"]["schemaTitle"] = "system.Artifact"
    assert choose_model_output(spec) is None
