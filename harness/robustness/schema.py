"""The feature schema the robustness checks generate from: the model contract's, not iris's.

Row width (so "the right and the wrong feature counts" are the model's), per-feature ranges
(in-range and out-of-range values for ``robustness.parity``) and the seed rows whose answers
are known (the contract's first golden case: the battery sends them before and after, and
builds its valid-but-unusual requests from them).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.contract.golden import SEED_INSTANCES, SEED_PREDICTIONS

Rows = tuple[tuple[Any, ...], ...]


@dataclasses.dataclass(frozen=True)
class FeatureSchema:
    """What a valid request row is.

    Args:
        seed: rows with known answers (at least one), all of the model's width.
        seed_predictions: their answers (None: unknown; the artifact or the server's plain
            answer is the reference then).
        ranges: (low, high) per feature, as the data takes them ((0, 0) for a text feature).
        values: per feature, the strings a text feature takes (its allowed values, else the
            data's); None for a numeric feature. All None: a numbers-only model.
    """

    seed: Rows
    seed_predictions: tuple[Any, ...] | None
    ranges: tuple[tuple[float, float], ...]
    values: tuple[tuple[str, ...] | None, ...] = ()

    @property
    def has_strings(self) -> bool:
        return any(v is not None for v in self.values)

    @property
    def width(self) -> int:
        return len(self.seed[0])

    @property
    def seed_row(self) -> list[float]:
        return list(self.seed[0])

    @classmethod
    def from_contract(cls, contract: Any) -> FeatureSchema:
        """From a :class:`~harness.contract.ModelContract`: its first golden case as the seed
        (else its first two data rows), ranges from its features (else from the data)."""
        if contract.golden:
            case = contract.golden[0]
            seed: Rows = tuple(tuple(v if isinstance(v, str) else float(v) for v in row) for row in case.instances)
            predictions: tuple[Any, ...] | None = tuple(case.predictions) if contract.is_classifier else None
        else:
            seed, predictions = contract.sample_rows(2), None
        rows = contract.labelled().rows
        ranges: list[tuple[float, float]] = []
        values: list[tuple[str, ...] | None] = []
        for j, feature in enumerate(contract.features):
            if feature.is_string:
                ranges.append((0.0, 0.0))
                values.append(tuple(feature.values) or tuple(sorted({str(r[j]) for r in rows})))
                continue
            low = feature.low if feature.low is not None else min(r[j] for r in rows)
            high = feature.high if feature.high is not None else max(r[j] for r in rows)
            ranges.append((float(low), float(high)))
            values.append(None)
        return cls(seed, predictions, tuple(ranges), tuple(values) if any(v is not None for v in values) else ())


#: iris, as the checks knew it before the contract: the seed's case, features within [0, 8] cm
IRIS_SCHEMA = FeatureSchema(
    tuple(tuple(float(v) for v in row) for row in SEED_INSTANCES), tuple(SEED_PREDICTIONS), ((0.0, 8.0),) * len(SEED_INSTANCES[0])
)
