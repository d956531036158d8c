"""Read the labelled data a model is judged on: CSV, JSON lines or Parquet, with a label column.

pandas reads all three (Parquet through pyarrow, when installed). A feature column is numeric
(``int`` when every value is whole, else ``float``) or text (``string``: a column pandas reads as
text, or one the contract's ``dtypes`` declares ``string``/``category``, whose numbers are then
read as their text). A file that cannot be read, has no label column, holds a boolean column or
an empty cell is a :class:`~harness.errors.ConfigError` naming the ``data`` key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from harness.contract import CLASSIFICATION, REGRESSION, Feature, LabelledData
from harness.errors import ConfigError

#: an integer label column with at most this many distinct values reads as classes
MAX_INFERRED_CLASSES = 50
#: fewer labelled rows than this give no quality verdict ("accuracy 1.0000 on 1 labelled rows")
MIN_ROWS = 5
#: a text feature with at most this many distinct values in the data: they are its values (robustness draws from them)
MAX_CATEGORIES = 100


def _frame(path: Path) -> Any:
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson", ".json"):
            return pd.read_json(path, lines=suffix != ".json")
        if suffix in (".parquet", ".pq"):
            try:
                return pd.read_parquet(path)
            except ImportError:
                raise ConfigError(f"reading {path} needs pyarrow: pip install pyarrow (or give the data as CSV)", "data") from None
        return pd.read_csv(path)
    except ConfigError:
        raise
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {type(exc).__name__}: {exc}", "data") from None


@cache
def read_data(path: str, label_column: str, feature_names: tuple[str, ...] = (), text: tuple[str, ...] = ()) -> LabelledData:
    """The labelled rows of ``path`` (read once per arguments).

    Args:
        path: a ``.csv``, ``.jsonl``/``.ndjson`` (or ``.json`` records) or ``.parquet`` file.
        label_column: the column holding the label.
        feature_names: the feature columns, in order; empty: every other column, in file order.
        text: the features the contract declares text (read as strings even where they look like numbers).

    Raises:
        ConfigError: unreadable, empty, no such label or feature column, a boolean column, an empty cell.
    """
    import numpy as np  # lazy: heavy to import, only where a data file is read

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"data file {path!r} does not exist", "data")
    frame = _frame(file)
    columns = [str(c) for c in frame.columns]
    if label_column not in columns:
        raise ConfigError(f"{path} has no label column {label_column!r} (columns: {', '.join(columns)}); "
                          "name it with --label-column", "label_column")
    names = list(feature_names) or [c for c in columns if c != label_column]
    missing = [n for n in names if n not in columns]
    if missing:
        raise ConfigError(f"the contract's features {missing} are not columns of {path} (columns: {', '.join(columns)})", "data")
    if not names or frame.empty:
        raise ConfigError(f"{path} holds no feature columns or no rows", "data")
    features = frame[names]
    booleans = [n for n in names if _is_bool(features[n])]
    if booleans:
        raise ConfigError(f"feature column(s) {booleans} of {path} hold booleans: give them as 0/1 or as strings", "data")
    strings = [n for n in names if n in text or not _is_numeric(features[n])]
    for name in names:
        empty = features[name].isna().to_numpy().nonzero()[0]
        if len(empty):
            raise ConfigError(f"{path} has a nan or empty value in feature {name!r} (data row {int(empty[0]) + 1}; "
                              f"{len(empty)} such cell(s)): every request value must be given", "data")
    numeric = [n for n in names if n not in strings]
    if numeric:
        values = features[numeric].to_numpy(dtype=float)
        bad = [(r, c) for r, c in zip(*(~np.isfinite(values)).nonzero(), strict=True)]
        if bad:
            r, c = (int(v) for v in bad[0])
            raise ConfigError(f"{path} has an infinite value ({'-inf' if values[r, c] < 0 else 'inf'}) in feature {numeric[c]!r} "
                              f"(data row {r + 1}; {len(bad)} such cell(s)): a numeric feature takes finite numbers", "data")
    columns_out = [[_text(v) for v in features[n].tolist()] if n in strings else [float(v) for v in features[n].tolist()] for n in names]
    dtypes = tuple("string" if n in strings else _numeric_dtype(col) for n, col in zip(names, columns_out, strict=True))
    if len(frame) < MIN_ROWS:
        raise ConfigError(f"{path} holds {len(frame)} labelled row(s); a quality verdict needs at least {MIN_ROWS}", "data")
    rows = tuple(zip(*columns_out, strict=True))
    labels = tuple(_plain(v) for v in frame[label_column].tolist())
    return LabelledData(rows, labels, tuple(names), f"{path} ({len(rows)} rows, label {label_column!r})", dtypes)


def _is_numeric(series: Any) -> bool:
    import pandas as pd  # lazy: pandas is heavy to import

    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def _is_bool(series: Any) -> bool:
    import pandas as pd  # lazy: pandas is heavy to import

    return bool(pd.api.types.is_bool_dtype(series))


def _text(value: Any) -> str:
    """A text feature's value: numbers a contract declares text read as their text (``7``, not ``7.0``)."""
    value = _plain(value)
    return value if isinstance(value, str) else str(value)


def _numeric_dtype(column: Sequence[Any]) -> str:
    return "int" if all(v == int(v) for v in column) else "float"


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    return value


def infer_task(labels: Sequence[Any]) -> str:
    """``classification`` when the labels are names or few distinct whole numbers, else ``regression``."""
    if any(isinstance(v, str) for v in labels):
        return CLASSIFICATION
    if all(isinstance(v, int) for v in labels) and len(set(labels)) <= MAX_INFERRED_CLASSES:
        return CLASSIFICATION
    return REGRESSION


def infer_classes(labels: Sequence[Any]) -> tuple[Any, ...]:
    """The distinct labels, sorted (names and numbers apart)."""
    return tuple(sorted(set(labels), key=lambda v: (isinstance(v, str), v)))


def infer_features(data: LabelledData) -> tuple[Feature, ...]:
    """One feature per column: a numeric one with the range the data takes (``int`` if every
    value is whole), a text one with the values the data holds (up to :data:`MAX_CATEGORIES`)."""
    features = []
    for j, name in enumerate(data.feature_names):
        column = [row[j] for row in data.rows]
        dtype = data.dtypes[j] if data.dtypes else _numeric_dtype(column)
        if dtype == "string":
            seen = sorted(set(column))
            features.append(Feature(name, "string", values=tuple(seen) if len(seen) <= MAX_CATEGORIES else ()))
        else:
            features.append(Feature(name, dtype, min(column), max(column)))
    return tuple(features)
