"""Golden cases: inputs and the exact answers they must get, and the seed's reference case.

Part of the model contract (its golden cases come first, then a ``golden_file``'s); the
``predict.golden`` check sends them, robustness builds on the seed rows.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any

from harness.contract.spec import check_golden_case
from harness.errors import ConfigError

# The seed's curl request and its answer: the reference case.
SEED_INSTANCES = ((6.8, 2.8, 4.8, 1.4), (6.0, 3.4, 4.5, 1.6))
SEED_PREDICTIONS = (1, 1)


@dataclasses.dataclass(frozen=True)
class GoldenCase:
    """Inputs and the exact outputs they must get."""

    instances: tuple[tuple[Any, ...], ...]  # numbers, and strings where a feature is text
    predictions: tuple[Any, ...]
    source: str = "seed"


SEED_CASE = GoldenCase(SEED_INSTANCES, SEED_PREDICTIONS, "seed")


def load_golden_file(path: str | Path) -> list[GoldenCase]:
    """Golden cases from JSON: ``[{"instances": [[...]], "predictions": [...]}, ...]``.

    A single object, or ``{"cases": [...]}``, is accepted too.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read golden cases from {file}: {exc}", "golden_file") from None
    if isinstance(data, dict):
        data = data.get("cases", [data])
    cases = []
    for i, case in enumerate(data if isinstance(data, list) else []):
        check_golden_case(case, i, str(file), "golden_file")  # lists, rows of finite numbers, one prediction per row
        cases.append(GoldenCase(tuple(tuple(r) for r in case["instances"]), tuple(case["predictions"]), f"{file.name}#{i}"))
    if not cases:
        raise ConfigError(f"{file} holds no golden cases", "golden_file")
    return cases


@cache
def iris_rows() -> tuple[tuple[tuple[float, ...], ...], tuple[int, ...]]:
    """All 150 labelled iris rows: ``iris.csv`` beside this module, scikit-learn's copy of the
    dataset (``sklearn/datasets/data/iris.csv``, 1.9.1), so validating an endpoint needs no
    scikit-learn installed. Its header row is ``150,4,setosa,versicolor,virginica``."""
    with (Path(__file__).parent / "iris.csv").open(newline="") as file:
        reader = csv.reader(file)
        next(reader)
        table = [row for row in reader if row]
    return tuple(tuple(float(v) for v in row[:4]) for row in table), tuple(int(row[4]) for row in table)
