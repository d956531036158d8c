"""Malformed inference requests: a fixed catalogue and hypothesis strategies, by category.

Every category of the catalogue is always tried (:func:`explicit_cases`); the strategies
(:func:`strategies`) then generate more of the same kind, and hypothesis shrinks a failing
one to the smallest request that still fails. A server must answer each with a 4xx and
an error body: never a 5xx, never silence.

One tolerance, on purpose: a *valid* JSON body sent with a non-JSON content type may be
answered 2xx. The seed's own curl (``curl -d @iris-input.json``) sends
``application/x-www-form-urlencoded`` and KServe answered ``{"predictions": [1, 1]}``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import strategies as st

from harness.robustness.profiles import Profile
from harness.verify import SEED_INSTANCES

JSON = "application/json"
SEED_ROW = list(SEED_INSTANCES[0])
N_FEATURES = len(SEED_ROW)
UNKNOWN_MODEL = "no-such-model-mlharness"
NON_FINITE_TOKENS = ("NaN", "Infinity", "-Infinity", "1e400", "-1e999")
BODY_PREVIEW = 300

# category -> what it covers (also the order the report lists them in)
CATEGORIES: dict[str, str] = {
    "invalid_json": "bodies that are not JSON",
    "wrong_top_level": "JSON that is not an object with 'instances'",
    "instances_not_list": "'instances' that is not a list",
    "ragged_rows": "rows of different lengths",
    "wrong_feature_count": "rows with the wrong number of features",
    "strings": "strings where numbers belong",
    "booleans": "booleans where numbers belong",
    "nulls": "null where numbers or rows belong",
    "non_finite": "NaN / Infinity tokens and overflowing numbers",
    "empty_batch": "no rows at all",
    "large_batch": "a very large batch",
    "deep_nesting": "deeply nested lists",
    "oversized_body": "a body of several MiB",
    "content_type": "a wrong Content-Type",
    "unknown_model": "a model name that is not served",
    "wrong_method": "a wrong HTTP method on :predict",
    "v2_malformed": "malformed V2 /infer tensors (only if the server speaks V2)",
}


@dataclasses.dataclass(frozen=True)
class BadRequest:
    """One malformed request. ``path`` is relative to the endpoint's base URL."""

    category: str
    method: str
    path: str
    body: bytes | None
    content_type: str | None = JSON
    tolerate_ok: bool = False  # a 2xx is acceptable too (valid JSON, wrong content type)
    note: str = ""

    def describe(self, limit: int = BODY_PREVIEW) -> dict[str, Any]:
        """A short, JSON-ready picture of the request for a report."""
        body = self.body or b""
        text = body[:limit].decode("utf-8", errors="replace")
        return {
            "category": self.category,
            "method": self.method,
            "path": self.path,
            "content_type": self.content_type,
            "body": text + ("..." if len(body) > limit else ""),
            "body_bytes": len(body),
            "note": self.note,
        }


def speaks_v2(client: Any) -> bool:
    """Whether the endpoint may speak V2 and its server answers V2 readiness."""
    return "v2" in client.endpoint.protocols and bool(client.v2_ready())


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (strict: no NaN tokens)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def v1_path(model: str) -> str:
    return f"/v1/models/{model}:predict"


def v2_path(model: str) -> str:
    return f"/v2/models/{model}/infer"


def _v1(category: str, model: str, body: bytes | Any, note: str = "", **kw: Any) -> BadRequest:
    raw = body if isinstance(body, bytes) else dumps(body)
    return BadRequest(category, "POST", v1_path(model), raw, note=note, **kw)


def _v2_tensor(shape: Any, datatype: Any, data: Any, name: Any = "input-0") -> dict[str, Any]:
    return {"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}


def _rows_body(rows: int) -> bytes:
    row = dumps(SEED_ROW)
    return b'{"instances":[' + b",".join([row] * rows) + b"]}"


def _nested(depth: int) -> bytes:
    return b'{"instances":' + b"[" * depth + b"6.8" + b"]" * depth + b"}"


def explicit_cases(model: str, profile: Profile, v2: bool) -> list[BadRequest]:
    """The fixed catalogue: at least one request of every category (V2 ones if ``v2``)."""
    seed = {"instances": [SEED_ROW]}
    oversized_rows = profile.oversized_bytes // (len(dumps(SEED_ROW)) + 1) + 1
    cases = [
        _v1("invalid_json", model, b"{not json"),
        _v1("invalid_json", model, dumps(seed)[:-2], "truncated"),
        _v1("invalid_json", model, b"", "empty body"),
        _v1("invalid_json", model, b"\xff\xfe\x00{", "not UTF-8"),
        _v1("wrong_top_level", model, [SEED_ROW]),
        _v1("wrong_top_level", model, 42),
        _v1("wrong_top_level", model, "instances"),
        _v1("wrong_top_level", model, None),
        _v1("wrong_top_level", model, {}),
        _v1("wrong_top_level", model, {"instance": [SEED_ROW]}, "misspelt key"),
        _v1("instances_not_list", model, {"instances": 5}),
        _v1("instances_not_list", model, {"instances": "6.8,2.8,4.8,1.4"}),
        _v1("instances_not_list", model, {"instances": {"a": SEED_ROW}}),
        _v1("ragged_rows", model, {"instances": [SEED_ROW, SEED_ROW[:2]]}),
        _v1("wrong_feature_count", model, {"instances": [SEED_ROW[:3]]}),
        _v1("wrong_feature_count", model, {"instances": [[*SEED_ROW, 0.2]]}),
        _v1("wrong_feature_count", model, {"instances": [[]]}),
        _v1("wrong_feature_count", model, {"instances": SEED_ROW}, "a flat row, not a list of rows"),
        _v1("strings", model, {"instances": [[str(v) for v in SEED_ROW]]}),
        _v1("strings", model, {"instances": [["a", *SEED_ROW[1:]]]}),
        _v1("booleans", model, {"instances": [[True, False, True, False]]}),
        _v1("nulls", model, {"instances": [[None, *SEED_ROW[1:]]]}),
        _v1("nulls", model, {"instances": [None]}),
        _v1("nulls", model, {"instances": None}),
        *[_v1("non_finite", model, b'{"instances":[[%s,2.8,4.8,1.4]]}' % t.encode()) for t in NON_FINITE_TOKENS],
        _v1("empty_batch", model, {"instances": []}),
        _v1("large_batch", model, _rows_body(profile.large_batch_rows), f"{profile.large_batch_rows} rows"),
        _v1("deep_nesting", model, _nested(64), "depth 64"),
        _v1("deep_nesting", model, _nested(profile.nesting_depth), f"depth {profile.nesting_depth}"),
        _v1("oversized_body", model, _rows_body(oversized_rows), f"{profile.oversized_bytes // 1024} KiB"),
        _v1("content_type", model, dumps(seed), "valid JSON as text/plain", content_type="text/plain", tolerate_ok=True),
        _v1("content_type", model, b"instances=6.8,2.8,4.8,1.4", content_type="application/x-www-form-urlencoded"),
        _v1("content_type", model, b"<instances><row>6.8</row></instances>", content_type="application/xml"),
        _v1("content_type", model, b"\x00\x01\x02\x03", content_type="application/octet-stream"),
        _v1("unknown_model", UNKNOWN_MODEL, dumps(seed)),
        *[BadRequest("wrong_method", m, v1_path(model), None if m in ("GET", "DELETE") else dumps(seed)) for m in ("GET", "PUT", "DELETE", "PATCH")],
    ]
    if v2:
        path = v2_path(model)
        cases += [
            BadRequest("v2_malformed", "POST", path, dumps({"inputs": 5})),
            BadRequest("v2_malformed", "POST", path, dumps({"nope": 1})),
            BadRequest("v2_malformed", "POST", path, dumps({"inputs": []})),
            BadRequest("v2_malformed", "POST", path, dumps(_v2_tensor([1, 4], "FP64", SEED_ROW[:3])), "data shorter than shape"),
            BadRequest("v2_malformed", "POST", path, dumps(_v2_tensor([4], "FP64", SEED_ROW)), "1-D shape"),
            BadRequest("v2_malformed", "POST", path, dumps(_v2_tensor([1, 4], "BYTES", ["a", "b", "c", "d"]))),
            BadRequest("v2_malformed", "POST", path, dumps(_v2_tensor([1, 4], "FP32", ["a", "b", "c", "d"]))),
            BadRequest("v2_malformed", "POST", path, dumps(_v2_tensor([1, 4], "FP32", [True, False, True, False])), "booleans in FP32"),
            BadRequest("v2_malformed", "POST", path, b'{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP64","data":[NaN,2.8,4.8,1.4]}]}'),
            BadRequest("v2_malformed", "POST", path, dumps(_v2_tensor([0, 4], "FP64", [])), "empty batch"),
            BadRequest("unknown_model", "POST", v2_path(UNKNOWN_MODEL), dumps(_v2_tensor([1, 4], "FP64", SEED_ROW))),
        ]
    return cases


# --- strategies ----------------------------------------------------------------------------
# Every character UTF-8 can carry (all but surrogates): what st.text() draws by default, but
# named by category instead of codec="utf-8", whose first use encodes all 1.1M code points
# (~3 s here, cached per working directory in .hypothesis/) on every fresh checkout.
_chars = st.characters(exclude_categories=["Cs"])
_numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_row = st.lists(_numbers, min_size=N_FEATURES, max_size=N_FEATURES)
_rows = st.lists(_row, min_size=1, max_size=5)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), _numbers, st.text(_chars, max_size=8))
_json_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(_chars, max_size=5), inner, max_size=3), max_leaves=8)


def _is_json(body: bytes) -> bool:
    def reject(token: str) -> None:
        raise ValueError(token)

    try:
        json.loads(body, parse_constant=reject)
    except (ValueError, RecursionError):
        return False
    return True


def _poisoned(bad: st.SearchStrategy[Any]) -> st.SearchStrategy[list[list[Any]]]:
    """Valid rows with one value replaced by something from ``bad``."""

    @st.composite
    def build(draw: st.DrawFn) -> list[list[Any]]:
        rows: list[list[Any]] = draw(_rows)
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, N_FEATURES - 1))
        rows[i][j] = draw(bad)
        return rows

    return build()


def strategies(model: str) -> dict[str, st.SearchStrategy[BadRequest]]:
    """One strategy of malformed requests per generated category."""

    def v1(category: str, bodies: st.SearchStrategy[Any]) -> st.SearchStrategy[BadRequest]:
        return bodies.map(lambda body: _v1(category, model, body))

    def instances(rows: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return rows.map(lambda r: {"instances": r})

    @st.composite
    def ragged(draw: st.DrawFn) -> list[list[float]]:
        rows = draw(st.lists(st.lists(_numbers, max_size=8), min_size=2, max_size=5))
        if len({len(r) for r in rows}) == 1:
            rows[-1] = [*rows[-1], 1.0]
        return rows

    @st.composite
    def non_finite(draw: st.DrawFn) -> bytes:
        rows = draw(_rows)
        texts = [[repr(v) for v in r] for r in rows]
        texts[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, N_FEATURES - 1))] = draw(st.sampled_from(NON_FINITE_TOKENS))
        return b'{"instances":[' + ",".join("[" + ",".join(r) + "]" for r in texts).encode() + b"]}"

    @st.composite
    def bad_v2(draw: st.DrawFn) -> dict[str, Any]:
        rows = draw(_rows)
        flat: list[Any] = [v for r in rows for v in r]
        kind = draw(st.sampled_from(("shape", "datatype", "values")))
        if kind == "shape":
            shape = draw(st.lists(st.integers(0, 6), max_size=3).filter(lambda s: s != [len(rows), N_FEATURES]))
            return _v2_tensor(shape, "FP64", flat)
        if kind == "datatype":
            return _v2_tensor([len(rows), N_FEATURES], draw(st.sampled_from(("BYTES", "BOOL", "UINT8", "FP16", "STRING", ""))), flat)
        flat[draw(st.integers(0, len(flat) - 1))] = draw(st.one_of(st.text(_chars, max_size=4), st.booleans(), st.none()))
        return _v2_tensor([len(rows), N_FEATURES], "FP64", flat)

    not_json = st.one_of(
        st.binary(max_size=40),
        st.text(_chars, max_size=40).map(str.encode),
        st.integers(1, 40).map(lambda n: _rows_body(2)[:n]),
    ).filter(lambda b: not _is_json(b))
    wrong_counts = st.integers(0, 12).filter(lambda n: n != N_FEATURES)
    names = st.from_regex(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", fullmatch=True, alphabet=_chars).filter(lambda n: n != model)
    return {
        "invalid_json": v1("invalid_json", not_json),
        "wrong_top_level": v1("wrong_top_level", _json_values.filter(lambda v: not (isinstance(v, dict) and "instances" in v))),
        "instances_not_list": v1("instances_not_list", instances(_json_values.filter(lambda v: not isinstance(v, list)))),
        "ragged_rows": v1("ragged_rows", instances(ragged())),
        "wrong_feature_count": v1("wrong_feature_count", instances(wrong_counts.flatmap(lambda n: st.lists(st.lists(_numbers, min_size=n, max_size=n), min_size=1, max_size=5)))),
        "strings": v1("strings", instances(_poisoned(st.text(_chars, max_size=8)))),
        "booleans": v1("booleans", instances(_poisoned(st.booleans()))),
        "nulls": v1("nulls", instances(_poisoned(st.none()))),
        "non_finite": v1("non_finite", non_finite()),
        "deep_nesting": v1("deep_nesting", st.integers(3, 2_000).map(_nested)),
        "content_type": st.tuples(st.sampled_from(("text/plain", "application/xml", "application/octet-stream", "multipart/form-data")), st.binary(max_size=30)).map(
            lambda ct: _v1("content_type", model, ct[1], content_type=ct[0])
        ),
        "unknown_model": st.tuples(names, _rows).map(lambda nr: _v1("unknown_model", nr[0], {"instances": nr[1]})),
        "wrong_method": st.tuples(st.sampled_from(("GET", "PUT", "DELETE", "PATCH")), _rows).map(
            lambda mr: BadRequest("wrong_method", mr[0], v1_path(model), None if mr[0] in ("GET", "DELETE") else dumps({"instances": mr[1]}))
        ),
        "v2_malformed": bad_v2().map(lambda body: BadRequest("v2_malformed", "POST", v2_path(model), dumps(body))),
    }
