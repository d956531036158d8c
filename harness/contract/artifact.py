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
from harness.inference.outputs import labels_of

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


def artifact_labels(model_path: str | Path | None) -> tuple[str, ...]:
    """Class names of the artifact's classifier, if its classes are names (else none, also for
    an artifact that does not load: that is ``predict.parity``'s failure to report, not this one's)."""
    if model_path is None:
        return ()
    try:
        return labels_of(load_model(model_path))
    except Exception:  # noqa: BLE001 - see above
        return ()


def expected_answers(client: InferenceClient, model_path: Path, rows: Sequence[Sequence[Any]]) -> list[Any]:
    """What the artifact answers in-process for ``rows``, as canonical labels."""
    model = load_model(model_path)
    sent = client.encoder.as_sent(rows)  # the numbers the server read (FP32 requests round them)
    return client.reader.canonical(v.item() if hasattr(v, "item") else v for v in model.predict(model_input(model, sent, client.encoder.signature)))


def model_input(model: Any, rows: Sequence[Sequence[Any]], signature: Any = None) -> Any:
    """What the artifact is called with in-process: a pandas DataFrame with its training column
    names (``feature_names_in_``) when it has them, typed as the per-column requests type each
    column (else numbers as float64, text as strings); else an array of the rows."""
    import numpy as np  # lazy: only where an artifact answers

    from harness.inference.encoder import (
        FRAME_DTYPES,  # lazy: the encoder's table, only where an artifact answers
    )

    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return np.asarray(rows)
    import pandas as pd  # lazy: pandas is heavy to import

    names = [str(n) for n in names]
    specs = {t.name: t.datatype for t in signature.inputs} if signature is not None and signature.codec == "columns" else {}
    order = list(specs) if set(specs) == set(names) else names  # the rows are in the requests' column order
    columns = {}
    for name in names:
        j = order.index(name)
        column = [row[j] for row in rows]
        dtype = FRAME_DTYPES.get(specs.get(name, ""), "object" if any(isinstance(v, str) for v in column) else "float64")
        columns[name] = pd.Series(column, dtype=dtype)
    return pd.DataFrame(columns, columns=names)


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
