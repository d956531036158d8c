"""The kserve ``Model`` of the sklearn runtime, with strict input validation.

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
from harness.serving.validation import DEFAULT_MAX_BATCH, holds_bool, validate_rows

NUMERIC_DATATYPES = ("FP32", "FP64", "INT32", "INT64", "INT16", "INT8")


class ValidatingSKLearnModel(Model):
    """KServe's sklearn model, answering 400 (``InvalidInput``) for any input it cannot take."""

    def __init__(self, name: str, model_dir: str, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        super().__init__(name)
        self.model_dir = model_dir
        self.max_batch = max_batch
        self._model: Any = None
        self.n_features = 0

    def load(self) -> bool:
        self._model = joblib.load(find_model_file(self.model_dir))
        self.n_features = int(getattr(self._model, "n_features_in_", 0)) or 4
        self.ready = True
        return True

    def _rows(self, payload: Any) -> list[list[float]]:
        if isinstance(payload, bytes | bytearray | str):
            raise InvalidInput("expected a JSON body sent with Content-Type: application/json")
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
        try:
            result = self._model.predict(np.asarray(rows, dtype=np.float64))
        except Exception as exc:  # a model failure is a server error (500)
            raise InferenceError(str(exc)) from exc
        return get_predict_response(payload, result, self.name)
