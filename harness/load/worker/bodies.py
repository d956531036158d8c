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
NO_BODIES = ("the load plan (MLH_LOAD_PLAN) has no rows or no model_name: the harness writes both "
             "from the model contract and the endpoint (harness/load/plan.py)")

Body = tuple[str, str, bytes]  # (kind, path, body)
GrpcRequest = Callable[[str, Sequence[Sequence[float]]], bytes]


def bodies(plan: Mapping[str, Any], grpc_request: GrpcRequest | None = None, grpc_method: str = "") -> list[Body]:
    """(kind, path, body) triples of ``plan``: up to :data:`MAX_BODIES` batches of ``batch_size`` rows, per kind.

    Args:
        plan: the load plan (``rows``, ``model_name``, ``batch_size``, ``protocol``).
        grpc_request: serializes a ``ModelInferRequest`` (model name, rows); needed for ``grpc``.
        grpc_method: the gRPC method, reported as the request's path.
    """
    rows: list[list[float]] = plan.get("rows") or []
    name = plan.get("model_name")
    if not rows or not name:
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
                out.append((kind, grpc_method, grpc_request(name, chunk)))
            elif kind == "v1":
                out.append((kind, f"/v1/models/{name}:predict", json.dumps({"instances": chunk}).encode()))
            else:
                flat = [x for row in chunk for x in row]
                tensor = {"name": "input-0", "shape": [batch, len(chunk[0])], "datatype": "FP32", "data": flat}
                out.append((kind, f"/v2/models/{name}/infer", json.dumps({"inputs": [tensor]}).encode()))
    return out
