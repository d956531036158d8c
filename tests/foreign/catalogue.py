"""Unusual and malformed requests, and how each counterpart was seen to answer them.

One table, used twice: ``test_counterparts.py`` sends every request to every counterpart and
checks the status against the one recorded here, and ``docs/conformance.md`` shows it (print it
with ``python -m tests.foreign.catalogue``). A status that changes shows up as a failing test,
so the documentation cannot drift from the software it describes.

Columns: ``mlserver`` (MLServer 1.7.1 + mlserver-sklearn 1.7.1), ``kserve`` (KServe 0.21.0's
stock sklearn server), ``local`` (this harness's runtime, :mod:`harness.serving.runtime`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

JSON = {"Content-Type": "application/json"}
SEED = [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]


def tensor(shape: object, data: object, datatype: str = "FP32", name: str = "input-0") -> dict[str, object]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def v2(shape: object, data: object, datatype: str = "FP32") -> bytes:
    """A V2 infer body with one input tensor."""
    return json.dumps({"inputs": [tensor(shape, data, datatype)]}).encode()


def _binary_body() -> tuple[bytes, dict[str, str]]:
    import struct

    header = json.dumps({"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                                     "parameters": {"binary_data_size": 32}}]}).encode()
    return header + struct.pack("<8f", *SEED), {"Inference-Header-Content-Length": str(len(header))}


BINARY_BODY, BINARY_HEADERS = _binary_body()


@dataclasses.dataclass(frozen=True)
class Probe:
    """One request and the status each counterpart answered it with.

    Attributes:
        name: short, unique: the test id and the docs' row name.
        protocol: ``v1`` (``:predict``) or ``v2`` (``/infer``).
        body: the exact bytes sent.
        headers: the exact headers sent (no Content-Type unless given).
        expect: counterpart -> HTTP status seen; a counterpart missing here is not asked.
        valid: the request is valid (a correct answer, or a 4xx such as 413/415/422, is fine).
        method: HTTP method.
    """

    name: str
    protocol: str
    body: bytes
    headers: Mapping[str, str]
    expect: Mapping[str, int]
    valid: bool = False
    method: str = "POST"

    def path(self, model: str) -> str:
        return f"/v1/models/{model}:predict" if self.protocol == "v1" else f"/v2/models/{model}/infer"


PROBES: tuple[Probe, ...] = (
    # valid requests, some unusual
    Probe("v2 golden", "v2", v2([2, 4], SEED), JSON, {"mlserver": 200, "kserve": 200, "local": 200}, valid=True),
    Probe("v2 golden, nested data", "v2", v2([2, 4], [SEED[:4], SEED[4:]]), JSON, {"mlserver": 200, "kserve": 200, "local": 200}, valid=True),
    Probe("v2 golden, no Content-Type", "v2", v2([2, 4], SEED), {}, {"mlserver": 200, "kserve": 400, "local": 200}, valid=True),
    Probe("v2 golden, text/plain", "v2", v2([2, 4], SEED), {"Content-Type": "text/plain"}, {"mlserver": 422, "kserve": 400, "local": 400}, valid=True),
    Probe("v2 binary tensor", "v2", BINARY_BODY, BINARY_HEADERS, {"mlserver": 422, "kserve": 200, "local": 200}, valid=True),
    Probe("v2 INT64 data", "v2", v2([2, 4], [7, 3, 5, 1, 6, 3, 4, 2], "INT64"), JSON, {"mlserver": 200, "kserve": 200, "local": 200}, valid=True),
    Probe("v2 FP16 datatype", "v2", v2([2, 4], SEED, "FP16"), JSON, {"mlserver": 200, "kserve": 400, "local": 400}, valid=True),
    Probe("v2 booleans in FP32", "v2", v2([1, 4], [True, False, True, False]), JSON, {"mlserver": 200, "kserve": 200, "local": 400}, valid=True),
    Probe("v2 20,000 rows", "v2", v2([20000, 4], SEED[:4] * 20000), JSON, {"mlserver": 200, "kserve": 200, "local": 400}, valid=True),
    Probe("v1 golden, no Content-Type", "v1", json.dumps({"instances": [SEED[:4], SEED[4:]]}).encode(), {}, {"kserve": 200, "local": 200}, valid=True),
    # malformed requests: a 4xx with an error body is right, a 5xx is a finding
    Probe("v2 empty shape", "v2", v2([], SEED[:4]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 shape [0, 4], no data", "v2", v2([0, 4], []), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 too few values", "v2", v2([1, 4], [1, 2, 3]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 too many values", "v2", v2([1, 4], [1, 2, 3, 4, 5]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 3 features", "v2", v2([1, 3], [1, 2, 3]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 ragged data", "v2", v2([2, 4], [[1, 2, 3, 4], [1, 2]]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 null values", "v2", v2([1, 4], [None, None, None, None]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 data: null", "v2", v2([1, 4], None), JSON, {"mlserver": 500, "kserve": 422, "local": 422}),
    Probe("v2 strings in FP32", "v2", v2([1, 4], ["a", "b", "c", "d"]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 BYTES tensor", "v2", v2([1, 4], ["a", "b", "c", "d"], "BYTES"), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 1e308", "v2", v2([1, 4], [1e308, 1, 2, 3]), JSON, {"mlserver": 500, "kserve": 500, "local": 400}),
    Probe("v2 unknown datatype", "v2", v2([1, 4], [1, 2, 3, 4], "FP128"), JSON, {"mlserver": 422, "kserve": 500, "local": 400}),
    Probe("v2 NaN literal", "v2", v2([1, 4], [1, 2, 3, 4]).replace(b"1, 2", b"NaN, 2"), JSON, {"mlserver": 422, "kserve": 500, "local": 400}),
    Probe("v2 no inputs", "v2", b'{"inputs": []}', JSON, {"mlserver": 400, "kserve": 500, "local": 400}),
    Probe("v2 two inputs", "v2", json.dumps({"inputs": [tensor([1, 4], [1, 2, 3, 4]), tensor([1, 4], [1, 2, 3, 4], name="input-1")]}).encode(), JSON, {"mlserver": 400, "kserve": 200, "local": 400}),
    Probe("v2 {}", "v2", b"{}", JSON, {"mlserver": 422, "kserve": 422, "local": 422}),
    Probe("v2 truncated JSON", "v2", b'{"inputs": [', JSON, {"mlserver": 422, "kserve": 422, "local": 422}),
    Probe("v2 JSON array", "v2", b"[1, 2]", JSON, {"mlserver": 422, "kserve": 422, "local": 422}),
    Probe("v2 empty body", "v2", b"", JSON, {"mlserver": 422, "kserve": 422, "local": 422}),
    Probe("v2 non-UTF-8, text/plain", "v2", b"\xff\xfe\x00garbage", {"Content-Type": "text/plain"}, {"mlserver": 500, "kserve": 400, "local": 400}),
    Probe("v2 non-UTF-8, JSON", "v2", b"\xff\xfe\x00garbage", JSON, {"mlserver": 422, "kserve": 422, "local": 422}),
    Probe("v2 GET", "v2", b"", {}, {"mlserver": 405, "kserve": 405, "local": 405}, method="GET"),
    Probe("v1 3 features", "v1", b'{"instances": [[1, 2, 3]]}', JSON, {"kserve": 500, "local": 400}),
    Probe("v1 strings", "v1", b'{"instances": [[1, 2, 3, "x"]]}', JSON, {"kserve": 500, "local": 400}),
    Probe("v1 empty batch", "v1", b'{"instances": []}', JSON, {"kserve": 500, "local": 400}),
    Probe("v1 no instances", "v1", b'{"rows": [[1, 2, 3, 4]]}', JSON, {"kserve": 500, "local": 400}),
    Probe("v1 NaN literal", "v1", b'{"instances": [[1, 2, 3, NaN]]}', JSON, {"kserve": 400, "local": 400}),
    Probe("v1 JSON array", "v1", b"[1, 2]", JSON, {"kserve": 500, "local": 400}),
    Probe("v1 truncated JSON", "v1", b'{"instances": [', JSON, {"kserve": 400, "local": 400}),
    Probe("v1 GET", "v1", b"", {}, {"kserve": 404, "local": 404}, method="GET"),
)
COUNTERPARTS = ("mlserver", "kserve", "local")


def table() -> str:
    """The catalogue as a Markdown table (for docs/conformance.md)."""
    lines = ["| request | valid | MLServer 1.7.1 | KServe 0.21 stock | mlharness runtime |", "| --- | --- | --- | --- | --- |"]
    for probe in PROBES:
        cells = [str(probe.expect.get(c, "—")) for c in COUNTERPARTS]
        lines.append(f"| {probe.method} {probe.name} | {'yes' if probe.valid else 'no'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
