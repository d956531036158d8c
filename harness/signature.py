"""The model's signature: the input tensors a request carries and the outputs it answers with.

A server that publishes its signature (the Open Inference Protocol's model metadata:
``GET /v2/models/{name}`` or gRPC ``ModelMetadata``) enforces it: Triton rejects an input of
another name (``unexpected inference input 'input-0'``) or another datatype. The signature is
part of the model contract (:mod:`harness.contract.signature` resolves it from its sources,
strongest first) and the one request encoder (:mod:`harness.inference.encoder`) builds every
request from it. Each part records where it came from, for the report.

This module is the base of that: plain frozen records, no I/O. The names and datatypes of
today's default request (one ``[N, F]`` tensor ``input-0``) live here and nowhere else but the
encoder (a test greps for them).

Example:
    >>> sig = default_signature(4)
    >>> sig.input.name, sig.input.datatype, sig.input.shape
    ('input-0', 'FP32', (-1, 4))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

#: today's default request: what the harness sent before it asked the server
DEFAULT_INPUT_NAME = "input-0"
DEFAULT_DATATYPE = "FP32"
#: the datatype a signature-less parity request uses, so no rounding differs from the in-process model
EXACT_DATATYPE = "FP64"
#: the Open Inference Protocol's tensor datatypes (its REST and gRPC spec, "Tensor Data Types")
DATATYPES = ("BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
             "FP16", "FP32", "FP64", "BF16", "BYTES")
FLOAT_DATATYPES = ("FP16", "FP32", "FP64", "BF16")
INT_DATATYPES = ("UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64")
#: the request codecs: one ``[N, F]`` tensor, or one input per column (the pandas content type)
TENSOR = "tensor"
COLUMNS = "columns"

DEFAULT_SOURCE = "default"


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """One input or output: its name, datatype and shape (``-1``: any size)."""

    name: str
    datatype: str
    shape: tuple[int, ...] = ()

    @property
    def width(self) -> int | None:
        """Values per row: the shape's last dimension, when it is fixed (None: any, or unknown)."""
        if len(self.shape) < 2 or self.shape[-1] < 0:
            return None
        return self.shape[-1]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclasses.dataclass(frozen=True)
class Signature:
    """What a request carries and where each part of it came from.

    Args:
        inputs: the input tensors; one ``[N, F]`` tensor, or one per column (``codec`` ``columns``).
        outputs: the outputs the server publishes (empty: unknown).
        codec: ``tensor`` or ``columns`` (one input per feature, the pandas content type).
        version: the model version requests name (None: the server's default).
        max_batch_size: the largest batch the server takes (None: it publishes none).
        sources: each part (``inputs``, ``datatype``, ``outputs``, ``version``, ``max_batch_size``)
            and where it came from (``the server's metadata (GET /v2/models/x)``, ``default``).
    """

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...] = ()
    codec: str = TENSOR
    version: str | None = None
    max_batch_size: int | None = None
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def input(self) -> TensorSpec:
        """The first input (the only one of a ``tensor`` signature)."""
        return self.inputs[0]

    @property
    def datatype(self) -> str:
        return self.input.datatype

    def source(self, part: str) -> str:
        return self.sources.get(part, DEFAULT_SOURCE)

    def with_sources(self, sources: Mapping[str, str]) -> Signature:
        merged = dict(self.sources)
        merged.update(sources)
        return dataclasses.replace(self, sources=merged)

    def as_dict(self) -> dict[str, Any]:
        return {
            "codec": self.codec,
            "inputs": [t.as_dict() for t in self.inputs],
            "outputs": [t.as_dict() for t in self.outputs],
            "version": self.version,
            "max_batch_size": self.max_batch_size,
            "sources": dict(self.sources),
        }


def default_signature(width: int | None = None, exact: bool = False) -> Signature:
    """Today's request: one ``[N, width]`` tensor ``input-0``, FP32 (FP64 with ``exact``)."""
    shape = (-1, width if width is not None else -1)
    return Signature((TensorSpec(DEFAULT_INPUT_NAME, EXACT_DATATYPE if exact else DEFAULT_DATATYPE, shape),))


def column_input(name: str, dtype: str) -> TensorSpec:
    """A per-column model's input for one feature of ``dtype`` (``string``, ``int``, ``float``):
    ``BYTES`` for text, ``INT64`` or ``FP64`` for numbers (the dtypes pandas gives the training
    frame's columns, so the server's frame is the same), shape ``[-1, 1]``."""
    datatype = "BYTES" if dtype == "string" else "INT64" if dtype == "int" else EXACT_DATATYPE
    return TensorSpec(name, datatype, (-1, 1))


def exact(signature: Signature) -> Signature:
    """The signature a parity request uses: a default datatype (nobody asked the server) widened
    to FP64 so no rounding differs; a datatype the server or the user gave is kept (Triton
    enforces its one configured type)."""
    if signature.codec != TENSOR or signature.source("datatype") != DEFAULT_SOURCE:
        return signature
    first = dataclasses.replace(signature.input, datatype=EXACT_DATATYPE)
    return dataclasses.replace(signature, inputs=(first, *signature.inputs[1:]))
