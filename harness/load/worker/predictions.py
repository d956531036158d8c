"""What a valid answer holds under load: one prediction per row, of a type and value the contract allows.

Plain Python (standard library only), loaded by the locustfile from beside itself, so it cannot
use the harness's output reader (:class:`harness.inference.outputs.OutputReader`); it reads
answers by the same rules (V1 ``predictions``; V2 ``outputs``: the named output, the only one, a
conventional name, else the first non-float one; flat or nested ``data`` of shape ``[N]`` or
``[N, 1]``) and a test holds the two to the same verdicts. The plan carries what it needs
(:meth:`harness.load.plan.LoadPlan.plan_json`): the rows per request, the task, the classes and
the output to read.

A value is allowed when, for a classifier, it is one of the contract's classes (an
integer-valued number compares as that integer; with classes given as names, an index into them
also counts, as the output reader maps names to indices) and, for a regressor, a finite number.
``null``, a boolean, a list where a value should be, an unknown class: not allowed.

Example:
    >>> rules = AnswerRules(rows=1, task="classification", classes=(0, 1, 2))
    >>> problem(rules, "v1", {"predictions": [7]})
    "V1 'predictions' value 7 is not one of the classes [0, 1, 2] (row 0)"
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

PREFERRED_NAMES = ("predict", "output-0", "label", "labels", "predictions")  # as harness.inference.outputs
FLOAT_TYPES = frozenset({"FP16", "FP32", "FP64", "BF16"})
CLASSIFICATION, REGRESSION = "classification", "regression"
SHOWN = 60  # characters of a value shown in a reason


@dataclasses.dataclass(frozen=True)
class AnswerRules:
    """What each answer must hold.

    Args:
        rows: rows per request (one prediction each); None: not checked.
        task: ``classification`` or ``regression``; anything else checks the shape only.
        classes: a classifier's classes (empty: any integer or name).
        output: the V2 output to read (None: chosen as the output reader chooses).
        labels: class names in index order (the ``labels`` setting): an answer given as one of
            them counts as its index, as the output reader maps it.
    """

    rows: int | None = None
    task: str = ""
    classes: tuple[Any, ...] = ()
    output: str | None = None
    labels: tuple[str, ...] = ()

    @classmethod
    def from_plan(cls, plan: Mapping[str, Any]) -> AnswerRules:
        answers = plan.get("answers") or {}
        return cls(
            rows=int(plan["batch_size"]) if plan.get("batch_size") else None,
            task=str(answers.get("task") or ""),
            classes=tuple(answers.get("classes") or ()),
            output=answers.get("output"),
            labels=tuple(answers.get("labels") or ()),
        )


def problem(rules: AnswerRules, kind: str, answer: Any) -> str | None:
    """Why ``answer`` (decoded JSON of a 2xx, or a gRPC answer as its V2 form) is not valid; None if it is."""
    if not isinstance(answer, Mapping):
        return f"answer is a JSON {type(answer).__name__}, not an object"
    if kind == "v1":
        predictions = answer.get("predictions")
        if not isinstance(predictions, list):
            return "V1 answer has no 'predictions' list"
        return _values(rules, [_scalar(p) for p in predictions], "V1 'predictions'")
    outputs = answer.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, Mapping) for o in outputs):
        return "V2 answer has no 'outputs' list of tensors"
    output, why = _choose(rules, outputs)
    if output is None:
        return why
    data = output.get("data")
    name = output.get("name")
    if not isinstance(data, list):
        return f"output {name!r} has no 'data' list"
    flat = list(_flatten(data))
    shape = output.get("shape")
    if isinstance(shape, list) and shape and all(isinstance(d, int) and d >= 0 for d in shape):
        size = math.prod(shape)
        if size != len(flat):
            return f"output {name!r}: shape {shape} holds {size} values, data has {len(flat)}"
        if math.prod(shape[1:]) != 1:
            return f"output {name!r} has shape {shape}: not one value per row"
    return _values(rules, [_scalar(v) for v in flat], f"V2 output {name!r}")


def _choose(rules: AnswerRules, outputs: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any] | None, str]:
    names = [str(o.get("name")) for o in outputs]
    if rules.output is not None:
        found = next((o for o in outputs if o.get("name") == rules.output), None)
        return found, f"no output named {rules.output!r}; the server answered {names}"
    if len(outputs) == 1:
        return outputs[0], ""
    for preferred in PREFERRED_NAMES:
        for output in outputs:
            if output.get("name") == preferred:
                return output, ""
    for output in outputs:
        if str(output.get("datatype", "")).upper() not in FLOAT_TYPES:
            return output, ""
    return None, f"{len(outputs)} outputs {names} and none is clearly the labels"


def _values(rules: AnswerRules, values: list[Any], what: str) -> str | None:
    if rules.rows is not None and len(values) != rules.rows:
        return f"{what} holds {len(values)} values for {rules.rows} rows"
    for row, value in enumerate(values):
        why = _value(rules, value)
        if why:
            return f"{what} value {_show(value)} {why} (row {row})"
    return None


def _value(rules: AnswerRules, value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, (bool, list, dict)):
        return "is not a prediction"
    if rules.task == REGRESSION:
        if isinstance(value, str) or not math.isfinite(float(value)):
            return "is not a finite number"
        return None
    if rules.task != CLASSIFICATION:
        return None
    if isinstance(value, str) and value in rules.labels:
        value = rules.labels.index(value)
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return "is not a class"
        value = int(value)
    if not rules.classes:
        return None
    if value in rules.classes:
        return None
    if isinstance(value, int) and all(isinstance(c, str) for c in rules.classes) and 0 <= value < len(rules.classes):
        return None  # an index into classes given as names
    return f"is not one of the classes {list(rules.classes)}"


def _flatten(data: Sequence[Any]) -> Any:
    for item in data:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def _scalar(value: Any) -> Any:
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."
