"""Read a model's answers as the protocols define them, and compare them like with like.

V1 answers ``{"predictions": [...]}``. V2 (the Open Inference Protocol) answers
``{"outputs": [{"name", "shape", "datatype", "data"}, ...]}``: ``data`` may be flat (row-major)
or nested, a server may list several outputs (a probabilities tensor first, the labels
second), and labels may come as INT64, as integer-valued FP32/FP64, or as BYTES class names.
:class:`OutputReader` picks the output, flattens it to one value per row and turns each value
into a canonical label, so ``1``, ``1.0`` and ``"versicolor"`` (with
``labels=("setosa", "versicolor", "virginica")``) are the same answer.

The reader is strict: an answer outside the contract is not a prediction, and reading it
raises :class:`OutputError` naming the rows, so every reader of answers (the checks, the
robustness battery) counts it as wrong. Outside the contract are ``null``, a boolean, a list
or object where one value per row belongs (``[[[1]]]``: V1 allows ``1`` or ``[1]`` per row; V2
nested ``data`` must follow its ``shape``), a value the V2 ``datatype`` cannot hold (a
``BYTES`` output holding integers, an ``INT64`` one holding strings), a non-finite number, the
wrong number of predictions and, when the reader knows the contract (:meth:`OutputReader.for_contract`),
a class not in its ``classes`` or, for a regressor, anything but a finite number.

Spec: https://github.com/kserve/open-inference-protocol (``inference_response`` / tensor data:
"the tensor contents using a row-major order"; nested arrays are allowed in JSON).

Example:
    >>> reader = OutputReader(labels=("setosa", "versicolor", "virginica"))
    >>> reader.v2({"outputs": [{"name": "predict", "shape": [2, 1], "datatype": "BYTES",
    ...                          "data": [["versicolor"], ["versicolor"]]}]}, rows=2)
    [1, 1]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: output names that hold the predicted labels by convention, tried in this order when the
#: server lists several outputs and none was chosen (KServe's sklearn server and MLServer
#: name theirs "predict" / "output-0")
PREFERRED_NAMES = ("predict", "output-0", "label", "labels", "predictions")
FLOAT_TYPES = frozenset({"FP16", "FP32", "FP64", "BF16"})
INT_TYPES = frozenset({"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"})
SHOWN = 3  # rows named in an error; the count says how many there are


class OutputError(ValueError):
    """An answer that cannot be read as one prediction per row; the message says why."""


@dataclasses.dataclass(frozen=True)
class OutputReader:
    """Which output to read, how to name classes, and which answers the contract allows.

    Args:
        name: the V2 output to read; None picks one (see :meth:`choose`).
        labels: class names in index order; answers given as names or indices then compare
            alike. Empty: integer-valued numbers compare as integers, names as names.
        classes: the contract's classes (a classifier's): an answer that is none of them
            is not a prediction. Empty: any single value of a plain type is read.
        regression: the contract's task is regression: answers must be finite numbers.
    """

    name: str | None = None
    labels: tuple[str, ...] = ()
    classes: tuple[Any, ...] = ()
    regression: bool = False

    def for_contract(self, contract: Any) -> OutputReader:
        """This reader, judging answers by a :class:`~harness.contract.ModelContract`'s task and classes."""
        if contract.is_classifier:
            return dataclasses.replace(self, classes=tuple(contract.classes), regression=False)
        return dataclasses.replace(self, classes=(), regression=True)

    # --- V1 ----------------------------------------------------------------------------------
    def v1(self, answer: Mapping[str, Any], rows: int | None = None) -> list[Any]:
        """The canonical predictions of a V1 answer (``predictions``: one value per row, or a
        one-element list per row)."""
        predictions = answer.get("predictions") if isinstance(answer, Mapping) else None
        if not isinstance(predictions, list):
            raise OutputError("V1 answer has no 'predictions' list")
        what = "V1 'predictions'"
        _check_rows(predictions, rows, what)
        values = [p[0] if isinstance(p, list) and len(p) == 1 else p for p in predictions]
        self._check_values(values, what, raw=predictions)
        return self.canonical(values)

    # --- V2 ----------------------------------------------------------------------------------
    def choose(self, outputs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
        """The output to read: the named one, the only one, a conventional name, else the first
        non-float one (labels, not probabilities)."""
        names = [str(o.get("name")) for o in outputs]
        if self.name is not None:
            for output in outputs:
                if output.get("name") == self.name:
                    return output
            raise OutputError(f"no output named {self.name!r}; the server answered {names} (set output_name)")
        if len(outputs) == 1:
            return outputs[0]
        for preferred in PREFERRED_NAMES:
            for output in outputs:
                if output.get("name") == preferred:
                    return output
        for output in outputs:
            if str(output.get("datatype", "")).upper() not in FLOAT_TYPES:
                return output
        raise OutputError(f"{len(outputs)} outputs {names} and none is clearly the labels: choose one with output_name")

    def v2(self, answer: Mapping[str, Any], rows: int | None = None) -> list[Any]:
        """The canonical predictions of a V2 answer, one per row."""
        outputs = answer.get("outputs") if isinstance(answer, Mapping) else None
        if not isinstance(outputs, list) or not outputs or not all(isinstance(o, Mapping) for o in outputs):
            raise OutputError("V2 answer has no 'outputs' list of tensors")
        output = self.choose(outputs)
        what = f"V2 output {output.get('name')!r}"
        values = tensor_rows(output)
        _check_rows(values, rows, what)
        self._check_values(values, what, datatype=str(output.get("datatype") or "").upper())
        return self.canonical(values)

    # --- what the contract allows ------------------------------------------------------------
    def problem(self, value: Any, datatype: str = "") -> str | None:
        """Why ``value`` (one row's answer, as the server sent it) is not a prediction the
        contract allows, or None. ``datatype``: the V2 output's, whose type it must have."""
        shown = _show(value)
        if value is None:
            return "null is not a prediction"
        if isinstance(value, bool) and not any(isinstance(c, bool) for c in self.classes):
            return f"{shown}: a boolean is not a prediction"
        if isinstance(value, list | dict | tuple):
            return f"{shown}: not one value for the row (wrong nesting or shape)"
        if not isinstance(value, str | bytes | int | float):
            return f"{shown}: not a number or a class name"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{shown}: not a finite number"
        typed = _datatype_problem(value, datatype)
        if typed:
            return f"{shown}: {typed}"
        if self.regression and not isinstance(value, int | float):
            return f"{shown}: a regressor answers numbers"
        if self.classes:
            allowed = self.canonical(self.classes)
            if self._one(value) not in allowed:
                return f"{shown}: not one of the contract's classes {list(self.classes)}"
        return None

    def outside(self, values: Sequence[Any], datatype: str = "") -> list[tuple[int, str]]:
        """(row, why) for each value that is not a prediction the contract allows."""
        found = []
        for i, value in enumerate(values):
            why = self.problem(value, datatype)
            if why is not None:
                found.append((i, why))
        return found

    def _check_values(self, values: Sequence[Any], what: str, datatype: str = "", raw: Sequence[Any] | None = None) -> None:
        bad = self.outside(values, datatype)
        if raw is not None:  # V1: a row nested deeper than [value] shows as sent
            bad = [(i, why.replace(_show(values[i]), _show(raw[i]), 1)) for i, why in bad]
        if bad:
            shown = "; ".join(f"row {i}: {why}" for i, why in bad[:SHOWN]) + (" ..." if len(bad) > SHOWN else "")
            raise OutputError(f"{what}: {len(bad)} of {len(values)} answers are not predictions the contract allows: {shown}")

    # --- labels ------------------------------------------------------------------------------
    def canonical(self, values: Iterable[Any]) -> list[Any]:
        """Each value as a canonical label: an index when it names a known class or is an
        integer-valued number; other values as they are (so a difference still shows)."""
        return [self._one(v) for v in values]

    def _one(self, value: Any) -> Any:
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, str):
            if value in self.labels:
                return self.labels.index(value)
            return value
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value) and value == int(value):
            return int(value)
        return value


def _datatype_problem(value: Any, datatype: str) -> str | None:
    """Why a V2 output of ``datatype`` cannot hold ``value`` (None: it can, or the datatype is unknown)."""
    if datatype == "BYTES" and not isinstance(value, str | bytes):
        return "a BYTES output holds strings"
    if datatype in INT_TYPES and not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        return f"an {datatype} output holds integers"
    if datatype in FLOAT_TYPES and not isinstance(value, int | float):
        return f"an {datatype} output holds numbers"
    if datatype == "BOOL" and not isinstance(value, bool):
        return "a BOOL output holds booleans"
    return None


def _show(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def tensor_rows(output: Mapping[str, Any]) -> list[Any]:
    """One value per row of a V2 output tensor: flat or nested ``data``, shape ``[N]`` or
    ``[N, 1]`` (a wider second dimension is not one label per row). Nested ``data`` must
    follow the shape (``[[1], [1]]`` for ``[2, 1]``); a value nested deeper stays a list, which
    the reader rejects."""
    data = output.get("data")
    name = output.get("name")
    if not isinstance(data, list):
        raise OutputError(f"output {name!r} has no 'data' list")
    raw_shape = output.get("shape")
    shape: list[int] | None = None
    if isinstance(raw_shape, list) and raw_shape and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in raw_shape):
        shape = raw_shape
    nested = any(isinstance(item, list) for item in data)
    if shape is not None and nested:
        flat = _follow(data, shape, name)
    elif nested:  # no usable shape: one value, or one one-element list, per row
        flat = [item[0] if isinstance(item, list) and len(item) == 1 else item for item in data]
    else:
        flat = list(data)
    if shape is not None:
        size = math.prod(shape)
        if size != len(flat):
            raise OutputError(f"output {name!r}: shape {shape} holds {size} values, data has {len(flat)}")
        width = math.prod(shape[1:]) if len(shape) > 1 else 1
        if width != 1:
            raise OutputError(f"output {name!r} has shape {shape}: {width} values per row, not one label")
    return flat


def _follow(data: list[Any], shape: list[int], name: Any) -> list[Any]:
    """Nested ``data`` read along ``shape``, row-major; a list where a value belongs is kept
    (the reader names it), a shape the nesting does not follow is an error."""
    if len(data) != shape[0]:
        raise OutputError(f"output {name!r}: nested data of {len(data)} items does not follow shape {shape}")
    if len(shape) == 1:
        return list(data)
    flat: list[Any] = []
    for item in data:
        if not isinstance(item, list):
            raise OutputError(f"output {name!r}: nested data does not follow shape {shape} ({_show(item)} where a list of {shape[1]} belongs)")
        flat.extend(_follow(item, shape[1:], name))
    return flat


def _check_rows(values: Sequence[Any], rows: int | None, what: str) -> None:
    if rows is not None and len(values) != rows:
        raise OutputError(f"{what} holds {len(values)} values for {rows} rows")


def labels_of(model: Any) -> tuple[str, ...]:
    """Class names of a fitted classifier whose ``classes_`` are names (not 0..n-1 indices)."""
    classes = getattr(model, "classes_", None)
    if classes is None:
        return ()
    values = [c.item() if hasattr(c, "item") else c for c in classes]
    if all(isinstance(c, str) for c in values):
        return tuple(values)
    return ()
