"""The robustness checks generate from the model contract's feature schema: for a 13-feature
model, a "wrong feature count" is never 13, valid-but-unusual rows are 13 wide, and the
parity strategy keeps each feature mostly within its range in the data."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.config import load_config
from harness.robustness.malformed import malformed_cases
from harness.robustness.parity import valid_batches
from harness.robustness.profiles import PROFILES
from harness.robustness.schema import IRIS_SCHEMA, FeatureSchema
from harness.robustness.strategies import strategies
from harness.robustness.unusual import unusual_cases
from harness.run.preflight import read_contract

from .helpers.example_models import WINE

BOTH = ("v1", "v2")
WINE_SCHEMA = FeatureSchema.from_contract(read_contract(load_config(cli={"contract": str(WINE / "contract.toml")}, env={})))


def widths(body: bytes | None, protocol: str) -> set[int]:
    data: Any = json.loads(body or b"")
    if protocol == "v1":
        return {len(r) for r in data["instances"] if isinstance(r, list)}
    return {data["inputs"][0]["shape"][1]}


def test_the_wine_schema_is_the_contracts() -> None:
    assert WINE_SCHEMA.width == 13 and WINE_SCHEMA.seed_predictions == (0, 1, 2) and len(WINE_SCHEMA.seed) == 3
    assert WINE_SCHEMA.ranges[12] == (278.0, 1680.0)  # proline, from the data
    assert IRIS_SCHEMA.width == 4 and IRIS_SCHEMA.seed_predictions == (1, 1)


def test_the_catalogue_is_built_around_the_models_width() -> None:
    cases = malformed_cases("wine", PROFILES["ci"], BOTH, WINE_SCHEMA.seed_row)
    wrong = [c for c in cases if c.category == "wrong_feature_count" and c.body and c.body.startswith(b"{")]
    assert wrong and all(13 not in widths(c.body, c.protocol) for c in wrong)
    unusual = unusual_cases("wine", PROFILES["ci"], BOTH, WINE_SCHEMA.seed)
    assert unusual and all(len(row) == 13 for c in unusual for row in (c.rows or ()))


@settings(max_examples=60, database=None, deadline=None)
@given(st.data())
def test_a_generated_wrong_feature_count_is_never_the_models(data: st.DataObject) -> None:
    protocol = data.draw(st.sampled_from(BOTH))
    width = data.draw(st.sampled_from((2, 8, 13)))  # 8: within the widths iris's strategy drew (0 to 12)
    request = data.draw(strategies("model", protocol, width)["wrong_feature_count"])
    assert width not in widths(request.body, protocol)


@settings(max_examples=30, database=None, deadline=None)
@given(valid_batches(4, WINE_SCHEMA))
def test_valid_batches_have_the_models_width(rows: list[list[float]]) -> None:
    assert rows and all(len(r) == 13 for r in rows)
