"""A contract file's values, checked like the same settings given as flags.

Every key of a contract file that is also a setting (``task``, ``features``, ``label_column``,
the thresholds ``min_accuracy`` ...) goes through that setting's parser and allowed values
(:func:`harness.config.sources.parse_value`): ``min_accuracy = nan``, ``"high"``, ``-1``,
``true`` or ``1.5`` is the same one-line error as ``--min-accuracy nan``, naming the file and
the key. The keys only a contract file has are checked for their types here: ``classes`` and
``feature_names`` are arrays, ``ranges`` a table of ``[low, high]`` pairs of finite numbers,
``dtypes`` a table of ``"int"`` or ``"float"``, ``golden`` an array of tables whose rows are
arrays of numbers.
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
DTYPES = ("int", "float")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
    if "ranges" in spec:
        ranges = spec["ranges"]
        if not isinstance(ranges, Mapping):
            raise ConfigError(f"expected a table like {{ alcohol = [11.0, 14.9] }}, got {ranges!r} (from {source})", "ranges")
        for name, pair in ranges.items():
            if not (isinstance(pair, list) and len(pair) == 2 and all(_finite(v) for v in pair)) or pair[0] > pair[1]:
                raise ConfigError(f"the range of {name!r} must be [low, high], two finite numbers with low <= high, "
                                  f"got {pair!r} (from {source})", "ranges")
    if "dtypes" in spec:
        dtypes = spec["dtypes"]
        if not isinstance(dtypes, Mapping) or any(v not in DTYPES for v in dtypes.values()):
            raise ConfigError(f"expected a table of \"int\" or \"float\", got {dtypes!r} (from {source})", "dtypes")
    if "golden" in spec:
        golden = spec["golden"]
        if not isinstance(golden, list):
            raise ConfigError(f"expected an array of tables [[golden]] with instances and predictions, got {golden!r} (from {source})", "golden")
        for i, case in enumerate(golden):
            check_golden_case(case, i, source, "golden")
    return out


def check_golden_case(case: Any, i: int, source: str, key: str, width: int | None = None) -> None:
    """A golden case is a table of ``instances`` (rows of finite numbers, all ``width`` wide)
    and as many ``predictions``."""
    if not isinstance(case, Mapping) or not isinstance(case.get("instances"), list) or not isinstance(case.get("predictions"), list):
        raise ConfigError(f"golden case {i} in {source} needs 'instances' and 'predictions' lists", key)
    rows = case["instances"]
    if len(rows) != len(case["predictions"]):
        raise ConfigError(f"golden case {i} in {source}: {len(rows)} instances but {len(case['predictions'])} predictions", key)
    for j, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise ConfigError(f"golden case {i} in {source}: instance {j} is not a row of numbers: {row!r}", key)
        bad = next((v for v in row if not _finite(v)), None)
        if bad is not None or any(not _finite(v) for v in row):
            raise ConfigError(f"golden case {i} in {source}: instance {j} holds {bad!r}, not a finite number", key)
        if width is not None and len(row) != width:
            raise ConfigError(f"golden case {i} in {source}: instance {j} has {len(row)} values, the model takes {width} features", key)
