"""The one request encoder: every request the harness sends is built here, from the signature.

REST V1 (``{"instances": rows}``), REST V2 (one ``[N, F]`` tensor, or one input per column
with the pandas content type), gRPC ``ModelInferRequest``, the robustness requests (valid,
unusual and malformed: built from the real signature, so the malformation is the only thing
wrong with them) and the load workers' template (the worker imports nothing of the harness: the
plan carries :meth:`Encoder.template` and the worker's ``bodies.py`` fills it). No other module
names a tensor or a request datatype (a test greps for them).

Model names are whatever the protocol carries (``breast_cancer``, ``My.Model``); in a path
they are URL-encoded.

Example:
    >>> enc = Encoder(default_signature(2))
    >>> enc.v2_body([[1.0, 2.0]])["inputs"][0]["name"]
    'input-0'
    >>> Encoder.v2_path("my model")
    '/v2/models/my%20model/infer'
"""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from harness.signature import (
    COLUMNS,
    INT_DATATYPES,
    Signature,
    TensorSpec,
    default_signature,
)

Rows = Sequence[Sequence[Any]]
#: the ``struct`` formats of the datatypes narrower than a Python float
ROUNDED = {"FP32": "<f", "FP16": "<e"}
#: the pandas content type a per-column V2 request carries (MLServer's and KServe's codecs)
PANDAS = {"content_type": "pd"}
#: the pandas dtype of a per-column input's datatype (as MLServer's ``to_dtype`` and KServe's
#: ``as_dataframe`` give it: BYTES columns are Python strings, ``object``)
FRAME_DTYPES = {"BYTES": "object", "FP64": "float64", "FP32": "float32", "INT64": "int64", "INT32": "int32", "BOOL": "bool"}


def quoted(name: str) -> str:
    """A model name or version as one path segment (``/`` and spaces encoded)."""
    return quote(str(name), safe="")


def value(datatype: str, v: Any) -> Any:
    """``v`` as a JSON value of ``datatype`` (numbers stay numbers; BYTES are strings)."""
    if datatype == "BYTES":
        return v if isinstance(v, str) else str(v)
    if datatype == "BOOL":
        return bool(v)
    if datatype in INT_DATATYPES:
        return int(v)
    return float(v)


class Encoder:
    """Builds requests for one signature.

    Args:
        signature: what the server takes (None: today's default, ``[N, F]`` FP32 ``input-0``).
    """

    def __init__(self, signature: Signature | None = None) -> None:
        self.signature = signature or default_signature()

    @property
    def input(self) -> TensorSpec:
        return self.signature.input

    @property
    def datatype(self) -> str:
        return self.signature.datatype

    @property
    def is_columns(self) -> bool:
        return self.signature.codec == COLUMNS

    def with_datatype(self, datatype: str) -> Encoder:
        """The same requests with the first input's datatype ``datatype`` (robustness twins)."""
        first = dataclasses.replace(self.input, datatype=datatype)
        return Encoder(dataclasses.replace(self.signature, inputs=(first, *self.signature.inputs[1:])))

    def as_sent(self, rows: Rows) -> list[list[Any]]:
        """``rows`` as the server reads them from this signature's requests: FP32 and FP16 values
        rounded to their precision, integers truncated (so the artifact in-process is asked
        about the same numbers the server was sent)."""
        specs = self.signature.inputs
        return [[_as_read(specs[min(k, len(specs) - 1)].datatype if self.is_columns else self.datatype, v)
                 for k, v in enumerate(row)] for row in rows]

    # --- paths ----------------------------------------------------------------------------
    @staticmethod
    def model_path(model_name: str, version: str | None = None, protocol: str = "v2") -> str:
        """``/v2/models/NAME[/versions/V]`` (``/v1/models/NAME`` for V1), the name URL-encoded."""
        if protocol == "v1":
            return f"/v1/models/{quoted(model_name)}"
        path = f"/v2/models/{quoted(model_name)}"
        return f"{path}/versions/{quoted(version)}" if version else path

    @classmethod
    def v2_path(cls, model_name: str, version: str | None = None) -> str:
        return cls.model_path(model_name, version) + "/infer"

    @classmethod
    def v1_path(cls, model_name: str) -> str:
        return cls.model_path(model_name, protocol="v1") + ":predict"

    # --- REST -----------------------------------------------------------------------------
    def v1_body(self, rows: Rows) -> dict[str, Any]:
        """``{"instances": rows}``; values typed as the signature's inputs take them. A per-column
        model's rows are named: ``{"instances": [[{"island": "Dream", "mass": 3.9}, ...]]}``, one
        instance holding the batch's records, the form KServe's ``get_predict_input`` turns into
        a DataFrame (kserve 0.21.0 ``kserve/utils/utils.py``: ``instances[0][0]`` a dict →
        ``pd.DataFrame(instance)``; a flat list of dicts of scalars fails there with "If using
        all scalar values, you must pass an index")."""
        if self.is_columns:
            return {"instances": [self.records(rows)]} if rows else {"instances": []}
        return {"instances": [[value(self.datatype, v) for v in row] for row in rows]}

    def records(self, rows: Rows) -> list[dict[str, Any]]:
        """Each row as ``{input name: value}`` (a per-column model's named rows)."""
        return [{t.name: value(t.datatype, v) for t, v in zip(self.signature.inputs, row, strict=False)} for row in rows]

    def v2_body(self, rows: Rows, nested: bool = True) -> dict[str, Any]:
        """A V2 ``/infer`` body: one ``[N, F]`` tensor (nested rows, or flat with ``nested=False``),
        or one ``[N, 1]`` input per column with the pandas content type (``"parameters":
        {"content_type": "pd"}``): MLServer 1.7.1's ``PandasCodec.decode_request``
        (``mlserver/codecs/pandas.py``) makes each input a column named after it, BYTES kept as
        strings; KServe's ``get_predict_input`` calls ``InferRequest.as_dataframe`` for that
        content type (``kserve/protocol/infer_type.py``), BYTES decoded as UTF-8."""
        if self.is_columns:
            inputs = [
                {"name": t.name, "shape": [len(rows), 1], "datatype": t.datatype, "data": [value(t.datatype, row[i]) for row in rows]}
                for i, t in enumerate(self.signature.inputs)
            ]
            return {"parameters": dict(PANDAS), "inputs": inputs}
        width = len(rows[0]) if rows else 0
        data: list[Any] = [[value(self.datatype, v) for v in r] for r in rows]
        if not nested:
            data = [v for r in data for v in r]
        return {"inputs": [self.tensor([len(rows), width], data)]}

    def tensor(self, shape: Any, data: Any, datatype: Any = None, name: Any = None, **extra: Any) -> dict[str, Any]:
        """One V2 input tensor of the signature (its name and datatype unless given); for the
        robustness requests, any field may be any JSON value."""
        tensor = {"name": self.input.name if name is None else name, "shape": shape,
                  "datatype": self.datatype if datatype is None else datatype, "data": data}
        tensor.update(extra)
        return tensor

    def v2_head(self, shape: Sequence[int], datatype: str | None = None) -> bytes:
        """The bytes of a V2 body up to its data's opening bracket, for bodies written as bytes
        (literals JSON cannot hold: ``NaN``, ``1e400``, a cut-off body)."""
        dims = ",".join(str(int(d)) for d in shape)
        return (f'{{"inputs":[{{"name":"{self.input.name}","shape":[{dims}],'
                f'"datatype":"{datatype or self.datatype}","data":[').encode()

    # --- gRPC -----------------------------------------------------------------------------
    def grpc_request(self, model_name: str, rows: Rows) -> Any:
        """A ``ModelInferRequest`` of the signature, its values in typed ``contents``."""
        from harness.inference import grpc_proto

        pb = grpc_proto.proto()
        specs = self.signature.inputs if self.is_columns else (self.input,)
        tensors = []
        for i, spec in enumerate(specs):
            if self.is_columns:
                shape, values = [len(rows), 1], [value(spec.datatype, row[i]) for row in rows]
            else:
                shape, values = [len(rows), len(rows[0]) if rows else 0], [value(spec.datatype, v) for row in rows for v in row]
            field = grpc_proto.CONTENTS_FIELD.get(spec.datatype)
            if field is None:
                raise ValueError(f"no gRPC contents field for datatype {spec.datatype!r}")
            if spec.datatype == "BYTES":
                values = [str(v).encode() for v in values]
            contents = pb.InferTensorContents(**{field: values})
            tensors.append(pb.ModelInferRequest.InferInputTensor(name=spec.name, datatype=spec.datatype, shape=shape, contents=contents))
        request = pb.ModelInferRequest(model_name=model_name, model_version=self.signature.version or "", inputs=tensors)
        if self.is_columns:
            request.parameters["content_type"].string_param = PANDAS["content_type"]
        return request

    # --- the load workers -----------------------------------------------------------------
    def template(self, model_name: str) -> dict[str, Any]:
        """What the load plan carries for the workers' bodies (plain JSON): the paths, the codec,
        each input's name and datatype and its gRPC contents field."""
        from harness.inference.grpc_proto import CONTENTS_FIELD

        specs = self.signature.inputs if self.is_columns else (self.input,)
        return {
            "v1_path": self.v1_path(model_name),
            "v2_path": self.v2_path(model_name, self.signature.version),
            "model_version": self.signature.version or "",
            "codec": self.signature.codec,
            "parameters": dict(PANDAS) if self.is_columns else None,
            "inputs": [{"name": t.name, "datatype": t.datatype, "contents": CONTENTS_FIELD.get(t.datatype),
                        "kind": _kind(t.datatype)} for t in specs],
        }


def _as_read(datatype: str, v: Any) -> Any:
    fmt = ROUNDED.get(datatype)
    if fmt is not None and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        try:
            return struct.unpack(fmt, struct.pack(fmt, float(v)))[0]
        except OverflowError:
            return v
    if datatype in INT_DATATYPES and isinstance(v, int | float) and math.isfinite(v):
        return int(v)
    return v


def _kind(datatype: str) -> str:
    """How the worker types a value: ``float``, ``int``, ``bool`` or ``str``."""
    if datatype == "BYTES":
        return "str"
    if datatype == "BOOL":
        return "bool"
    if datatype in INT_DATATYPES:
        return "int"
    return "float"


__all__ = ["PANDAS", "Encoder", "quoted", "value"]
