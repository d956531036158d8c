"""Answers under load are judged as at rest: one prediction per row, of a type and value the contract allows.

The worker cannot import the harness's output reader, so :mod:`harness.load.worker.predictions`
reads answers by the same rules; these tests hold the two to the same verdict on the same answers
and pin what the reader lets through that the contract does not (null, an unknown class, a
boolean, a non-finite number).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.config import HarnessConfig
from harness.inference.outputs import OutputError, OutputReader
from harness.load.plan import LoadPlan
from harness.load.worker.answers import judge
from harness.load.worker.predictions import AnswerRules, problem
from harness.results import Endpoint

IRIS = AnswerRules(rows=2, task="classification", classes=(0, 1, 2))
REGRESSOR = AnswerRules(rows=2, task="regression")


def _v2(data: Any, shape: list[int], datatype: str = "INT64", name: str = "predict") -> dict[str, Any]:
    return {"outputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}


SHAPES = [  # (kind, answer): what the output reader reads, and what it refuses
    ("v1", {"predictions": [1, 2]}),
    ("v1", {"predictions": [[1], [2]]}),
    ("v1", {"predictions": [1]}),
    ("v1", {"error": "overloaded"}),
    ("v1", {"predictions": "1,2"}),
    ("v2", _v2([1, 2], [2])),
    ("v2", _v2([[1], [2]], [2, 1])),
    ("v2", _v2([1, 2, 3], [3])),
    ("v2", _v2([0.1, 0.9, 0.8, 0.2], [2, 2], "FP64")),
    ("v2", {"outputs": []}),
    ("v2", {"outputs": [{"name": "predict_proba", "shape": [2, 3], "datatype": "FP64", "data": [0.1] * 6},
                        {"name": "predict", "shape": [2, 1], "datatype": "INT64", "data": [[1], [2]]}]}),
    ("v2", _v2([1, 2], [3])),
]


@pytest.mark.parametrize(("kind", "answer"), SHAPES)
def test_the_worker_reads_answers_as_the_output_reader_does(kind: str, answer: dict[str, Any]) -> None:
    reader = OutputReader()
    try:
        (reader.v1 if kind == "v1" else reader.v2)(answer, rows=2)
        reads = True
    except OutputError:
        reads = False
    assert (problem(AnswerRules(rows=2), kind, answer) is None) == reads, problem(AnswerRules(rows=2), kind, answer)


@pytest.mark.parametrize(("rules", "values", "why"), [
    (IRIS, [1, None], "value None is not a prediction (row 1)"),
    (IRIS, [7, 1], "value 7 is not one of the classes [0, 1, 2] (row 0)"),
    (IRIS, [True, 1], "value True is not a prediction (row 0)"),
    (IRIS, [1.5, 1], "value 1.5 is not a class (row 0)"),
    (IRIS, ["1", 1], "value '1' is not one of the classes [0, 1, 2] (row 0)"),
    (REGRESSOR, [1.5, float("nan")], "value nan is not a finite number (row 1)"),
    (REGRESSOR, ["1.5", 2.0], "value '1.5' is not a finite number (row 0)"),
])
def test_values_outside_the_contract_are_not_answers(rules: AnswerRules, values: list[Any], why: str) -> None:
    assert problem(rules, "v1", {"predictions": values}) == f"V1 'predictions' {why}"


def test_allowed_values_pass_and_names_may_answer_by_index() -> None:
    assert problem(IRIS, "v1", {"predictions": [0, 2.0]}) is None
    assert problem(REGRESSOR, "v2", _v2([1.25, -3], [2], "FP64")) is None
    named = AnswerRules(rows=2, task="classification", classes=("setosa", "versicolor"))
    assert problem(named, "v2", _v2([b"versicolor", 1], [2], "BYTES")) is None
    assert problem(named, "v1", {"predictions": ["virginica", 0]}) is not None


def test_class_names_of_the_labels_setting_count_as_their_index() -> None:
    """``--labels setosa,versicolor,virginica`` with integer classes: the output reader maps a
    name to its index, and so does the worker."""
    rules = AnswerRules(rows=2, task="classification", classes=(0, 1, 2), labels=("setosa", "versicolor", "virginica"))
    reader = OutputReader(labels=rules.labels, classes=rules.classes)
    answer = {"predictions": ["versicolor", "virginica"]}
    assert reader.v1(answer, 2) == [1, 2]
    assert problem(rules, "v1", answer) is None
    assert problem(IRIS, "v1", answer) is not None  # without the labels a name is no class
    assert "not one of the classes" in (problem(rules, "v1", {"predictions": ["rose", 1]}) or "")


def test_the_plan_carries_the_labels_and_the_output_setting() -> None:
    cfg = HarnessConfig().replace(labels=("a", "b", "c"), output_name="label")
    plan = LoadPlan.from_config(Endpoint("http://127.0.0.1:1", "m"), cfg)
    rules = AnswerRules.from_plan(json.loads(plan.plan_json()))
    assert rules.labels == ("a", "b", "c")
    assert rules.output == "label"


def test_a_named_output_is_the_one_read() -> None:
    two = {"outputs": [{"name": "predict", "shape": [2], "datatype": "INT64", "data": [1, 1]},
                       {"name": "label", "shape": [2], "datatype": "INT64", "data": [7, 7]}]}
    assert problem(IRIS, "v2", two) is None
    assert "not one of the classes" in (problem(AnswerRules(2, "classification", (0, 1, 2), "label"), "v2", two) or "")
    assert "no output named 'missing'" in (problem(AnswerRules(2, "classification", (0, 1, 2), "missing"), "v2", two) or "")


class _Answer:
    """A 200 whose body came with its headers (what :func:`judge` reads)."""

    status_code = 200
    message_complete = True
    content_length = None

    def __init__(self, body: Any) -> None:
        self.body = json.dumps(body).encode()

    def get(self, _name: str) -> None:
        return None

    def read(self, _size: int = -1) -> bytes:
        return self.body


def test_a_200_without_a_prediction_is_a_failed_request_with_its_reason() -> None:
    def validate(answer: Any) -> str | None:
        return problem(IRIS, "v1", answer)

    length, failure = judge(_Answer({"error": "overloaded"}), 1 << 20, lambda t: t[:200], 800, validate)
    assert failure is not None and failure.status == 200 and str(failure) == "HTTP 200 answer outside the contract"
    assert failure.detail == "HTTP 200 answer outside the contract: V1 answer has no 'predictions' list: {\"error\": \"overloaded\"}"
    assert judge(_Answer({"predictions": [1, 2]}), 1 << 20, str, 800, validate) == (len(b'{"predictions": [1, 2]}'), None)


def test_the_plan_carries_what_a_valid_answer_holds() -> None:
    cfg = HarnessConfig().replace(batch_size=3)
    plan = LoadPlan.from_config(Endpoint("http://127.0.0.1:9", "iris", protocols=("v1", "v2")), cfg)
    shipped = json.loads(plan.plan_json())
    assert shipped["answers"] == {"task": "classification", "classes": [0, 1, 2], "output": None, "labels": []}
    assert AnswerRules.from_plan(shipped) == AnswerRules(rows=3, task="classification", classes=(0, 1, 2), output=None)
