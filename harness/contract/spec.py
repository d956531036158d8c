"""A contract file's values, checked like the same settings given as flags.

Every key of a contract file that is also a setting (``task``, ``features``, ``label_column``,
the thresholds ``min_accuracy`` ...) goes through that setting's parser and allowed values
(:func:`harness.config.sources.parse_value`): ``min_accuracy = nan``, ``"high"``, ``-1``,
``true`` or ``1.5`` is the same one-line error as ``--min-accuracy nan``, naming the file and
the key. The keys only a contract file has are checked for their types here: ``classes`` and
``feature_names`` are arrays, ``ranges`` a table of ``[low, high]`` pairs of finite numbers,
``dtypes`` a table of ``"int"``, ``"float"``, ``"string"`` or ``"category"``, ``values`` a table
of arrays of allowed strings, ``inputs`` an array of tables ``{name, datatype, shape}``, ``codec``
``"tensor"`` or ``"columns"``, ``golden`` an array of tables whose rows are arrays of numbers and
strings (which feature may hold a string is checked once the features are known:
:func:`check_row_types`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.config.settings import BY_KEY
from harness.config.sources import parse_value
from harness.errors import ConfigError

#: contract keys that are settings too: parsed by the setting's parser
SETTING_KEYS = ("task", "features", "label_column", "data", "min_accuracy", "min_recall", "max_mae", "max_rmse", "min_r2")
STRING_KEYS = ("name", "output", "data", "label_column")
#: the dtypes a feature may have: numbers, or text (``category``: one of its allowed values)
NUMERIC_DTYPES = ("int", "float")
STRING_DTYPES = ("string", "category")
DTYPES = NUMERIC_DTYPES + STRING_DTYPES
CODECS = ("tensor", "columns")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _table(spec: Mapping[str, Any], key: str, example: str, source: str) -> list[tuple[str, Any]]:
    """The entries of the table ``spec[key]`` (none when absent); a ConfigError when it is not a table."""
    if key not in spec:
        return []
    table = spec[key]
    if not isinstance(table, Mapping):
        raise ConfigError(f"expected a table like {example}, got {table!r} (from {source})", key)
    return list(table.items())


def check_spec(spec: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``spec`` with every setting-like value parsed; a ConfigError naming ``path`` and the key."""
    source = f"contract file {path}"
    out = dict(spec)
    for key in STRING_KEYS:
        if key in spec and not isinstance(spec[key], str):
            raise ConfigError(f"expected a string, got {spec[key]!r} (from {source})", key)
    for key in SETTING_KEYS:
        if key in spec:
            out[key] = parse_value(BY_KEY[key], spec[key], source)
    for key in ("classes", "feature_names"):
        if key in spec:
            value = spec[key]
            if not isinstance(value, list) or not value:
                raise ConfigError(f"expected a non-empty array like [\"a\", \"b\"], got {value!r} (from {source})", key)
            bad = [v for v in value if not isinstance(v, str | int) or isinstance(v, bool)]
            if bad:
                raise ConfigError(f"expected names or whole numbers, got {bad[0]!r} (from {source})", key)
            if len({str(v) for v in value}) != len(value):
                raise ConfigError(f"the {key} must be distinct, got {value!r} (from {source})", key)
    for name, pair in _table(spec, "ranges", "{ alcohol = [11.0, 14.9] }", source):
        if not (isinstance(pair, list) and len(pair) == 2 and all(_finite(v) for v in pair)) or pair[0] > pair[1]:
            raise ConfigError(f"the range of {name!r} must be [low, high], two finite numbers with low <= high, "
                              f"got {pair!r} (from {source})", "ranges")
    for name, dtype in _table(spec, "dtypes", "{ island = \"category\", mass = \"float\" }", source):
        if dtype not in DTYPES:
            raise ConfigError(f"the dtype of {name!r} is {dtype!r}, not one of {', '.join(DTYPES)} (from {source})", "dtypes")
    for name, allowed in _table(spec, "values", "{ island = [\"Biscoe\", \"Dream\"] }", source):
        if not (isinstance(allowed, list) and allowed and all(isinstance(v, str) for v in allowed)):
            raise ConfigError(f"the allowed values of {name!r} must be a non-empty array of strings, got {allowed!r} (from {source})", "values")
    if "codec" in spec and spec["codec"] not in CODECS:
        raise ConfigError(f"codec must be one of {', '.join(CODECS)}, got {spec['codec']!r} (from {source})", "codec")
    if "inputs" in spec:
        inputs = spec["inputs"]
        ok = isinstance(inputs, list) and inputs and all(
            isinstance(t, Mapping) and isinstance(t.get("name"), str) and isinstance(t.get("datatype"), str)
            and isinstance(t.get("shape", []), list) and all(isinstance(d, int) and not isinstance(d, bool) for d in t.get("shape", []))
            for t in inputs)
        if not ok:
            raise ConfigError(f"expected [[model.inputs]] tables with name, datatype and shape (e.g. name = \"island\", "
                              f"datatype = \"BYTES\", shape = [-1, 1]), got {inputs!r} (from {source})", "inputs")
    if "golden" in spec:
        golden = spec["golden"]
        if not isinstance(golden, list):
            raise ConfigError(f"expected an array of tables [[golden]] with instances and predictions, got {golden!r} (from {source})", "golden")
        for i, case in enumerate(golden):
            check_golden_case(case, i, source, "golden")
    return out


def check_golden_case(case: Any, i: int, source: str, key: str, width: int | None = None) -> None:
    """A golden case is a table of ``instances`` (rows of finite numbers and strings, all ``width``
    wide) and as many ``predictions``."""
    if not isinstance(case, Mapping) or not isinstance(case.get("instances"), list) or not isinstance(case.get("predictions"), list):
        raise ConfigError(f"golden case {i} in {source} needs 'instances' and 'predictions' lists", key)
    rows = case["instances"]
    if len(rows) != len(case["predictions"]):
        raise ConfigError(f"golden case {i} in {source}: {len(rows)} instances but {len(case['predictions'])} predictions", key)
    for j, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise ConfigError(f"golden case {i} in {source}: instance {j} is not a row of numbers and strings: {row!r}", key)
        bad = next((v for v in row if not _finite(v) and not isinstance(v, str)), None)
        if bad is not None:
            raise ConfigError(f"golden case {i} in {source}: instance {j} holds {bad!r}, not a finite number or a string", key)
        if width is not None and len(row) != width:
            raise ConfigError(f"golden case {i} in {source}: instance {j} has {len(row)} values, the model takes {width} features", key)


def check_row_types(row: Any, features: Any, where: str, key: str) -> None:
    """Each value of ``row`` is what its feature takes: a finite number for a numeric feature, a
    string for a text one, one of a feature's allowed ``values`` where it has them.

    Raises:
        ConfigError: one line naming ``where``, the feature and the value.
    """
    for value, feature in zip(row, features, strict=False):
        if feature.is_string:
            if not isinstance(value, str):
                raise ConfigError(f"{where} holds {value!r} for feature {feature.name!r}, a {feature.dtype} feature: give it as a string", key)
            if feature.values and value not in feature.values:
                raise ConfigError(f"{where} holds {value!r} for feature {feature.name!r}, not one of its allowed values "
                                  f"{list(feature.values)}", key)
        elif not _finite(value):
            raise ConfigError(f"{where} holds {value!r} for feature {feature.name!r}, a numeric ({feature.dtype}) feature", key)
