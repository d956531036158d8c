"""The quality figures of answers against labels, one definition for ``predict.quality`` and the
release diff's ``diff.quality``: a classifier's accuracy and per-class recall, a regressor's
MAE, RMSE and R² (scikit-learn's definitions, without needing it installed).

Example:
    >>> classification_figures([0, 1, 1], [0, 1, 0], [0, 1])["accuracy"]
    0.6667
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def classification_figures(labels: Sequence[Any], answers: Sequence[Any], classes: Sequence[Any]) -> dict[str, Any]:
    """Accuracy, and recall per class (None for a class the data does not hold)."""
    correct = sum(int(a == y) for a, y in zip(answers, labels, strict=True))
    recall: dict[str, float | None] = {}
    for cls in classes:
        rows = [a for a, y in zip(answers, labels, strict=True) if y == cls]
        recall[str(cls)] = round(sum(int(a == cls) for a in rows) / len(rows), 4) if rows else None
    return {"accuracy": round(correct / len(labels), 4), "recall": recall}


def regression_figures(labels: Sequence[float], answers: Sequence[Any]) -> dict[str, float]:
    """MAE, RMSE and R² (scikit-learn's definitions, without needing it installed: R² is 1.0 for
    a perfect answer to constant labels and 0.0 for an imperfect one, as its ``force_finite``)."""
    import numpy as np

    truth, got = np.asarray(labels, dtype=float), np.asarray(answers, dtype=float)
    residual = float(np.sum((truth - got) ** 2))
    total = float(np.sum((truth - truth.mean()) ** 2))
    r2 = 1.0 - residual / total if total else (1.0 if residual == 0 else 0.0)
    if len(truth) < 2:  # scikit-learn: not defined for one sample
        r2 = math.nan
    return {"mae": round(float(np.mean(np.abs(truth - got))), 6), "rmse": round(math.sqrt(residual / len(truth)), 6),
            "r2": round(r2, 6)}
