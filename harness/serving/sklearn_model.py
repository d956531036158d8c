"""The kserve ``Model`` of the sklearn runtime, with strict input validation.

A model fitted on a DataFrame (``feature_names_in_``: a Pipeline whose ColumnTransformer picks
columns by name, strings among them) takes named columns, as KServe's stock sklearn server does
through ``kserve.utils.utils.get_predict_input`` (kserve 0.21.0): V2 with one input per column
and ``"parameters": {"content_type": "pd"}`` (BYTES as strings), V1 named rows
(``{"instances": [[{"island": "Dream", ...}, ...]]}``, or one ``{"column": [values]}`` object).
It is called with a DataFrame of those columns; anything else is a 400 saying what is wrong.

Importing this module imports kserve, whose ``model_server`` parses ``sys.argv`` on import:
:mod:`harness.serving.runtime` sets the flags up first, then imports it. The class lives at
module level so the multi-worker server can pickle it into its worker processes.
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
from kserve import Model
from kserve.errors import InferenceError, InvalidInput
from kserve.protocol.infer_type import InferRequest
from kserve.utils.utils import get_predict_response

from harness.contract.artifact import find_model_file
from harness.serving.validation import (
    DEFAULT_MAX_BATCH,
    holds_bool,
    records_to_columns,
    validate_columns,
    validate_rows,
)

NUMERIC_DATATYPES = ("FP32", "FP64", "INT32", "INT64", "INT16", "INT8")


class ValidatingSKLearnModel(Model):
    """KServe's sklearn model, answering 400 (``InvalidInput``) for any input it cannot take."""

    def __init__(self, name: str, model_dir: str, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        super().__init__(name)
        self.model_dir = model_dir
        self.max_batch = max_batch
        self._model: Any = None
        self.n_features = 0
        self.columns: list[str] = []

    def load(self) -> bool:
        self._model = joblib.load(find_model_file(self.model_dir))
        self.n_features = int(getattr(self._model, "n_features_in_", 0)) or 4
        names = getattr(self._model, "feature_names_in_", None)
        self.columns = [str(n) for n in names] if names is not None else []
        self.ready = True
        return True

    def _frame(self, payload: Any) -> Any:
        """A DataFrame of the training columns, from per-column V2 or named V1 rows."""
        import pandas as pd  # lazy: a dependency of KServe's server already, only needed here

        if isinstance(payload, InferRequest):
            columns: Any = {}
            for tensor in payload.inputs:
                if tensor.name in columns:
                    raise InvalidInput(f"input {tensor.name!r} given twice")
                data = tensor.data if isinstance(tensor.data, list) else []
                if tensor.datatype == "BYTES":
                    data = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in data]
                elif tensor.datatype not in NUMERIC_DATATYPES:
                    raise InvalidInput(f"input {tensor.name!r}: expected BYTES or a numeric datatype, got {tensor.datatype}")
                if len(tensor.shape) not in (1, 2) or tensor.shape[0] != len(data) or any(d != 1 for d in tensor.shape[1:]):
                    raise InvalidInput(f"input {tensor.name!r}: expected shape [N, 1] holding N values, got {tensor.shape} with {len(data)}")
                columns[tensor.name] = data
        else:
            instances = payload.get("instances", payload.get("inputs"))
            if not isinstance(instances, list) or not instances:
                raise InvalidInput('expected "instances": named rows [[{"column": value, ...}, ...]]')
            try:
                if len(instances) == 1 and isinstance(instances[0], dict) and all(isinstance(v, list) for v in instances[0].values()):
                    columns = instances[0]
                else:
                    records = instances[0] if len(instances) == 1 and isinstance(instances[0], list) else instances
                    columns = records_to_columns(records)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        try:
            valid = validate_columns(columns, self.columns, self.max_batch)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        return pd.DataFrame({n: pd.Series(v, dtype=object if all(isinstance(x, str) for x in v) else "float64") for n, v in valid.items()})

    def _rows(self, payload: Any) -> Any:
        if isinstance(payload, bytes | bytearray | str):
            raise InvalidInput("expected a JSON body sent with Content-Type: application/json")
        if not isinstance(payload, InferRequest | dict):
            raise InvalidInput(f"expected a JSON object, got {type(payload).__name__}")
        if self.columns and _named(payload):
            return self._frame(payload)
        if isinstance(payload, InferRequest):
            rows = self._tensor_rows(payload)
        elif isinstance(payload, dict):
            if "instances" in payload:
                rows = payload["instances"]
            elif "inputs" in payload:
                rows = payload["inputs"]
            else:
                raise InvalidInput('expected a JSON object with "instances": [[...], ...]')
        else:
            raise InvalidInput(f"expected a JSON object, got {type(payload).__name__}")
        try:
            return validate_rows(rows, self.n_features, self.max_batch)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None

    def _tensor_rows(self, payload: InferRequest) -> Any:
        if len(payload.inputs) != 1:
            raise InvalidInput(f"expected 1 input tensor, got {len(payload.inputs)}")
        tensor = payload.inputs[0]
        if tensor.datatype not in NUMERIC_DATATYPES:
            raise InvalidInput(f"expected a numeric tensor, got datatype {tensor.datatype}")
        if holds_bool(tensor.data):
            raise InvalidInput(f"expected numbers in a {tensor.datatype} tensor, got booleans")
        if len(tensor.shape) != 2 or any(d < 0 for d in tensor.shape):  # the V2 spec: unsigned dimensions
            raise InvalidInput(f"expected shape [N, {self.n_features}], got {tensor.shape}")
        try:
            return tensor.as_numpy().tolist()
        except Exception as exc:  # any decode failure is the client's input
            raise InvalidInput(f"cannot read input tensor: {exc}") from exc

    def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        rows = self._rows(payload)
        if not isinstance(rows, list):  # named columns of valid form: a value the model cannot take (a string where it scales numbers, a category it never saw) is the client's
            try:
                result = self._model.predict(rows)
            except (ValueError, TypeError) as exc:
                raise InvalidInput(f"the model cannot take these values: {exc}") from exc
            except Exception as exc:  # a model failure is a server error (500)
                raise InferenceError(str(exc)) from exc
            return get_predict_response(payload, result, self.name)
        try:
            result = self._model.predict(np.asarray(rows, dtype=np.float64))
        except Exception as exc:  # a model failure is a server error (500)
            raise InferenceError(str(exc)) from exc
        return get_predict_response(payload, result, self.name)


def _named(payload: Any) -> bool:
    """Whether a request names its columns: V2 with the pandas content type or more than one
    input, V1 whose instances are objects (or one list of objects)."""
    if isinstance(payload, InferRequest):
        parameters = payload.parameters or {}
        content = parameters.get("content_type")
        content = getattr(content, "string_param", content)
        return content == "pd" or len(payload.inputs) > 1
    instances = payload.get("instances", payload.get("inputs"))
    if not isinstance(instances, list) or not instances:
        return False
    first = instances[0]
    return isinstance(first, dict) or (isinstance(first, list) and bool(first) and isinstance(first[0], dict))
