"""Answers read as the Open Inference Protocol defines them, and compared like with like."""

from __future__ import annotations

import dataclasses

import pytest

from harness.inference.outputs import OutputError, OutputReader, labels_of, tensor_rows

IRIS = ("setosa", "versicolor", "virginica")


def output(name: str, datatype: str, shape: list[int], data: list) -> dict:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


@pytest.mark.parametrize(
    "tensor",
    [
        output("predict", "INT64", [2], [1, 1]),
        output("predict", "INT64", [2, 1], [[1], [1]]),  # nested, shape [N, 1]
        output("predict", "INT64", [2, 1], [1, 1]),  # flat row-major, shape [N, 1]
        output("predict", "FP64", [2], [1.0, 1.0]),  # integer-valued floats
        output("predict", "FP32", [2, 1], [[1.0], [1.0]]),
    ],
)
def test_one_label_per_row_in_every_layout(tensor: dict) -> None:
    assert OutputReader().v2({"outputs": [tensor]}, rows=2) == [1, 1]


def test_class_names_compare_with_indices_through_labels() -> None:
    reader = OutputReader(labels=IRIS)
    names = output("predict", "BYTES", [2], ["versicolor", "virginica"])
    assert reader.v2({"outputs": [names]}, rows=2) == [1, 2]
    assert reader.v1({"predictions": ["versicolor", 2]}) == [1, 2]
    # without labels a name stays a name, so it differs from an index and the diff shows it
    assert OutputReader().v1({"predictions": ["versicolor"]}) == ["versicolor"]


def test_several_outputs_pick_the_labels_not_the_probabilities() -> None:
    probabilities = output("probabilities", "FP32", [2, 3], [0.1, 0.8, 0.1, 0.2, 0.7, 0.1])
    labels = output("label", "INT64", [2], [1, 1])
    assert OutputReader().v2({"outputs": [probabilities, labels]}, rows=2) == [1, 1]
    unnamed = output("out-b", "INT64", [2], [2, 2])
    assert OutputReader().v2({"outputs": [probabilities, unnamed]}, rows=2) == [2, 2]


def test_output_chosen_by_name_and_unknown_name_lists_the_available() -> None:
    answer = {"outputs": [output("a", "INT64", [1], [0]), output("b", "INT64", [1], [2])]}
    assert OutputReader(name="b").v2(answer, rows=1) == [2]
    with pytest.raises(OutputError, match=r"no output named 'c'; the server answered \['a', 'b'\]"):
        OutputReader(name="c").v2(answer)


def test_only_float_outputs_and_no_choice_is_an_error_naming_the_setting() -> None:
    answer = {"outputs": [output("p0", "FP32", [1], [0.2]), output("p1", "FP32", [1], [0.8])]}
    with pytest.raises(OutputError, match="output_name"):
        OutputReader().v2(answer)


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (output("predict", "INT64", [3], [1, 1]), "shape \\[3\\] holds 3 values, data has 2"),
        (output("predict", "FP32", [2, 3], [0.1] * 6), "3 values per row"),
        ({"name": "predict", "datatype": "INT64", "shape": [2]}, "no 'data' list"),
    ],
)
def test_unreadable_tensors_say_why(tensor: dict, message: str) -> None:
    with pytest.raises(OutputError, match=message):
        tensor_rows(tensor)


def test_row_count_mismatch_is_an_error() -> None:
    with pytest.raises(OutputError, match="holds 1 values for 2 rows"):
        OutputReader().v1({"predictions": [1]}, rows=2)
    with pytest.raises(OutputError, match="no 'predictions' list"):
        OutputReader().v1({"prediction": [1]})


def test_non_integer_floats_stay_floats_so_they_never_equal_a_label() -> None:
    assert OutputReader().canonical([1.5, float("nan"), True]) [0] == 1.5
    assert OutputReader().canonical([True]) == [1]


def test_labels_of_reads_string_classes_only() -> None:
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    data = load_iris()
    by_index = DecisionTreeClassifier(random_state=0).fit(data.data, data.target)
    by_name = DecisionTreeClassifier(random_state=0).fit(data.data, np.array(IRIS)[data.target])
    assert labels_of(by_index) == ()
    assert labels_of(by_name) == IRIS
    assert labels_of(object()) == ()


# --- strict: an answer outside the contract is not a prediction --------------------------------
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"predictions": [1, None]}, r"1 of 2 answers are not predictions the contract allows: row 1: null is not a prediction"),
        ({"predictions": [True, 1]}, r"row 0: True: a boolean is not a prediction"),
        ({"predictions": [[[1]], [[1]]]}, r"2 of 2 .*row 0: \[\[1\]\]: not one value for the row"),  # [[[k]]]: each row is [[k]]
        ({"predictions": [[0.2, 0.8], [0.9, 0.1]]}, r"not one value for the row"),
        ({"predictions": [{"label": 1}, 1]}, r"row 0: \{'label': 1\}: not one value"),
        ({"predictions": [1.0, float("nan")]}, r"row 1: nan: not a finite number"),
    ],
)
def test_v1_answers_outside_the_contract_are_errors_naming_the_row(answer: dict, message: str) -> None:
    with pytest.raises(OutputError, match=message):
        OutputReader().v1(answer, rows=2)


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (output("predict", "BYTES", [2], [1, 1]), r"row 0: 1: a BYTES output holds strings"),
        (output("predict", "INT64", [2], ["1", "1"]), r"an INT64 output holds integers"),
        (output("predict", "FP32", [2], ["a", 1.0]), r"row 0: 'a': an FP32 output holds numbers"),
        (output("predict", "BOOL", [2], [True, False]), r"a boolean is not a prediction"),
        (output("predict", "INT64", [2], [1, None]), r"row 1: null is not a prediction"),
        (output("predict", "INT64", [2, 1], [[[1]], [[1]]]), r"not one value for the row"),
        (output("predict", "INT64", [2], [[1], [1]]), r"not one value for the row"),  # nested past its shape [2]
        (output("predict", "INT64", [2, 1], [[1, 1]]), r"does not follow shape \[2, 1\]"),
    ],
)
def test_v2_answers_outside_the_contract_or_their_datatype_are_errors(tensor: dict, message: str) -> None:
    with pytest.raises(OutputError, match=message):
        OutputReader().v2({"outputs": [tensor]}, rows=2)


@dataclasses.dataclass(frozen=True)
class _Contract:
    classes: tuple = (0, 1, 2)
    is_classifier: bool = True


def test_the_contract_s_classes_bound_what_a_classifier_may_answer() -> None:
    reader = OutputReader(labels=IRIS).for_contract(_Contract())
    assert reader.v1({"predictions": [1, 2.0, "setosa"]}, rows=3) == [1, 2, 0]  # index, FP32 label, name via labels
    assert reader.v2({"outputs": [output("o", "INT64", [2, 1], [[1], [1]])]}, rows=2) == [1, 1]
    with pytest.raises(OutputError, match=r"row 1: 7: not one of the contract's classes \[0, 1, 2\]"):
        reader.v1({"predictions": [1, 7]}, rows=2)
    with pytest.raises(OutputError, match="not one of the contract's classes"):
        reader.v2({"outputs": [output("o", "BYTES", [1], ["rose"])]}, rows=1)
    with pytest.raises(OutputError, match="1.5: not one of the contract's classes"):
        reader.v1({"predictions": [1.5]})
    assert reader.outside([1, 7, None]) == [(1, "7: not one of the contract's classes [0, 1, 2]"), (2, "null is not a prediction")]
    named = OutputReader().for_contract(_Contract(classes=("setosa", "versicolor")))
    assert named.v1({"predictions": ["versicolor"]}) == ["versicolor"]


def test_a_regressor_answers_finite_numbers() -> None:
    reader = OutputReader().for_contract(_Contract(classes=(), is_classifier=False))
    assert reader.v2({"outputs": [output("o", "FP32", [2], [1.5, 2])]}, rows=2) == [1.5, 2]
    with pytest.raises(OutputError, match="'high': a regressor answers numbers"):
        reader.v1({"predictions": ["high"]})
