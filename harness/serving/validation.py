"""Input validation and model lookup of the sklearn runtime: pure Python, no kserve.

Kept apart from :mod:`harness.serving.runtime` so the harness (parity checks, tests) can use
them without importing KServe's server.
"""

from __future__ import annotations

import math
from typing import Any

DEFAULT_MAX_BATCH = 10_000


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


def holds_bool(data: Any) -> bool:
    """Whether JSON tensor data holds a boolean (numpy would read ``true`` as 1.0).

    Iterative: data nested hundreds of lists deep (a malformed request) must not exhaust the
    stack; a recursive walk answered 500 at depth ~500 and dropped the connection at ~900.
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            return True
        if isinstance(item, list):
            stack.extend(item)
    return False
