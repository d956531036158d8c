"""The Open Inference Protocol's gRPC messages, as the installed ``kserve`` package ships them.

KServe 0.21 ships the generated protobuf module ``kserve/protocol/grpc/grpc_predict_v2_pb2.py``
(package ``inference``, service ``GRPCInferenceService``: ``ServerReady``, ``ModelReady``,
``ModelInfer``...; kserve/kserve, v0.21.0, ``python/kserve/kserve/protocol/grpc/grpc_predict_v2.proto``).
Importing it as ``kserve.protocol.grpc.grpc_predict_v2_pb2`` first runs ``kserve/__init__.py``,
which imports the whole model server (FastAPI, uvicorn, pandas...: 2–10 s measured on this
project's 2-core machine); the file itself needs only ``google.protobuf``. :func:`proto` loads
that one file by its path (0.1 s) and registers it under its own name, so a later real import
finds the same module and the protobuf descriptor pool holds the file once.

This module has no gRPC channel in it: it builds requests and reads answers (tensor
``contents`` or ``raw_output_contents``) into the JSON form :class:`harness.inference.outputs.OutputReader`
reads, so gRPC answers are compared exactly as REST V2 answers are.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE = "kserve.protocol.grpc.grpc_predict_v2_pb2"
RELATIVE_PATH = Path("protocol") / "grpc" / "grpc_predict_v2_pb2.py"
SERVICE = "inference.GRPCInferenceService"

#: the ``InferTensorContents`` field of each datatype (the proto's comments: "BOOL" -> bool_contents...)
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
#: ``struct`` formats of the fixed-size datatypes in ``raw_output_contents`` (little-endian, row-major)
RAW_FORMAT = {
    "BOOL": "?", "INT8": "b", "INT16": "h", "INT32": "i", "INT64": "q",
    "UINT8": "B", "UINT16": "H", "UINT32": "I", "UINT64": "Q",
    "FP16": "e", "FP32": "f", "FP64": "d",
}


class ProtoError(ValueError):
    """An answer whose tensors cannot be read; the message says which and why."""


@cache
def proto() -> ModuleType:
    """The ``grpc_predict_v2_pb2`` module of the installed kserve, loaded without kserve's ``__init__``.

    Raises:
        ModuleNotFoundError: kserve is not installed (it is a dependency of mlharness).
    """
    if MODULE in sys.modules:
        return sys.modules[MODULE]
    spec = importlib.util.find_spec("kserve")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("the gRPC protocol needs the 'kserve' package, which ships its messages: pip install 'mlharness[local]'")
    path = Path(spec.origin).parent / RELATIVE_PATH
    file_spec = importlib.util.spec_from_file_location(MODULE, path)
    if file_spec is None or file_spec.loader is None:
        raise ModuleNotFoundError(f"kserve has no {RELATIVE_PATH} at {path}")
    module = importlib.util.module_from_spec(file_spec)
    sys.modules[MODULE] = module
    file_spec.loader.exec_module(module)
    return module


def method(name: str) -> str:
    """The full path of a ``GRPCInferenceService`` method: ``/inference.GRPCInferenceService/ModelInfer``."""
    return f"/{SERVICE}/{name}"


def response_dict(response: Any) -> dict[str, Any]:
    """A ``ModelInferResponse`` as the V2 REST answer it stands for: ``{"outputs": [{name, shape, datatype, data}]}``.

    Values come from ``raw_output_contents`` when the server sent them (one entry per output,
    in order: KServe does for numpy results), else from the typed ``contents``.

    Raises:
        ProtoError: raw contents that do not match the outputs or their datatype.
    """
    raw = list(response.raw_output_contents)
    if raw and len(raw) != len(response.outputs):
        raise ProtoError(f"{len(response.outputs)} outputs but {len(raw)} raw_output_contents entries")
    outputs = []
    for i, output in enumerate(response.outputs):
        datatype = output.datatype.upper()
        data = _raw_values(raw[i], datatype, output.name) if raw else _typed_values(output, datatype)
        outputs.append({"name": output.name, "shape": [int(d) for d in output.shape], "datatype": datatype, "data": data})
    return {"model_name": response.model_name, "id": response.id, "outputs": outputs}


def _typed_values(output: Any, datatype: str) -> list[Any]:
    field = CONTENTS_FIELD.get(datatype)
    if field is None:  # FP16/BF16 have no typed field: they come raw or not at all
        return []
    return list(getattr(output.contents, field))


def _raw_values(raw: bytes, datatype: str, name: str) -> list[Any]:
    if datatype == "BYTES":
        return _bytes_elements(raw, name)
    fmt = RAW_FORMAT.get(datatype)
    if fmt is None:
        raise ProtoError(f"output {name!r}: raw contents of datatype {datatype!r} cannot be read")
    size = struct.calcsize(fmt)
    if len(raw) % size:
        raise ProtoError(f"output {name!r}: {len(raw)} raw bytes is not a whole number of {datatype} values")
    return list(struct.unpack(f"<{len(raw) // size}{fmt}", raw))


def _bytes_elements(raw: bytes, name: str) -> list[bytes]:
    """BYTES raw contents: each element a 4-byte little-endian length, then that many bytes."""
    values, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise ProtoError(f"output {name!r}: BYTES raw contents end inside a length prefix")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise ProtoError(f"output {name!r}: a BYTES element of {length} bytes runs past the end")
        values.append(raw[offset : offset + length])
        offset += length
    return values
