"""The fixed catalogue of malformed requests, per protocol and category.

Every malformed category that applies to a protocol the server speaks is tried from this
catalogue first; the strategies (:mod:`harness.robustness.strategies`) then generate more of
the same kind. Each request here must get a 4xx with an error body (a wrong method: 405, any
4xx passes): none of them can be answered with a prediction.
"""

from __future__ import annotations

from harness.inference.encoder import Encoder
from harness.robustness.profiles import Profile
from harness.robustness.requests import Request, dumps, tensor, v1_path, v2_path
from harness.robustness.schema import IRIS_SCHEMA

SEED_ROW = IRIS_SCHEMA.seed_row  # the default; the cases are built from the contract's seed row
N_FEATURES = len(SEED_ROW)
UNKNOWN_MODEL = "no-such-model-mlharness"
NON_FINITE_TOKENS = ("NaN", "Infinity", "-Infinity", "1e400", "-1e999")
WRONG_METHODS = ("GET", "PUT", "DELETE", "PATCH")
NOT_JSON_TYPES = ("application/x-www-form-urlencoded", "application/xml", "application/octet-stream")


def _post(category: str, protocol: str, path: str, body: bytes | object, note: str = "", content_type: str | None = "application/json") -> Request:
    raw = body if isinstance(body, bytes) else dumps(body)
    return Request(category, protocol, "POST", path, raw, content_type, note)


def nested_v1(depth: int) -> bytes:
    return b'{"instances":' + b"[" * depth + b"6.8" + b"]" * depth + b"}"


def nested_v2(depth: int, encoder: Encoder | None = None) -> bytes:
    head = (encoder or Encoder()).v2_head([1, 4])[:-1]  # without the data's own bracket
    return head + b"[" * depth + b"6.8" + b"]" * depth + b"}]}"


def _shared(protocol: str, path: str, valid: bytes) -> list[Request]:
    """Categories built alike for both protocols: not JSON, not JSON by type, unknown model, wrong method."""

    def post(category: str, body: bytes, note: str = "", content_type: str | None = "application/json") -> Request:
        return _post(category, protocol, path, body, note, content_type)

    cases = [
        post("invalid_json", b"{not json"),
        post("invalid_json", valid[:-2], "truncated"),
        post("invalid_json", b"", "empty body"),
        post("invalid_json", b"\xff\xfe\x00{", "not UTF-8"),
        post("content_type", b"instances=6.8,2.8,4.8,1.4", content_type=NOT_JSON_TYPES[0]),
        post("content_type", b"<instances><row>6.8</row></instances>", content_type=NOT_JSON_TYPES[1]),
        post("content_type", b"\x00\x01\x02\x03", content_type=NOT_JSON_TYPES[2]),
    ]
    model_path = v1_path(UNKNOWN_MODEL) if protocol == "v1" else v2_path(UNKNOWN_MODEL)
    cases.append(_post("unknown_model", protocol, model_path, valid))
    cases += [Request("wrong_method", protocol, m, path, None if m in ("GET", "DELETE") else valid) for m in WRONG_METHODS]
    return cases


def _tail(row: list[float]) -> bytes:
    return b"".join(b"," + repr(v).encode() for v in row[1:])


def v1_cases(model: str, profile: Profile, seed_row: list[float] = SEED_ROW) -> list[Request]:
    """Malformed V1 ``:predict`` requests, at least one per V1 category, around ``seed_row`` (a valid row)."""
    path = v1_path(model)
    width = len(seed_row)
    seed = {"instances": [seed_row]}

    def post(category: str, body: bytes | object, note: str = "") -> Request:
        return _post(category, "v1", path, body, note)

    return [
        *_shared("v1", path, dumps(seed)),
        post("wrong_top_level", [seed_row]),
        post("wrong_top_level", 42),
        post("wrong_top_level", "instances"),
        post("wrong_top_level", None),
        post("wrong_top_level", {}),
        post("wrong_top_level", {"instance": [seed_row]}, "misspelt key"),
        post("instances_not_list", {"instances": 5}),
        post("instances_not_list", {"instances": "6.8,2.8,4.8,1.4"}),
        post("instances_not_list", {"instances": {"a": seed_row}}),
        post("ragged_rows", {"instances": [seed_row, seed_row[:-1]]}),
        post("wrong_feature_count", {"instances": [seed_row[:-1]]}),
        post("wrong_feature_count", {"instances": [[*seed_row, 0.2]]}),
        post("wrong_feature_count", {"instances": [[]]}),
        post("wrong_feature_count", {"instances": seed_row}, "a flat row, not a list of rows"),
        post("strings", {"instances": [[str(v) for v in seed_row]]}),
        post("strings", {"instances": [["a", *seed_row[1:]]]}),
        post("booleans", {"instances": [[i % 2 == 0 for i in range(width)]]}),
        post("nulls", {"instances": [[None, *seed_row[1:]]]}),
        post("nulls", {"instances": [None]}),
        post("nulls", {"instances": None}),
        *[post("non_finite", b'{"instances":[[' + t.encode() + _tail(seed_row) + b"]]}") for t in NON_FINITE_TOKENS],
        post("empty_batch", {"instances": []}),
        post("deep_nesting", nested_v1(64), "depth 64"),
        post("deep_nesting", nested_v1(profile.nesting_depth), f"depth {profile.nesting_depth}"),
    ]


def v2_cases(model: str, profile: Profile, seed_row: list[float] = SEED_ROW, encoder: Encoder | None = None) -> list[Request]:
    """Malformed V2 ``/infer`` requests, at least one per V2 category, around ``seed_row`` (a valid
    row), each a request of the signature (``encoder``'s) with one thing wrong."""
    enc = encoder or Encoder()
    path = v2_path(model)
    width = len(seed_row)
    letters = [chr(97 + i % 26) for i in range(width)]
    good = tensor(enc, [1, width], seed_row)
    one = good["inputs"][0]

    def post(category: str, body: bytes | object, note: str = "") -> Request:
        return _post(category, "v2", path, body, note)

    def fp32(data: object, shape: object = (1, width)) -> dict[str, object]:
        return tensor(enc, list(shape) if isinstance(shape, tuple) else shape, data)

    def non_finite(token: str) -> bytes:
        return enc.v2_head([1, width]) + token.encode() + _tail(seed_row) + b"]}]}"

    return [
        *_shared("v2", path, dumps(good)),
        post("wrong_top_level", [one]),
        post("wrong_top_level", 42),
        post("wrong_top_level", "inputs"),
        post("wrong_top_level", None),
        post("wrong_top_level", {}),
        post("wrong_top_level", {"input": [one]}, "misspelt key"),
        post("wrong_top_level", {"instances": [seed_row]}, "a V1 body on the V2 path"),
        post("instances_not_list", {"inputs": 5}),
        post("instances_not_list", {"inputs": one}, "a tensor, not a list of tensors"),
        post("instances_not_list", {"inputs": [5]}, "a list of numbers, not tensors"),
        post("ragged_rows", fp32([seed_row, seed_row[:-1]], (2, width)), "nested data"),
        post("wrong_feature_count", fp32(seed_row[:-1], (1, width - 1))),
        post("wrong_feature_count", fp32([*seed_row, 0.2], (1, width + 1))),
        post("wrong_feature_count", fp32([], (1, 0))),
        post("strings", fp32(letters)),
        post("strings", fp32(["a", *seed_row[1:]])),
        post("nulls", fp32([None, *seed_row[1:]])),
        post("nulls", fp32(None), "data is null"),
        post("nulls", tensor(enc, None, seed_row), "shape is null"),
        *[post("non_finite", non_finite(t)) for t in NON_FINITE_TOKENS],
        post("empty_batch", fp32([], (0, width))),
        post("deep_nesting", nested_v2(64, enc), "depth 64"),
        post("deep_nesting", nested_v2(profile.nesting_depth, enc), f"depth {profile.nesting_depth}"),
        post("bad_tensor", {"inputs": []}, "no input tensor"),
        post("bad_tensor", fp32(seed_row[:-1]), "data shorter than shape"),
        post("bad_tensor", fp32([*seed_row, *seed_row]), "data longer than shape"),
        post("bad_tensor", fp32(seed_row, [width]), "1-D shape"),
        post("bad_tensor", fp32(seed_row, []), "empty shape"),
        post("bad_tensor", fp32(seed_row, [-1, width]), "negative dimension"),
        post("bad_tensor", tensor(enc, [1, width], letters, "BYTES"), "BYTES tensor"),
        post("bad_tensor", tensor(enc, [1, width], seed_row, "FLOAT"), "unknown datatype"),
        post("bad_tensor", {"inputs": [_without(enc.tensor([1, width], seed_row), "datatype")]}, "no datatype"),
        post("bad_tensor", {"inputs": [_without(enc.tensor([1, width], seed_row), "data")]}, "no data"),
    ]


def _without(tensor: dict[str, object], key: str) -> dict[str, object]:
    return {k: v for k, v in tensor.items() if k != key}


def malformed_cases(model: str, profile: Profile, protocols: tuple[str, ...], seed_row: list[float] = SEED_ROW,
                    encoder: Encoder | None = None) -> list[Request]:
    """The catalogue over ``protocols`` (the ones the server speaks), V1 first, around ``seed_row``,
    V2 requests of ``encoder``'s signature."""
    cases: list[Request] = []
    if "v1" in protocols:
        cases += v1_cases(model, profile, seed_row)
    if "v2" in protocols:
        cases += v2_cases(model, profile, seed_row, encoder)
    return cases
