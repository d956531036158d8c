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

from harness.inference.encoder import Encoder
from harness.robustness.profiles import Profile
from harness.robustness.requests import Request, Rows, dumps, tensor, v1_path, v2_path
from harness.robustness.schema import IRIS_SCHEMA

SEED: Rows = IRIS_SCHEMA.seed  # the default; the cases are built from the contract's seed rows
WIDTH = len(SEED[0])
ODD_CONTENT_TYPES = (None, "text/plain", "application/x-www-form-urlencoded")


def seed_rows(n: int, seed: Rows = SEED) -> Rows:
    """``n`` rows cycling through the seed's rows (their predictions are known: the seed's)."""
    return tuple(seed[i % len(seed)] for i in range(n))


def _row_bytes(row: tuple[float, ...]) -> bytes:
    return dumps(list(row))  # json prints floats as repr: the shortest text that reads back exactly


def v1_body(rows: Rows) -> bytes:
    """``{"instances": rows}``, built fast for hundreds of thousands of rows."""
    cache = {row: _row_bytes(row) for row in set(rows)}
    return b'{"instances":[' + b",".join(cache[r] for r in rows) + b"]}"


def v2_body(rows: Rows, datatype: str | None = None, width: int | None = None, encoder: Encoder | None = None) -> bytes:
    """One ``[N, F]`` tensor of the signature (``encoder``'s; ``datatype`` overrides its datatype)
    with flat data, built fast for hundreds of thousands of rows (``F``: ``width``, else the
    first row's length)."""
    cache = {row: _row_bytes(row)[1:-1] for row in set(rows)}
    width = width if width is not None else len(rows[0]) if rows else WIDTH
    head = (encoder or Encoder()).v2_head([len(rows), width], datatype)
    return head + b",".join(cache[r] for r in rows) + b"]}]}"


#: the seed's rows one float64 step up (6.8 -> 6.800000000000001): what a client that prints
#: float64 at full precision sends; their predictions are the seed's, and a body of several MiB
#: takes a quarter of the rows that "6.8" would
def nudge(seed: Rows) -> Rows:
    """Each value one float64 step up."""
    return tuple(tuple(math.nextafter(v, math.inf) for v in row) for row in seed)


NUDGED: Rows = nudge(SEED)


def nudged_rows(n: int, seed: Rows = SEED) -> Rows:
    """``n`` rows cycling through the seed's rows, nudged (predictions: the seed's)."""
    nudged = nudge(seed)
    return tuple(nudged[i % len(nudged)] for i in range(n))


def rows_for_bytes(size: int, protocol: str, seed: Rows = SEED, encoder: Encoder | None = None) -> int:
    """The fewest nudged seed rows whose body over ``protocol`` has at least ``size`` bytes."""
    texts = [_row_bytes(r) if protocol == "v1" else _row_bytes(r)[1:-1] for r in nudge(seed)]
    empty = len(v1_body(())) if protocol == "v1" else len(v2_body((), width=len(seed[0]), encoder=encoder)) - 1  # less the "0" of shape [0, F]

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


def unusual_cases(model: str, profile: Profile, protocols: tuple[str, ...], seed: Rows = SEED,
                  encoder: Encoder | None = None) -> list[Request]:
    """Valid but unusual requests over ``protocols`` (the ones the server speaks), V1 first,
    built from ``seed`` (rows of the model's width whose answers are known), V2 requests of
    ``encoder``'s signature."""
    enc = encoder or Encoder()
    width = len(seed[0])
    batch = seed_rows(profile.large_batch_rows, seed)
    size = f"{profile.large_body_bytes / (1024 * 1024):g} MiB"
    cases: list[Request] = []
    if "v1" in protocols:
        path = v1_path(model)
        big = nudged_rows(rows_for_bytes(profile.large_body_bytes, "v1", seed), seed)
        cases += [
            Request("large_batch", "v1", "POST", path, v1_body(batch), note=f"{len(batch)} rows", rows=batch, seed_rows=True, large=True),
            Request("large_body", "v1", "POST", path, v1_body(big), note=f"{size}: {len(big)} rows", rows=big, seed_rows=True, large=True),
            *[
                Request("json_content_type", "v1", "POST", path, v1_body(seed), ct, f"valid JSON sent {_as(ct)}", seed, True)
                for ct in ODD_CONTENT_TYPES
            ],
        ]
    if "v2" in protocols:
        path = v2_path(model)
        big = nudged_rows(rows_for_bytes(profile.large_body_bytes, "v2", seed, enc), seed)
        kind = enc.datatype
        cases += [
            Request("large_batch", "v2", "POST", path, v2_body(batch, encoder=enc), note=f"{len(batch)} rows", rows=batch, seed_rows=True, large=True),
            Request("large_body", "v2", "POST", path, v2_body(big, encoder=enc), note=f"{size}: {len(big)} rows", rows=big, seed_rows=True, large=True),
            Request("coercible_values", "v2", "POST", path, v2_body(seed, "FP16", encoder=enc), note="FP16 data", rows=fp16(seed), seed_rows=True),
            Request(
                "coercible_values", "v2", "POST", path,
                dumps(tensor(enc, [1, width], [i % 2 == 0 for i in range(width)])),
                note=f"booleans in an {kind} tensor", rows=(tuple(float(i % 2 == 0) for i in range(width)),),
            ),
            Request(
                "coercible_values", "v2", "POST", path,
                dumps(tensor(enc, [len(seed), width], [str(v) for row in seed for v in row])),
                note=f"numeric strings in an {kind} tensor", rows=seed, seed_rows=True,
            ),
            *[
                Request("json_content_type", "v2", "POST", path, v2_body(seed, encoder=enc), ct, f"valid JSON sent {_as(ct)}", seed, True)
                for ct in ODD_CONTENT_TYPES[:2]
            ],
        ]
    return cases


def _as(content_type: str | None) -> str:
    return "with no Content-Type" if content_type is None else f"as {content_type}"
