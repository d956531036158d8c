"""The trained artifact, in process: where its file is, what it answers, when two answers agree.

The parity checks (``predict.parity``, ``robustness.parity``) hold the served model to these
answers; the contract is checked against the artifact (its classes, its task); the local
runtime finds the model file the same way.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import require_extra

if TYPE_CHECKING:
    from harness.inference.client import InferenceClient

MODEL_FILENAMES = ("model.joblib", "model.pkl", "model.pickle")


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


@cache
def load_model(path: str | Path) -> Any:
    """The sklearn model in a model directory (``model.joblib``) or file (loaded once per path)."""
    import joblib  # lazy: loading an artifact is rare, importing joblib is not free

    require_extra("local", "loading a model artifact", modules=("sklearn",))  # what unpickling it imports
    return joblib.load(find_model_file(str(path)))


def expected_answers(client: InferenceClient, model_path: Path, rows: Sequence[Sequence[float]]) -> list[Any]:
    """What the artifact answers in-process for ``rows``, as canonical labels."""
    import numpy as np  # lazy: only where an artifact answers

    model = load_model(model_path)
    sent = client.encoder.as_sent(rows)  # the numbers the server read (FP32 requests round them)
    return client.reader.canonical(v.item() if hasattr(v, "item") else v for v in model.predict(np.asarray(sent)))


def agree(expected: Sequence[Any], got: Sequence[Any], tolerance: float | None = None) -> bool:
    """Whether two answer lists are the same: exactly, or for numbers within ``tolerance``
    relative to ``max(1, |expected|)`` (a regressor's floats)."""
    if tolerance is None or len(expected) != len(got):
        return list(expected) == list(got)
    return all(within_tolerance(e, g, tolerance) for e, g in zip(expected, got, strict=True))


def within_tolerance(expected: Any, got: Any, tolerance: float) -> bool:
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(got, numbers) and not isinstance(got, bool):
        return abs(float(got) - float(expected)) <= tolerance * max(1.0, abs(float(expected)))
    return bool(expected == got)
