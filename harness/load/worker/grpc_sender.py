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
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

MODULE = "kserve.protocol.grpc.grpc_predict_v2_pb2"
METHOD = "/inference.GRPCInferenceService/ModelInfer"
_READY: list[bool] = []


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


def request_bytes(model_name: str, rows: Sequence[Sequence[float]]) -> bytes:
    """A serialized ``ModelInferRequest``: one FP32 ``[N, F]`` tensor ``input-0`` (as the harness's client sends)."""
    pb = proto()
    flat = [float(v) for row in rows for v in row]
    tensor = pb.ModelInferRequest.InferInputTensor(
        name="input-0", datatype="FP32", shape=[len(rows), len(rows[0])], contents=pb.InferTensorContents(fp32_contents=flat)
    )
    return bytes(pb.ModelInferRequest(model_name=model_name, inputs=[tensor]).SerializeToString())


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
        failure: the locustfile's failure type, ``LoadFailure(status, summary)``.
    """

    def __init__(
        self, url: str, headers: Mapping[str, str], fire: Callable[..., Any], *, timeout: float, max_bytes: int,
        ca_cert: str | None, mask: Callable[[str], str], failure: Callable[[int, str], Exception],
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
            if not self.response_type.FromString(answer).outputs:
                failure = self.failure(0, "gRPC OK without outputs")
        except self.grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            name = getattr(code, "name", "UNKNOWN")
            if name == "DEADLINE_EXCEEDED":
                failure = self.failure(0, f"no complete answer within {self.timeout:g}s (request_timeout)")
            else:
                details = exc.details() if hasattr(exc, "details") else ""
                failure = self.failure(0, self.mask(f"gRPC {name}: {details}"))
        except Exception as exc:  # noqa: BLE001 - an unreadable answer is a failed request
            failure = self.failure(0, self.mask(f"{type(exc).__name__}: {exc}"))
        self.fire(request_type="gRPC", name=kind, response_time=(time.perf_counter() - began) * 1000,
                  response_length=length, response=None, exception=failure, context=context,
                  start_time=start, url=path)
