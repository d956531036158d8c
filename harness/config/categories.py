"""The request categories of ``robustness.bad_inputs``: what each covers and what it must get.

Two kinds, judged differently:

- ``malformed``: a request no server can answer with a prediction (not JSON, a tensor whose
  data does not fit its shape, a string where a number belongs...). It must get a **4xx with
  an error body**; a 5xx is a finding, as API fuzzers such as Schemathesis treat any 5xx, and
  so is an accepted 2xx. A wrong HTTP method expects 405; any 4xx passes.
- ``unusual``: a *valid* request that a server may serve or decline (a very large batch or
  body, V2 values the server may coerce, a JSON body with a missing or odd Content-Type). A
  2xx must carry the right predictions; a 4xx (413, 415, 422...) is a fair refusal. It fails
  only on a 5xx, a hang, a dead server or wrong predictions.

Each category is tried over the protocols the server speaks that it applies to. This module
imports nothing heavy: the config validates accepted-findings files against it
(:mod:`harness.config.accepted`), so it lives in the config's layer; the battery
(:mod:`harness.robustness.battery`) sends them.
"""

from __future__ import annotations

import dataclasses

MALFORMED = "malformed"
UNUSUAL = "unusual"
BOTH = ("v1", "v2")


@dataclasses.dataclass(frozen=True)
class Category:
    """One category: its kind, the protocols it is sent over and what it covers."""

    name: str
    kind: str
    protocols: tuple[str, ...]
    covers: str
    codecs: tuple[str, ...] = ("tensor", "columns")  # the request codecs it applies to (harness.signature)

    @property
    def expects(self) -> str:
        """The expected answer, in words (for messages and docs)."""
        if self.kind == UNUSUAL:
            return "a 2xx with the right predictions, or a 4xx"
        if self.name == "wrong_method":
            return "405 (any 4xx passes)"
        return "a 4xx with an error body"


def _c(name: str, kind: str, covers: str, protocols: tuple[str, ...] = BOTH, codecs: tuple[str, ...] = ("tensor", "columns")) -> Category:
    return Category(name, kind, protocols, covers, codecs)


# in report order: malformed first, then the valid-but-unusual ones
CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        _c("invalid_json", MALFORMED, "bodies that are not JSON (truncated, empty, not UTF-8)"),
        _c("wrong_top_level", MALFORMED, "JSON that is not an object with 'instances' (V1) or 'inputs' (V2)"),
        _c("instances_not_list", MALFORMED, "'instances' (V1) or 'inputs' (V2) that is not a list of rows or tensors"),
        _c("ragged_rows", MALFORMED, "rows of different lengths"),
        _c("wrong_feature_count", MALFORMED, "rows (V1) or a tensor shape (V2) with the wrong number of features"),
        _c("strings", MALFORMED, "strings where numbers belong (V2: strings that are not numbers)"),
        _c("booleans", MALFORMED, "booleans where numbers belong (V1; in V2 they are coercible)", ("v1",)),
        _c("nulls", MALFORMED, "null where numbers, rows or tensor data belong"),
        _c("non_finite", MALFORMED, "NaN / Infinity tokens and overflowing numbers"),
        _c("empty_batch", MALFORMED, "no rows at all"),
        _c("deep_nesting", MALFORMED, "deeply nested lists"),
        _c("content_type", MALFORMED, "bodies that are not JSON, sent as text, XML, form or octet-stream"),
        _c("unknown_model", MALFORMED, "a model name that is not served"),
        _c("wrong_method", MALFORMED, "GET, PUT, DELETE or PATCH on the inference path"),
        _c("bad_tensor", MALFORMED, "V2 tensors whose shape does not fit the data, or whose datatype is unknown or not numeric", ("v2",)),
        _c("large_batch", UNUSUAL, "a very large batch of valid rows"),
        _c("large_body", UNUSUAL, "a valid body of several MiB"),
        _c("coercible_values", UNUSUAL, "V2 values the spec lets a server coerce: FP16 data, booleans or numeric strings in an FP32 tensor", ("v2",)),
        _c("json_content_type", UNUSUAL, "a valid JSON body with no Content-Type, or sent as text/plain or form-urlencoded"),
        _c("unknown_category", UNUSUAL, "a per-column model's text feature holding a value outside its allowed values", codecs=("columns",)),
    )
}


def kind_of(category: str) -> str:
    """``malformed`` or ``unusual``."""
    return CATEGORIES[category].kind


def names(kind: str | None = None) -> list[str]:
    """Category names in report order, of one kind or all."""
    return [c.name for c in CATEGORIES.values() if kind is None or c.kind == kind]
