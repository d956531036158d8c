"""A stand-in ``GRPCInferenceService`` on 127.0.0.1 that misbehaves on purpose (deadlines, faults, metadata).

It has the shape KServe's generated ``grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server``
registers (kserve/kserve v0.21.0, ``python/kserve/kserve/protocol/grpc/grpc_predict_v2_pb2_grpc.py``):
a generic handler for the service ``inference.GRPCInferenceService`` with unary methods
``ServerReady``, ``ModelReady`` and ``ModelInfer``, on the messages of ``grpc_predict_v2_pb2``.

Behaviours: ``ok`` (every row answers 1, INT64), ``wrong`` (every row answers 2: a served model
that disagrees), ``unavailable`` (every call aborts UNAVAILABLE, echoing the cookie it got),
``slow`` (ModelInfer sleeps 2 s: past a short client deadline), ``delay`` (ModelInfer sleeps
:data:`DELAY_MS`, then answers as ``ok``: a server whose latency is known by construction), and three
that answer no prediction (issue 19's property test): ``invalid`` (every ModelInfer aborts
INVALID_ARGUMENT, as Triton does for an input it does not know), ``empty`` (a response with no
output tensor), ``short`` (an output tensor one value longer than the rows).
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from harness.inference import grpc_proto

SLOW_S = 2.0
DELAY_MS = 50.0


class GrpcStub:
    """The stub server; a context manager that starts it on a free port and stops it."""

    def __init__(self, behaviour: str, port: int = 0, record: Path | None = None) -> None:
        self.behaviour = behaviour
        self.port = port
        self.record = record  # where the first call's metadata is written (a stub in its own process)
        self.metadata: list[dict[str, str]] = []
        self.calls = 0
        self._server: grpc.Server | None = None
        self.address = ""

    def _abort_if_unavailable(self, context: grpc.ServicerContext) -> None:
        if self.behaviour == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, f"stub down (cookie was {dict(context.invocation_metadata()).get('cookie')})")

    def handler(self) -> grpc.GenericRpcHandler:
        pb = grpc_proto.proto()

        def server_ready(request: Any, context: grpc.ServicerContext) -> Any:
            self._abort_if_unavailable(context)
            return pb.ServerReadyResponse(ready=True)

        def model_ready(request: Any, context: grpc.ServicerContext) -> Any:
            self._abort_if_unavailable(context)
            return pb.ModelReadyResponse(ready=True)

        def infer(request: Any, context: grpc.ServicerContext) -> Any:
            self.calls += 1
            self.metadata.append(dict(context.invocation_metadata()))
            if self.record is not None and self.calls == 1:
                self.record.write_text(json.dumps(self.metadata[0]))
            self._abort_if_unavailable(context)
            if self.behaviour == "slow":
                time.sleep(SLOW_S)
            if self.behaviour == "delay":
                time.sleep(DELAY_MS / 1000)
            if self.behaviour == "invalid":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unexpected inference input 'input-0'")
            rows = int(request.inputs[0].shape[0]) if request.inputs and request.inputs[0].shape else 0
            if self.behaviour == "empty":
                return pb.ModelInferResponse(model_name=request.model_name)
            label = 2 if self.behaviour == "wrong" else 1
            values = rows + 1 if self.behaviour == "short" else rows
            output = {"name": "predict", "datatype": "INT64", "shape": [values], "contents": {"int64_contents": [label] * values}}
            return pb.ModelInferResponse(model_name=request.model_name, outputs=[output])

        def unary(fn: Any, request: Any, response: Any) -> grpc.RpcMethodHandler:
            return grpc.unary_unary_rpc_method_handler(fn, request.FromString, response.SerializeToString)

        return grpc.method_handlers_generic_handler(grpc_proto.SERVICE, {
            "ServerReady": unary(server_ready, pb.ServerReadyRequest, pb.ServerReadyResponse),
            "ModelReady": unary(model_ready, pb.ModelReadyRequest, pb.ModelReadyResponse),
            "ModelInfer": unary(infer, pb.ModelInferRequest, pb.ModelInferResponse),
        })

    def __enter__(self) -> GrpcStub:
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self._server.add_generic_rpc_handlers((self.handler(),))
        port = self._server.add_insecure_port(f"127.0.0.1:{self.port}")
        self._server.start()
        self.address = f"127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None


async def serve_aio(behaviour: str, port: int, record: Path | None) -> None:
    """The ``delay``/``ok``/``unavailable`` behaviours on grpc's asyncio server: a stub in its own
    process for load tests, whose per-call overhead stays far below the sync server's thread hand-offs."""
    import asyncio

    pb = grpc_proto.proto()
    calls = 0

    async def infer(request: Any, context: grpc.aio.ServicerContext) -> Any:
        nonlocal calls
        calls += 1
        if record is not None and calls == 1:
            record.write_text(json.dumps(dict(context.invocation_metadata() or ())))
        if behaviour == "unavailable":
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"stub down (cookie was {dict(context.invocation_metadata() or ()).get('cookie')})")
        if behaviour == "delay":
            await asyncio.sleep(DELAY_MS / 1000)
        rows = int(request.inputs[0].shape[0]) if request.inputs and request.inputs[0].shape else 0
        output = {"name": "predict", "datatype": "INT64", "shape": [rows], "contents": {"int64_contents": [1] * rows}}
        return pb.ModelInferResponse(model_name=request.model_name, outputs=[output])

    handler = grpc.method_handlers_generic_handler(grpc_proto.SERVICE, {
        "ModelInfer": grpc.unary_unary_rpc_method_handler(infer, pb.ModelInferRequest.FromString, pb.ModelInferResponse.SerializeToString),
    })
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    """Serve one behaviour on 127.0.0.1:PORT until killed (a stub in its own process, for load tests)."""
    import asyncio

    parser = argparse.ArgumentParser()
    parser.add_argument("--behaviour", required=True, choices=("ok", "delay", "unavailable"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    asyncio.run(serve_aio(args.behaviour, args.port, args.record))


if __name__ == "__main__":
    main()
