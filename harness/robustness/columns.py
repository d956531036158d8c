"""The battery's requests for a per-column model (one input per feature, the pandas content type).

A model fitted on a DataFrame with text columns takes named columns, not an ``[N, F]`` tensor
(:mod:`harness.inference.encoder`: V2 inputs per column with ``"parameters": {"content_type":
"pd"}``, V1 named rows). Its malformed requests are built from a valid per-column request of
the real signature, with one thing wrong (a column missing, an unknown column, columns of
different lengths, a string in a numeric column, a null, a NaN token...); its valid but unusual
ones are a large batch, a JSON body with no Content-Type, and a text feature holding a value
outside its allowed values (``unknown_category``: a model may answer it, as a OneHotEncoder with
``handle_unknown="ignore"`` does, or decline it with a 4xx; never a 5xx).
"""

from __future__ import annotations

import copy
from typing import Any

from harness.inference.encoder import Encoder
from harness.robustness.malformed import NON_FINITE_TOKENS, _post, _shared
from harness.robustness.profiles import Profile
from harness.robustness.requests import Request, dumps, v1_path, v2_path
from harness.robustness.schema import FeatureSchema
from harness.robustness.unusual import ODD_CONTENT_TYPES, seed_rows

UNKNOWN_VALUE = "mlharness-unknown-category"
EXTRA_COLUMN = "mlharness_not_a_feature"
SENTINEL = "__mlharness_non_finite__"


def _numeric(schema: FeatureSchema) -> int | None:
    """The index of the first numeric feature (None: every feature is text)."""
    values = schema.values or (None,) * schema.width
    return next((j for j, v in enumerate(values) if v is None), None)


def _text(schema: FeatureSchema) -> int | None:
    return next((j for j, v in enumerate(schema.values) if v is not None), None)


def malformed_column_cases(model: str, protocols: tuple[str, ...], schema: FeatureSchema, encoder: Encoder) -> list[Request]:
    """Malformed requests of a per-column model over ``protocols``, V1 first."""
    row = list(schema.seed_row)
    number = _numeric(schema)
    cases: list[Request] = []
    if "v1" in protocols:
        path = v1_path(model)
        good = encoder.v1_body([row])
        record = good["instances"][0][0]

        def v1(category: str, body: Any, note: str = "") -> Request:
            return _post(category, "v1", path, body, note)

        first = next(iter(record))
        cases += _shared("v1", path, dumps(good))
        cases += [
            v1("wrong_top_level", [record], "named rows not under 'instances'"),
            v1("instances_not_list", {"instances": record}, "one record, not a list of rows"),
            v1("wrong_feature_count", {"instances": [[{k: v for k, v in record.items() if k != first}]]}, f"column {first!r} missing"),
            v1("wrong_feature_count", {"instances": [[{**record, EXTRA_COLUMN: 1.0}]]}, "an unknown column"),
            v1("nulls", {"instances": [[{**record, first: None}]]}),
            v1("empty_batch", {"instances": []}),
        ]
        if number is not None:
            name = encoder.signature.inputs[number].name
            cases.append(v1("strings", {"instances": [[{**record, name: "a"}]]}, f"a string in numeric column {name!r}"))
            text = dumps({"instances": [[{**record, name: SENTINEL}]]})
            cases += [v1("non_finite", text.replace(f'"{SENTINEL}"'.encode(), t.encode()), t) for t in NON_FINITE_TOKENS[:3]]
    if "v2" in protocols:
        path = v2_path(model)
        good = encoder.v2_body([row])

        def v2(category: str, body: Any, note: str = "") -> Request:
            return _post(category, "v2", path, body, note)

        def changed(k: int, **fields: Any) -> dict[str, Any]:
            body = copy.deepcopy(good)
            body["inputs"][k].update(fields)
            return body

        name = good["inputs"][0]["name"]
        cases += _shared("v2", path, dumps(good))
        cases += [
            v2("wrong_top_level", encoder.v1_body([row]), "a V1 body on the V2 path"),
            v2("instances_not_list", {**good, "inputs": {t["name"]: t for t in good["inputs"]}}, "inputs as an object"),
            v2("wrong_feature_count", {**good, "inputs": good["inputs"][1:]}, f"input {name!r} missing"),
            v2("wrong_feature_count", {**good, "inputs": [*good["inputs"], {**good["inputs"][-1], "name": EXTRA_COLUMN}]}, "an unknown input"),
            v2("ragged_rows", changed(0, shape=[2, 1], data=good["inputs"][0]["data"] * 2), "columns of different lengths"),
            v2("nulls", changed(0, data=[None])),
            v2("empty_batch", {**good, "inputs": [{**t, "shape": [0, 1], "data": []} for t in good["inputs"]]}),
            v2("bad_tensor", changed(0, data=good["inputs"][0]["data"] * 2), "data longer than shape"),
            v2("bad_tensor", changed(0, datatype="FLOAT"), "unknown datatype"),
        ]
        if number is not None:
            cases.append(v2("strings", changed(number, data=["a"]), f"a string in numeric input {good['inputs'][number]['name']!r}"))
            text = dumps(changed(number, data=[SENTINEL]))
            cases += [v2("non_finite", text.replace(f'"{SENTINEL}"'.encode(), t.encode()), t) for t in NON_FINITE_TOKENS[:3]]
    return cases


def unusual_column_cases(model: str, profile: Profile, protocols: tuple[str, ...], schema: FeatureSchema,
                         encoder: Encoder) -> list[Request]:
    """Valid but unusual requests of a per-column model: a large batch, no Content-Type, an unknown category."""
    batch = seed_rows(profile.large_batch_rows, schema.seed)
    if encoder.signature.max_batch_size:
        batch = batch[: encoder.signature.max_batch_size]
    odd = list(schema.seed[0])
    text = _text(schema)
    if text is not None:
        odd[text] = UNKNOWN_VALUE
    cases: list[Request] = []
    for protocol in ("v1", "v2"):
        if protocol not in protocols:
            continue
        path = v1_path(model) if protocol == "v1" else v2_path(model)

        def body(rows: Any, protocol: str = protocol) -> bytes:
            return dumps(encoder.v1_body(rows) if protocol == "v1" else encoder.v2_body(rows))

        cases += [
            Request("large_batch", protocol, "POST", path, body(batch), note=f"{len(batch)} rows", rows=batch, seed_rows=True, large=True),
            *[Request("json_content_type", protocol, "POST", path, body(schema.seed), ct,
                      "valid JSON sent " + ("with no Content-Type" if ct is None else f"as {ct}"), schema.seed, True)
              for ct in ODD_CONTENT_TYPES[:2]],
        ]
        if text is not None:
            cases.append(Request("unknown_category", protocol, "POST", path, body([odd]), note=f"{UNKNOWN_VALUE!r} in a text feature",
                                 rows=(tuple(odd),)))
    return cases
