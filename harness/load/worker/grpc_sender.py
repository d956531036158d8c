"""gRPC load for the locustfile: V2 ``ModelInfer`` calls, each reported to locust's ``request`` event.

Plain Python loaded by :mod:`harness.load.worker.locustfile` from beside itself, only in locust's
processes and only when the plan's protocol is ``grpc`` (REST runs never import grpc). It imports
nothing of the harness: the Open Inference Protocol messages come from the installed ``kserve``
package, loaded from their file as :mod:`harness.inference.grpc_proto` does (kserve's ``__init__`` would
import the whole model server into every load worker).

grpcio's default I/O does not cooperate with gevent: :func:`init` calls
``grpc.experimental.gevent.init_gevent()`` before any channel exists, as locust's own gRPC
example does (locustio/locust, ``examples/grpc/locustfile.py`` and ``grpc_user.py``). It runs
when the first sender is made, in the process that sends: grpcio is never imported in a
``--processes`` master before it forks its workers (gRPC's threads do not survive a fork:
"Other threads are currently calling into gRPC, skipping fork() handlers").
Each call has one deadline (``request_timeout``); messages larger than ``max_response_bytes``
are refused by gRPC (``RESOURCE_EXHAUSTED``); a failure is a ``LoadFailure`` with status 0 and the
gRPC status code and details, masked, so failures merge and read like REST ones.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

MODULE = "kserve.protocol.grpc.grpc_predict_v2_pb2"
METHOD = "/inference.GRPCInferenceService/ModelInfer"
_READY: list[bool] = []
#: as :mod:`harness.inference.grpc_proto`: the typed contents field and the raw format of each datatype
CONTENTS_FIELD = {"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
                  "INT64": "int64_contents", "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
                  "UINT64": "uint64_contents", "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents"}
#: how a template input's ``kind`` types a value (the harness's encoder names the kind of each input)
TYPES: dict[str, Callable[[Any], Any]] = {"float": float, "int": int, "bool": bool, "str": str}
RAW_FORMAT = {"BOOL": "?", "INT8": "b", "INT16": "h", "INT32": "i", "INT64": "q", "UINT8": "B", "UINT16": "H",
              "UINT32": "I", "UINT64": "Q", "FP16": "e", "FP32": "f", "FP64": "d"}


def init() -> None:
    """Make grpcio cooperate with gevent (once per process, before any channel)."""
    if not _READY:
        import grpc.experimental.gevent as grpc_gevent

        grpc_gevent.init_gevent()
        _READY.append(True)


def proto() -> Any:
    """kserve's ``grpc_predict_v2_pb2``, loaded from its file (see the module docstring)."""
    if MODULE in sys.modules:
        return sys.modules[MODULE]
    spec = importlib.util.find_spec("kserve")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("load over gRPC needs the 'kserve' package where locust runs")
    path = Path(spec.origin).parent / "protocol" / "grpc" / "grpc_predict_v2_pb2.py"
    file_spec = importlib.util.spec_from_file_location(MODULE, path)
    assert file_spec is not None and file_spec.loader is not None, path
    module = importlib.util.module_from_spec(file_spec)
    sys.modules[MODULE] = module
    file_spec.loader.exec_module(module)
    return module


def request_bytes(request: Mapping[str, Any], model_name: str, rows: Sequence[Sequence[Any]]) -> bytes:
    """A serialized ``ModelInferRequest`` of ``rows`` as the harness's encoder templated it (the plan's
    ``request``: each input's name, datatype and typed ``contents`` field; one ``[N, F]`` tensor, or one
    ``[N, 1]`` input per column)."""
    pb = proto()
    columns = request.get("codec") == "columns"
    tensors = []
    for k, spec in enumerate(request["inputs"]):
        convert = TYPES[spec.get("kind", "float")]
        if columns:
            shape, values = [len(rows), 1], [convert(row[k]) for row in rows]
        else:
            shape, values = [len(rows), len(rows[0])], [convert(v) for row in rows for v in row]
        if spec.get("kind") == "str":
            values = [str(v).encode() for v in values]
        contents = pb.InferTensorContents(**{spec["contents"]: values})
        tensors.append(pb.ModelInferRequest.InferInputTensor(name=spec["name"], datatype=spec["datatype"], shape=shape, contents=contents))
    message = pb.ModelInferRequest(model_name=model_name, model_version=request.get("model_version") or "", inputs=tensors)
    for key, value in (request.get("parameters") or {}).items():
        message.parameters[key].string_param = str(value)
    return bytes(message.SerializeToString())


def answer_dict(response: Any) -> dict[str, Any]:
    """A ``ModelInferResponse`` as the V2 REST answer it stands for (``{"outputs": [{name, shape, datatype, data}]}``),
    so that it is judged as a REST answer is. Raw contents that cannot be read raise ``ValueError``."""
    raw = list(response.raw_output_contents)
    if raw and len(raw) != len(response.outputs):
        raise ValueError(f"{len(response.outputs)} outputs but {len(raw)} raw_output_contents entries")
    outputs = []
    for i, output in enumerate(response.outputs):
        datatype = output.datatype.upper()
        if raw:
            data = _raw_values(raw[i], datatype)
        else:
            field = CONTENTS_FIELD.get(datatype)
            data = list(getattr(output.contents, field)) if field else []
        outputs.append({"name": output.name, "shape": [int(d) for d in output.shape], "datatype": datatype, "data": data})
    return {"outputs": outputs}


def _raw_values(raw: bytes, datatype: str) -> list[Any]:
    if datatype == "BYTES":  # each element: a 4-byte little-endian length, then that many bytes
        values, offset = [], 0
        while offset < len(raw):
            (length,) = struct.unpack_from("<I", raw, offset)
            if offset + 4 + length > len(raw):
                raise ValueError("BYTES raw contents run past their end")
            values.append(raw[offset + 4:offset + 4 + length])
            offset += 4 + length
        return values
    fmt = RAW_FORMAT.get(datatype)
    if fmt is None or len(raw) % struct.calcsize(fmt):
        raise ValueError(f"raw contents of datatype {datatype!r} cannot be read")
    return list(struct.unpack(f"<{len(raw) // struct.calcsize(fmt)}{fmt}", raw))


def target_of(url: str) -> tuple[str, bool]:
    """``(host:port, tls)`` of ``host:port``, ``grpc://host:port`` or ``grpcs://host:port``."""
    lowered = url.lower()
    if lowered.startswith("grpcs://"):
        return url[8:].rstrip("/"), True
    if lowered.startswith("grpc://"):
        return url[7:].rstrip("/"), False
    return url.rstrip("/"), False


class GrpcSender:
    """Sends one user's ``ModelInfer`` calls over its own channel and reports each to locust.

    Args:
        url: the gRPC address (see :func:`target_of`).
        headers: the endpoint's headers: ``Host`` becomes the channel's authority, the rest metadata.
        fire: locust's ``request`` event's ``fire``.
        timeout: the deadline of one call, seconds.
        max_bytes: the largest answer accepted.
        ca_cert: the CA bundle that verifies a ``grpcs://`` server (None: gRPC's roots).
        mask: masks secrets and cuts a failure text to one short line.
        failure: the locustfile's failure type, ``LoadFailure(status, summary, timeout=...)``.
        validate: why an answer (in its V2 form, :func:`answer_dict`) is not valid; None if it is.
    """

    def __init__(
        self, url: str, headers: Mapping[str, str], fire: Callable[..., Any], *, timeout: float, max_bytes: int,
        ca_cert: str | None, mask: Callable[[str], str], failure: Callable[..., Exception],
        validate: Callable[[Any], str | None] | None = None,
    ) -> None:
        init()
        import grpc

        self.grpc = grpc
        target, tls = target_of(url)
        self.url = url
        self.fire = fire
        self.timeout = timeout
        self.mask = mask
        self.failure = failure
        self.validate = validate
        self.metadata = tuple((k.lower(), v) for k, v in headers.items() if k.lower() not in ("host", "content-type"))
        options: list[tuple[str, Any]] = [("grpc.max_receive_message_length", max_bytes), ("grpc.enable_retries", 0),
                                          ("grpc.enable_http_proxy", 0)]
        authority = next((v for k, v in headers.items() if k.lower() == "host"), None)
        if authority:
            options.append(("grpc.default_authority", authority))
        if tls:
            roots = Path(ca_cert).read_bytes() if ca_cert else None
            self.channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots), options=options)
        else:
            self.channel = grpc.insecure_channel(target, options=options)
        # bytes in, bytes out: the request is serialized once per body; the answer is parsed below
        self.call = self.channel.unary_unary(METHOD)
        self.response_type = proto().ModelInferResponse

    def close(self) -> None:
        self.channel.close()

    def post(self, kind: str, path: str, body: bytes, context: dict[str, Any]) -> None:
        """One ``ModelInfer`` call with ``body`` (a serialized request); ``path`` is the method, for the report."""
        failure: Any = None
        length = 0
        start = time.time()
        began = time.perf_counter()
        try:
            answer = self.call(body, timeout=self.timeout, metadata=self.metadata)
            length = len(answer)
            response = self.response_type.FromString(answer)
            why = self.validate(answer_dict(response)) if self.validate is not None else None
            if not response.outputs:
                failure = self.failure(0, "gRPC OK without outputs")
            elif why:
                failure = self.failure(0, "gRPC OK outside the contract", self.mask(f"gRPC OK outside the contract: {why}"))
        except self.grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            name = getattr(code, "name", "UNKNOWN")
            if name == "DEADLINE_EXCEEDED":
                failure = self.failure(0, f"no complete answer within {self.timeout:g}s (request_timeout)", timeout=True)
            else:
                details = exc.details() if hasattr(exc, "details") else ""
                failure = self.failure(0, self.mask(f"gRPC {name}: {details}"))
        except Exception as exc:  # noqa: BLE001 - an unreadable answer is a failed request
            failure = self.failure(0, self.mask(f"{type(exc).__name__}: {exc}"))
        self.fire(request_type="gRPC", name=kind, response_time=(time.perf_counter() - began) * 1000,
                  response_length=length, response=None, exception=failure, context=context,
                  start_time=start, url=path)
