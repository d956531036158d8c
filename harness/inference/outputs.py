"""Read a model's answers as the protocols define them, and compare them like with like.

V1 answers ``{"predictions": [...]}``. V2 (the Open Inference Protocol) answers
``{"outputs": [{"name", "shape", "datatype", "data"}, ...]}``: ``data`` may be flat (row-major)
or nested, a server may list several outputs (a probabilities tensor first, the labels
second), and labels may come as INT64, as integer-valued FP32/FP64, or as BYTES class names.
:class:`OutputReader` picks the output, flattens it to one value per row and turns each value
into a canonical label, so ``1``, ``1.0`` and ``"versicolor"`` (with
``labels=("setosa", "versicolor", "virginica")``) are the same answer.

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


class OutputError(ValueError):
    """An answer that cannot be read as one prediction per row; the message says why."""


@dataclasses.dataclass(frozen=True)
class OutputReader:
    """Which output to read, and how to name classes.

    Args:
        name: the V2 output to read; None picks one (see :meth:`choose`).
        labels: class names in index order; answers given as names or indices then compare
            alike. Empty: integer-valued numbers compare as integers, names as names.
    """

    name: str | None = None
    labels: tuple[str, ...] = ()

    # --- V1 ----------------------------------------------------------------------------------
    def v1(self, answer: Mapping[str, Any], rows: int | None = None) -> list[Any]:
        """The canonical predictions of a V1 answer (``predictions``: one value per row)."""
        predictions = answer.get("predictions")
        if not isinstance(predictions, list):
            raise OutputError("V1 answer has no 'predictions' list")
        values = [_scalar(p) for p in predictions]
        _check_rows(values, rows, "V1 'predictions'")
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
        outputs = answer.get("outputs")
        if not isinstance(outputs, list) or not outputs or not all(isinstance(o, Mapping) for o in outputs):
            raise OutputError("V2 answer has no 'outputs' list of tensors")
        output = self.choose(outputs)
        values = tensor_rows(output)
        _check_rows(values, rows, f"V2 output {output.get('name')!r}")
        return self.canonical(values)

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


def tensor_rows(output: Mapping[str, Any]) -> list[Any]:
    """One value per row of a V2 output tensor: flat or nested ``data``, shape ``[N]`` or
    ``[N, 1]`` (a wider second dimension is not one label per row)."""
    data = output.get("data")
    if not isinstance(data, list):
        raise OutputError(f"output {output.get('name')!r} has no 'data' list")
    flat = list(_flatten(data))
    shape = output.get("shape")
    if isinstance(shape, list) and shape and all(isinstance(d, int) and d >= 0 for d in shape):
        size = math.prod(shape)
        if size != len(flat):
            raise OutputError(f"output {output.get('name')!r}: shape {shape} holds {size} values, data has {len(flat)}")
        width = math.prod(shape[1:]) if len(shape) > 1 else 1
        if width != 1:
            raise OutputError(f"output {output.get('name')!r} has shape {shape}: {width} values per row, not one label")
    return [_scalar(v) for v in flat]


def _flatten(data: Sequence[Any]) -> Iterable[Any]:
    for item in data:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def _scalar(value: Any) -> Any:
    """``[1]`` -> ``1``: a one-element row is its value (``predictions: [[1], [1]]``)."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


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
