"""Candidates for the release diff's foreign tests, served by the harness's local KServe server
from the same model file the live side serves (tests/foreign/test_diff_foreign.py).

- :func:`train_tenth_off`: a 1-nearest-neighbour model that answers the reference model's
  answer on every iris row, except every 10th row, one class off (about 10 % of the labelled rows).
- :func:`train_slow`: the reference model behind a step that sleeps ``DELAY_S`` per request
  (a ``FunctionTransformer`` of :func:`sleep_then_pass`: the server process must import this
  module, so it runs with the repository on ``PYTHONPATH``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

DELAY_S = 0.040


def sleep_then_pass(x: Any) -> Any:
    """The slow candidate's first step: wait ``DELAY_S``, change nothing."""
    time.sleep(DELAY_S)
    return x


def train_tenth_off(out_dir: Path, reference: Path) -> Path:
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.neighbors import KNeighborsClassifier

    x = load_iris().data
    answers = joblib.load(reference / "model.joblib").predict(x)
    shifted = [(int(a) + 1) % 3 if i % 10 == 0 else int(a) for i, a in enumerate(answers)]
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(KNeighborsClassifier(n_neighbors=1).fit(x, shifted), out_dir / "model.joblib")
    return out_dir


def train_slow(out_dir: Path, reference: Path) -> Path:
    import joblib
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    model = Pipeline([("delay", FunctionTransformer(sleep_then_pass)), ("model", joblib.load(reference / "model.joblib"))])
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out_dir / "model.joblib")
    return out_dir
