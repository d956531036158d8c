"""Valid but unusual requests: a server may serve them or decline them, never break on them.

A very large batch, a body of several MiB, V2 values the Open Inference Protocol lets a
server coerce ("Each element of the array may be an integer, floating-point number, string
or boolean value. The server can decide to coerce each element to the required type or
return an error": kserve/open-inference-protocol, ``specification/protocol/inference_rest.md``,
"Tensor Data"), and a JSON body with no or an odd Content-Type (tritonclient's JSON infer
sends none; the seed's own ``curl -d`` sends ``application/x-www-form-urlencoded``).

Each request knows the rows the server should read (after coercion), so a 2xx answer is
checked against the model artifact, or the seed's predictions where the rows are the seed's.
"""

from __future__ import annotations

import math
import struct

from harness.robustness.profiles import Profile
from harness.robustness.requests import Request, Rows, dumps, tensor, v1_path, v2_path
from harness.verify import SEED_INSTANCES

SEED: Rows = tuple(tuple(float(v) for v in row) for row in SEED_INSTANCES)
WIDTH = len(SEED[0])
ODD_CONTENT_TYPES = (None, "text/plain", "application/x-www-form-urlencoded")


def seed_rows(n: int) -> Rows:
    """``n`` rows alternating the seed's two rows (their predictions are known: the seed's)."""
    return tuple(SEED[i % len(SEED)] for i in range(n))


def _row_bytes(row: tuple[float, ...]) -> bytes:
    return dumps(list(row))  # json prints floats as repr: the shortest text that reads back exactly


def v1_body(rows: Rows) -> bytes:
    """``{"instances": rows}``, built fast for hundreds of thousands of rows."""
    cache = {row: _row_bytes(row) for row in set(rows)}
    return b'{"instances":[' + b",".join(cache[r] for r in rows) + b"]}"


def v2_body(rows: Rows, datatype: str = "FP32") -> bytes:
    """One ``[N, F]`` tensor with flat data, built fast for hundreds of thousands of rows."""
    cache = {row: _row_bytes(row)[1:-1] for row in set(rows)}
    head = b'{"inputs":[{"name":"input-0","shape":[%d,%d],"datatype":"%s","data":[' % (len(rows), WIDTH, datatype.encode())
    return head + b",".join(cache[r] for r in rows) + b"]}]}"


#: the seed's rows one float64 step up (6.8 -> 6.800000000000001): what a client that prints
#: float64 at full precision sends; their predictions are the seed's, and a body of several MiB
#: takes a quarter of the rows that "6.8" would
NUDGED: Rows = tuple(tuple(math.nextafter(v, math.inf) for v in row) for row in SEED)


def nudged_rows(n: int) -> Rows:
    """``n`` rows alternating the seed's two rows, nudged (predictions: the seed's)."""
    return tuple(NUDGED[i % len(NUDGED)] for i in range(n))


def rows_for_bytes(size: int, protocol: str) -> int:
    """The fewest nudged seed rows whose body over ``protocol`` has at least ``size`` bytes."""
    texts = [_row_bytes(r) if protocol == "v1" else _row_bytes(r)[1:-1] for r in NUDGED]
    empty = len(v1_body(())) if protocol == "v1" else len(v2_body(())) - 1  # less the "0" of shape [0, 4]

    def length(n: int) -> int:  # the body's length, without building it
        full, rest = divmod(n, len(texts))
        rows = full * sum(len(t) for t in texts) + sum(len(t) for t in texts[:rest])
        return empty + (len(str(n)) if protocol == "v2" else 0) + rows + max(0, n - 1)

    n = max(1, size // (max(len(t) for t in texts) + 1))  # never more than needed
    while length(n) < size:
        n += 1
    return n


def fp16(rows: Rows) -> Rows:
    """``rows`` as FP16 reads them (what a server that coerces FP16 data sees)."""
    return tuple(tuple(struct.unpack("<e", struct.pack("<e", v))[0] for v in row) for row in rows)


def unusual_cases(model: str, profile: Profile, protocols: tuple[str, ...]) -> list[Request]:
    """Valid but unusual requests over ``protocols`` (the ones the server speaks), V1 first."""
    batch = seed_rows(profile.large_batch_rows)
    size = f"{profile.large_body_bytes / (1024 * 1024):g} MiB"
    cases: list[Request] = []
    if "v1" in protocols:
        path = v1_path(model)
        big = nudged_rows(rows_for_bytes(profile.large_body_bytes, "v1"))
        cases += [
            Request("large_batch", "v1", "POST", path, v1_body(batch), note=f"{len(batch)} rows", rows=batch, seed_rows=True, large=True),
            Request("large_body", "v1", "POST", path, v1_body(big), note=f"{size}: {len(big)} rows", rows=big, seed_rows=True, large=True),
            *[
                Request("json_content_type", "v1", "POST", path, v1_body(SEED), ct, f"valid JSON sent {_as(ct)}", SEED, True)
                for ct in ODD_CONTENT_TYPES
            ],
        ]
    if "v2" in protocols:
        path = v2_path(model)
        big = nudged_rows(rows_for_bytes(profile.large_body_bytes, "v2"))
        cases += [
            Request("large_batch", "v2", "POST", path, v2_body(batch), note=f"{len(batch)} rows", rows=batch, seed_rows=True, large=True),
            Request("large_body", "v2", "POST", path, v2_body(big), note=f"{size}: {len(big)} rows", rows=big, seed_rows=True, large=True),
            Request("coercible_values", "v2", "POST", path, v2_body(SEED, "FP16"), note="FP16 data", rows=fp16(SEED), seed_rows=True),
            Request(
                "coercible_values", "v2", "POST", path,
                dumps(tensor([1, WIDTH], "FP32", [True, False, True, False])),
                note="booleans in an FP32 tensor", rows=((1.0, 0.0, 1.0, 0.0),),
            ),
            Request(
                "coercible_values", "v2", "POST", path,
                dumps(tensor([len(SEED), WIDTH], "FP32", [str(v) for row in SEED for v in row])),
                note="numeric strings in an FP32 tensor", rows=SEED, seed_rows=True,
            ),
            *[
                Request("json_content_type", "v2", "POST", path, v2_body(SEED), ct, f"valid JSON sent {_as(ct)}", SEED, True)
                for ct in ODD_CONTENT_TYPES[:2]
            ],
        ]
    return cases


def _as(content_type: str | None) -> str:
    return "with no Content-Type" if content_type is None else f"as {content_type}"
