"""The model contract: what the model takes and returns, and the data it is judged on.

A :class:`ModelContract` holds the features (count, names, dtype, valid ranges), the task
(classification with its class labels, or regression), the labelled data, the golden cases and
the output to read. Every check reads it instead of assuming iris: ``predict.golden`` sends its
golden cases, ``predict.quality`` and ``predict.parity`` its data, the load its rows, the
robustness strategies its feature schema. :func:`harness.contract.resolve.resolve_contract`
builds it from a contract file, the ``model`` settings, the artifact and the data; with none of
them it is :data:`IRIS`, the built-in reference (the seed's golden case ``[1, 1]``).

Example:
    >>> IRIS.n_features, IRIS.task, IRIS.classes
    (4, 'classification', (0, 1, 2))
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.contract.golden import SEED_CASE, GoldenCase, iris_rows
from harness.contract.spec import DTYPES, NUMERIC_DTYPES, STRING_DTYPES
from harness.results import OMIT_EMPTY, _AsDict
from harness.signature import TensorSpec

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)


@dataclasses.dataclass(frozen=True)
class Feature(_AsDict):
    """One input feature: its name, dtype (``int``, ``float``; ``string`` or ``category`` for
    text), the range a numeric one takes (None: unknown) and the values a string one may take
    (empty: any string)."""

    name: str
    dtype: str = "float"
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = dataclasses.field(default=(), metadata={OMIT_EMPTY: True})  # left out of report.json when empty

    @property
    def is_string(self) -> bool:
        return self.dtype in STRING_DTYPES


@dataclasses.dataclass(frozen=True)
class LabelledData:
    """Rows (features in the contract's order) and their labels, and where they came from."""

    rows: tuple[tuple[Any, ...], ...]  # numbers, and strings in a string feature
    labels: tuple[Any, ...]
    feature_names: tuple[str, ...]
    source: str
    dtypes: tuple[str, ...] = ()  # per feature, as read: int, float or string (empty: all numbers)

    def __len__(self) -> int:
        return len(self.rows)


@dataclasses.dataclass(frozen=True)
class Thresholds(_AsDict):
    """What ``predict.quality`` demands: accuracy and recall of a classifier, MAE/RMSE/R² of a
    regressor (None: not judged)."""

    min_accuracy: float | None = None
    min_recall: float | None = None
    max_mae: float | None = None
    max_rmse: float | None = None
    min_r2: float | None = None


@dataclasses.dataclass(frozen=True)
class ContractSummary(_AsDict):
    """The contract as the run record keeps it (``report.json``'s ``contract``): the data summarised, not copied."""

    name: str
    task: str
    source: str
    features: tuple[Feature, ...] = ()
    classes: tuple[Any, ...] = ()
    golden_cases: int = 0
    data: str = ""
    rows: int = 0
    thresholds: Thresholds = Thresholds()


@dataclasses.dataclass(frozen=True)
class ModelContract(_AsDict):
    """What the model takes and returns, and how it is judged.

    Args:
        name: a short name for reports (``iris``, ``wine``).
        task: ``classification`` or ``regression``.
        features: the inputs in order (their count is what a request row holds).
        classes: the labels a classifier answers (empty for a regressor).
        golden: cases that must be answered exactly (a regressor's within the parity tolerance).
        data: the labelled rows; None for the built-in iris rows (loaded on first use).
        output: the V2 output to read the answers from (None: the reader chooses).
        thresholds: the quality the served model must reach.
        source: where the contract came from (``built-in iris``, a file, ``inferred from ...``).
        inputs: the contract's ``[[model.inputs]]`` (a signature source; empty: not given).
        codec: the contract's request codec, ``tensor`` or ``columns`` (None: not given).
    """

    name: str
    task: str
    features: tuple[Feature, ...]
    classes: tuple[Any, ...] = ()
    golden: tuple[GoldenCase, ...] = ()
    data: LabelledData | None = None
    output: str | None = None
    thresholds: Thresholds = Thresholds()
    source: str = "built-in iris"
    inputs: tuple[TensorSpec, ...] = ()
    codec: str | None = None

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def is_classifier(self) -> bool:
        return self.task == CLASSIFICATION

    def labelled(self) -> LabelledData:
        """The labelled data: the contract's file, else the 150 iris rows shipped with scikit-learn."""
        if self.data is not None:
            return self.data
        rows, labels = iris_rows()
        return LabelledData(rows, labels, self.feature_names, "scikit-learn's iris (150 rows)")

    @property
    def has_strings(self) -> bool:
        """Whether a feature is text (a per-column model: one input per feature)."""
        return any(f.is_string for f in self.features)

    def sample_rows(self, limit: int) -> tuple[tuple[Any, ...], ...]:
        """Up to ``limit`` request rows: the golden cases' first, then the data's (load payloads)."""
        golden = tuple(tuple(row) for case in self.golden for row in case.instances)
        return (golden + self.labelled().rows)[:limit]

    def summary(self) -> ContractSummary:
        """What the run record keeps of it."""
        data = self.data
        return ContractSummary(self.name, self.task, self.source, self.features, self.classes, len(self.golden),
                               data.source if data else "scikit-learn's iris", len(data) if data else 150, self.thresholds)

    def as_dict(self) -> dict[str, Any]:
        """The contract as the report shows it (the data summarised, not copied)."""
        return self.summary().as_dict()


IRIS_RANGES = {"sepal_length": (4.3, 7.9), "sepal_width": (2.0, 4.4), "petal_length": (1.0, 6.9), "petal_width": (0.1, 2.5)}

#: the built-in reference contract: today's iris runs, the seed's golden case first
IRIS = ModelContract(
    name="iris",
    task=CLASSIFICATION,
    features=tuple(Feature(name, "float", low, high) for name, (low, high) in IRIS_RANGES.items()),
    classes=(0, 1, 2),
    golden=(SEED_CASE,),
)

__all__ = ["CLASSIFICATION", "DTYPES", "IRIS", "NUMERIC_DTYPES", "REGRESSION", "STRING_DTYPES", "TASKS", "ContractSummary", "Feature", "LabelledData", "ModelContract", "Thresholds"]
