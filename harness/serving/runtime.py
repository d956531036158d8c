"""An sklearn runtime on KServe's own Python model server, with strict input validation.

Takes the same flags as KServe's sklearn server (``--model_name``, ``--model_dir``,
``--http_port``, plus every ``kserve.model_server`` flag), so what the local target
serves is what KServe serves. Differences, on purpose:

- input is validated before ``predict``: wrong shapes, non-numeric, boolean or non-finite
  values, empty or oversized batches and non-JSON bodies answer **400** with an
  ``{"error": ...}`` body (KServe's stock sklearn server answers 500 for most of them);
- per-request logging (uvicorn's access line, KServe's latency/trace lines) is off
  unless ``--log_requests true``: measured here at ~25% of the server's CPU.

Run: ``python -m harness.serving.runtime --model_name sklearn-iris --model_dir DIR --http_port N``
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import pathlib
from typing import Any

MODEL_FILENAMES = ("model.joblib", "model.pkl", "model.pickle")
DEFAULT_MAX_BATCH = 10_000


def find_model_file(model_dir: str) -> pathlib.Path:
    """The one model file in ``model_dir`` (or ``model_dir`` itself if it is a file)."""
    path = pathlib.Path(model_dir.removeprefix("file://"))
    if path.is_file():
        return path
    found = [path / name for name in MODEL_FILENAMES if (path / name).is_file()]
    if len(found) != 1:
        raise RuntimeError(
            f"expected exactly one of {', '.join(MODEL_FILENAMES)} in {path}, found {len(found)}"
        )
    return found[0]


def validate_rows(rows: Any, n_features: int, max_batch: int) -> list[list[float]]:
    """Rows as floats, or ValueError saying what is wrong with the input."""
    if not isinstance(rows, list):
        raise ValueError(f"expected a list of rows, got {type(rows).__name__}")
    if not rows:
        raise ValueError("empty batch: send at least one row")
    if len(rows) > max_batch:
        raise ValueError(f"batch of {len(rows)} rows exceeds the limit of {max_batch}")
    clean = []
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise ValueError(f"row {i}: expected a list of {n_features} numbers, got {type(row).__name__}")
        if len(row) != n_features:
            raise ValueError(f"row {i}: expected {n_features} features, got {len(row)}")
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"row {i}, feature {j}: expected a number, got {type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"row {i}, feature {j}: expected a finite number, got {value}")
        clean.append([float(v) for v in row])
    return clean


def _holds_bool(data: Any) -> bool:
    """Whether JSON tensor data holds a boolean (numpy would read ``true`` as 1.0)."""
    if isinstance(data, bool):
        return True
    return isinstance(data, list) and any(_holds_bool(v) for v in data)


def build_model(name: str, model_dir: str, max_batch: int) -> Any:
    """A ``kserve.Model`` serving the sklearn model in ``model_dir``."""
    import joblib
    import numpy as np
    from kserve import Model
    from kserve.errors import InferenceError, InvalidInput
    from kserve.protocol.infer_type import InferRequest
    from kserve.utils.utils import get_predict_response

    class ValidatingSKLearnModel(Model):
        def __init__(self) -> None:
            super().__init__(name)
            self.model_dir = model_dir
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
                if len(payload.inputs) != 1:
                    raise InvalidInput(f"expected 1 input tensor, got {len(payload.inputs)}")
                tensor = payload.inputs[0]
                if tensor.datatype not in ("FP32", "FP64", "INT32", "INT64", "INT16", "INT8"):
                    raise InvalidInput(f"expected a numeric tensor, got datatype {tensor.datatype}")
                if _holds_bool(tensor.data):
                    raise InvalidInput(f"expected numbers in a {tensor.datatype} tensor, got booleans")
                if len(tensor.shape) != 2:
                    raise InvalidInput(f"expected shape [N, {self.n_features}], got {tensor.shape}")
                try:
                    array = tensor.as_numpy()
                except Exception as exc:
                    raise InvalidInput(f"cannot read input tensor: {exc}") from exc
                rows: Any = array.tolist()
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
                return validate_rows(rows, self.n_features, max_batch)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None

        def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
            rows = self._rows(payload)
            try:
                result = self._model.predict(np.asarray(rows, dtype=np.float64))
            except Exception as exc:
                raise InferenceError(str(exc)) from exc
            return get_predict_response(payload, result, self.name)

    return ValidatingSKLearnModel()


def _quiet_request_logs() -> None:
    for name in ("uvicorn.access", "kserve.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(name).disabled = True


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--model_dir", required=True, help="Directory holding model.joblib.")
    parser.add_argument("--model_name", default="model")
    parser.add_argument("--log_requests", default="false", choices=("true", "false"))
    parser.add_argument("--max_batch_size", type=int, default=DEFAULT_MAX_BATCH)
    args, _ = parser.parse_known_args()

    import sys

    if args.log_requests == "false" and "--enable_latency_logging" not in sys.argv:
        sys.argv += ["--enable_latency_logging", "false"]
    if "--enable_grpc" not in sys.argv:
        sys.argv += ["--enable_grpc", "false"]
    os.environ.setdefault("PYTHONWARNINGS", "ignore")

    from kserve import ModelServer, model_server

    model = build_model(args.model_name, args.model_dir, args.max_batch_size)
    model.load()
    server = ModelServer()
    if args.log_requests == "false":
        original = server.setup_event_loop

        def setup_event_loop() -> None:
            original()
            _quiet_request_logs()

        server.setup_event_loop = setup_event_loop
    del model_server  # imported for its flag parsing, which reads sys.argv
    server.start([model])


if __name__ == "__main__":
    main()
