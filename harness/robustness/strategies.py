"""Hypothesis strategies of malformed requests, per protocol and category.

After the catalogue (:mod:`harness.robustness.malformed`), each malformed category is
generated further; hypothesis shrinks a failing request to the smallest one that still
fails. Every generated request is malformed for its category (a test checks that), so a
2xx to any of them is a finding.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from harness.inference.encoder import Encoder
from harness.robustness.malformed import (
    N_FEATURES,
    NON_FINITE_TOKENS,
    WRONG_METHODS,
    nested_v1,
    nested_v2,
)
from harness.robustness.requests import Request, dumps, path_of, tensor

# Every character UTF-8 can carry (all but surrogates): what st.text() draws by default, but
# named by category instead of codec="utf-8", whose first use encodes all 1.1M code points
# (~3 s here, cached per working directory in .hypothesis/) on every fresh checkout.
_chars = st.characters(exclude_categories=["Cs"])
_numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _rows(width: int) -> st.SearchStrategy[list[list[float]]]:
    """1..5 rows of ``width`` finite numbers (the model's width: the contract's feature count)."""
    return st.lists(st.lists(_numbers, min_size=width, max_size=width), min_size=1, max_size=5)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), _numbers, st.text(_chars, max_size=8))
_json_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(_chars, max_size=5), inner, max_size=3), max_leaves=8)
_not_json_types = ("text/plain", "application/xml", "application/octet-stream", "multipart/form-data")


def is_json(body: bytes) -> bool:
    """Whether ``body`` parses as strict JSON (no NaN tokens, not too deep)."""

    def reject(token: str) -> None:
        raise ValueError(token)

    try:
        json.loads(body, parse_constant=reject)
    except (ValueError, RecursionError):
        return False
    return True


def is_number_text(text: str) -> bool:
    """Whether a server could read ``text`` as a number (V2 lets it coerce such strings)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _poisoned(bad: st.SearchStrategy[Any], width: int) -> st.SearchStrategy[list[list[Any]]]:
    """Valid rows with one value replaced by something from ``bad``."""

    @st.composite
    def build(draw: st.DrawFn) -> list[list[Any]]:
        rows: list[list[Any]] = draw(_rows(width))
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, width - 1))
        rows[i][j] = draw(bad)
        return rows

    return build()


@st.composite
def _ragged(draw: st.DrawFn) -> list[list[float]]:
    rows = draw(st.lists(st.lists(_numbers, max_size=8), min_size=2, max_size=5))
    if len({len(r) for r in rows}) == 1:
        rows[-1] = [*rows[-1], 1.0]
    return rows


@st.composite
def _non_finite_rows(draw: st.DrawFn, width: int) -> list[list[str]]:
    """Rows as JSON number texts, one of them a non-finite token."""
    rows = draw(_rows(width))
    texts = [[repr(v) for v in r] for r in rows]
    texts[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, width - 1))] = draw(st.sampled_from(NON_FINITE_TOKENS))
    return texts


def _wrong_width_rows(width: int) -> st.SearchStrategy[list[list[float]]]:
    """Rows of any width but the model's (0 to width + 8 values)."""
    counts = st.integers(0, width + 8).filter(lambda n: n != width)
    return counts.flatmap(lambda n: st.lists(st.lists(_numbers, min_size=n, max_size=n), min_size=1, max_size=5))


_not_json = st.one_of(
    st.binary(max_size=40),
    st.text(_chars, max_size=40).map(str.encode),
    st.integers(1, 40).map(lambda n: b'{"instances":[[6.8,2.8,4.8,1.4],[6.0,3.4,4.5,1.6]]}'[:n]),
).filter(lambda b: not is_json(b))


def _flat(enc: Encoder, rows: list[list[Any]]) -> dict[str, Any]:
    """A ``[N, F]`` tensor of the signature holding ``rows`` (flat data; F from the first row)."""
    return tensor(enc, [len(rows), len(rows[0]) if rows else 0], [v for r in rows for v in r])


@st.composite
def _bad_tensor(draw: st.DrawFn, width: int, enc: Encoder) -> dict[str, Any]:
    """A shape that does not describe the data, or a datatype no server can read as numbers."""
    rows = draw(_rows(width))
    flat = [v for r in rows for v in r]
    if draw(st.booleans()):
        shape = draw(st.lists(st.integers(0, 6), max_size=3).filter(lambda s: s != [len(rows), width]))
        return tensor(enc, shape, flat)
    return tensor(enc, [len(rows), width], flat, draw(st.sampled_from(("BYTES", "STRING", "", "FLOAT"))))


def _v1(width: int) -> dict[str, st.SearchStrategy[Any]]:
    """Bodies (JSON values or bytes) of each V1 category."""

    def instances(rows: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return rows.map(lambda r: {"instances": r})

    def non_finite(texts: list[list[str]]) -> bytes:
        return b'{"instances":[' + ",".join("[" + ",".join(r) + "]" for r in texts).encode() + b"]}"

    return {
        "invalid_json": _not_json,
        "wrong_top_level": _json_values.filter(lambda v: not (isinstance(v, dict) and "instances" in v)),
        "instances_not_list": instances(_json_values.filter(lambda v: not isinstance(v, list))),
        "ragged_rows": instances(_ragged()),
        "wrong_feature_count": instances(_wrong_width_rows(width)),
        "strings": instances(_poisoned(st.text(_chars, max_size=8), width)),
        "booleans": instances(_poisoned(st.booleans(), width)),
        "nulls": instances(_poisoned(st.none(), width)),
        "non_finite": _non_finite_rows(width).map(non_finite),
        "deep_nesting": st.integers(3, 2_000).map(nested_v1),
    }


def _v2(width: int, enc: Encoder) -> dict[str, st.SearchStrategy[Any]]:
    """Bodies (JSON values or bytes) of each V2 category, requests of ``enc``'s signature."""

    def non_finite(texts: list[list[str]]) -> bytes:
        return enc.v2_head([len(texts), width]) + ",".join(",".join(r) for r in texts).encode() + b"]}]}"

    def ragged(rows: list[list[float]]) -> dict[str, Any]:
        return tensor(enc, [len(rows), width], rows)  # nested data, rows of different lengths

    def flat(rows: list[list[Any]]) -> dict[str, Any]:
        return _flat(enc, rows)

    return {
        "invalid_json": _not_json,
        "wrong_top_level": _json_values.filter(lambda v: not (isinstance(v, dict) and "inputs" in v)),
        "instances_not_list": _json_values.filter(lambda v: not isinstance(v, list)).map(lambda v: {"inputs": v}),
        "ragged_rows": _ragged().map(ragged),
        "wrong_feature_count": _wrong_width_rows(width).map(flat),
        "strings": _poisoned(st.text(_chars, max_size=8).filter(lambda t: not is_number_text(t)), width).map(flat),
        "nulls": _poisoned(st.none(), width).map(flat),
        "non_finite": _non_finite_rows(width).map(non_finite),
        "deep_nesting": st.integers(3, 2_000).map(lambda depth: nested_v2(depth, enc)),
        "bad_tensor": _bad_tensor(width, enc),
    }


def strategies(model: str, protocol: str, width: int = N_FEATURES, encoder: Encoder | None = None) -> dict[str, st.SearchStrategy[Request]]:
    """One strategy of malformed requests per generated category of ``protocol``, for a model
    whose rows hold ``width`` features (the contract's), V2 requests of ``encoder``'s signature."""
    enc = encoder or Encoder()
    path = path_of(protocol, model)

    def post(category: str, bodies: st.SearchStrategy[Any]) -> st.SearchStrategy[Request]:
        return bodies.map(lambda body: Request(category, protocol, "POST", path, body if isinstance(body, bytes) else dumps(body)))

    bodies = _v1(width) if protocol == "v1" else _v2(width, enc)
    generated = {category: post(category, strategy) for category, strategy in bodies.items()}
    valid = dumps({"instances": [[1.0] * width]}) if protocol == "v1" else dumps(tensor(enc, [1, width], [1.0] * width))
    names = st.from_regex(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", fullmatch=True, alphabet=_chars).filter(lambda n: n != model)
    generated["content_type"] = st.tuples(st.sampled_from(_not_json_types), st.binary(max_size=30).filter(lambda b: not is_json(b))).map(
        lambda ct: Request("content_type", protocol, "POST", path, ct[1], ct[0])
    )
    generated["unknown_model"] = names.map(lambda n: Request("unknown_model", protocol, "POST", path_of(protocol, n), valid))
    generated["wrong_method"] = st.sampled_from(WRONG_METHODS).map(
        lambda m: Request("wrong_method", protocol, m, path, None if m in ("GET", "DELETE") else valid)
    )
    return generated
