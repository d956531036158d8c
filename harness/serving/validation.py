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


def validate_columns(columns: Any, names: Any, max_batch: int) -> dict[str, list[Any]]:
    """A per-column request's columns (``{name: values}``) checked against the model's training
    column ``names``: every one given, no other, all of one length within ``max_batch``, each
    holding only strings or only finite numbers; else ValueError saying what is wrong."""
    if not isinstance(columns, dict):
        raise ValueError(f"expected named columns, got {type(columns).__name__}")
    missing = [n for n in names if n not in columns]
    extra = [n for n in columns if n not in names]
    if missing or extra:
        raise ValueError(f"expected the columns {list(names)}" + (f"; missing {missing}" if missing else "") + (f"; unknown {extra}" if extra else ""))
    lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
    if -1 in lengths:
        raise ValueError("every column must be a list of values")
    if len(lengths) != 1:
        raise ValueError(f"the columns have different lengths {sorted(lengths)}")
    size = lengths.pop()
    if size == 0:
        raise ValueError("empty batch: send at least one row")
    if size > max_batch:
        raise ValueError(f"batch of {size} rows exceeds the limit of {max_batch}")
    for name in names:
        values = columns[name]
        if all(isinstance(v, str) for v in values):
            continue
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"column {name!r}, row {i}: expected a number or a string (not mixed), got {type(v).__name__}")
            if not math.isfinite(v):
                raise ValueError(f"column {name!r}, row {i}: expected a finite number, got {v}")
    return {name: columns[name] for name in names}


def records_to_columns(records: Any) -> dict[str, list[Any]]:
    """Named rows (``[{"a": 1, "b": "x"}, ...]``) as columns; ValueError if they are not that."""
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise ValueError("expected named rows: a list of objects {column: value}")
    keys = list(records[0])
    if any(list(r) != keys and set(r) != set(keys) for r in records):
        raise ValueError("every named row must hold the same columns")
    return {k: [r[k] for r in records] for k in keys}
