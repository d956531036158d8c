"""The request bodies every load user cycles through, built from the plan's rows.

Plain Python, loaded by the locustfile from beside itself. V2 data go flat in row-major order
with their shape, the form every Open Inference Protocol server accepts (the spec allows nested
data too; MLServer and Triton's clients send flat). The rows and the model name come from the
plan (the model contract's rows, the endpoint's name); a plan without them gives no bodies,
and every user stops at its start saying so (no iris fallback: iris rows sent to another model
are only errors).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

MAX_BODIES = 64
KINDS = {"v1": ["v1"], "v2": ["v2"], "mixed": ["v1", "v2"], "grpc": ["grpc"]}
NO_BODIES = ("the load plan (MLH_LOAD_PLAN) has no rows, no model_name or no request template: the harness writes "
             "them from the model contract, the endpoint and its signature (harness/load/plan.py)")
TYPES: dict[str, Callable[[Any], Any]] = {"float": float, "int": int, "bool": bool, "str": str}

Body = tuple[str, str, bytes]  # (kind, path, body)
GrpcRequest = Callable[[Mapping[str, Any], str, Sequence[Sequence[Any]]], bytes]


def typed(spec: Mapping[str, Any], v: Any) -> Any:
    """``v`` as the template's input ``spec`` takes it (``kind``: float, int, bool, str)."""
    return TYPES[spec.get("kind", "float")](v)


def v2_body(request: Mapping[str, Any], chunk: Sequence[Sequence[Any]]) -> bytes:
    """A V2 body of ``chunk`` as the harness's encoder templated it: one ``[N, F]`` tensor with flat
    data, or one ``[N, 1]`` input per column with the template's parameters (the pandas content type)."""
    specs = request["inputs"]
    if request.get("codec") == "columns":
        inputs = [{"name": spec["name"], "shape": [len(chunk), 1], "datatype": spec["datatype"],
                   "data": [typed(spec, row[i]) for row in chunk]} for i, spec in enumerate(specs)]
        return json.dumps({"parameters": request.get("parameters") or {}, "inputs": inputs}).encode()
    spec = specs[0]
    flat = [typed(spec, x) for row in chunk for x in row]
    tensor = {"name": spec["name"], "shape": [len(chunk), len(chunk[0])], "datatype": spec["datatype"], "data": flat}
    return json.dumps({"inputs": [tensor]}).encode()


def v1_body(request: Mapping[str, Any], chunk: Sequence[Sequence[Any]]) -> bytes:
    """A V1 body of ``chunk``: ``{"instances": rows}``, or for a per-column model one instance holding
    the batch's named records (the harness's ``Encoder.v1_body``: the form KServe's server reads)."""
    specs = request["inputs"]
    if request.get("codec") == "columns":
        records = [{spec["name"]: typed(spec, x) for spec, x in zip(specs, row, strict=False)} for row in chunk]
        return json.dumps({"instances": [records]}).encode()
    instances = [[typed(specs[min(k, len(specs) - 1)], x) for k, x in enumerate(row)] for row in chunk]
    return json.dumps({"instances": instances}).encode()


def bodies(plan: Mapping[str, Any], grpc_request: GrpcRequest | None = None, grpc_method: str = "") -> list[Body]:
    """(kind, path, body) triples of ``plan``: up to :data:`MAX_BODIES` batches of ``batch_size`` rows, per kind.

    Args:
        plan: the load plan (``rows``, ``model_name``, ``batch_size``, ``protocol``, and ``request``:
            the encoder's template of the signature: paths, codec, each input's name and datatype).
        grpc_request: serializes a ``ModelInferRequest`` (template, model name, rows); needed for ``grpc``.
        grpc_method: the gRPC method, reported as the request's path.
    """
    rows: list[list[Any]] = plan.get("rows") or []
    name = plan.get("model_name")
    request = plan.get("request") or {}
    if not rows or not name or not request.get("inputs"):
        return []
    batch = int(plan.get("batch_size", 1))
    kinds = KINDS[plan.get("protocol", "mixed")]
    out: list[Body] = []
    for i in range(max(1, min(len(rows), MAX_BODIES))):
        chunk = [rows[(i * batch + j) % len(rows)] for j in range(batch)]
        for kind in kinds:
            if kind == "grpc":
                if grpc_request is None:
                    raise ValueError("a grpc plan needs grpc_request")
                out.append((kind, grpc_method, grpc_request(request, name, chunk)))
            elif kind == "v1":
                out.append((kind, request["v1_path"], v1_body(request, chunk)))
            else:
                out.append((kind, request["v2_path"], v2_body(request, chunk)))
    return out
