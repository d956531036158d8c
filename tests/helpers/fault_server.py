"""A small KServe-protocol server (V1 and V2) with injectable faults: the harness's mutation tests.

It serves the iris SVC from ``--model-dir`` the way KServe does (``GET /v1/models/NAME``,
``POST /v1/models/NAME:predict``, ``/v2/health/ready``, ``POST /v2/models/NAME/infer``),
validating input like :mod:`harness.serving.runtime`, and breaks on purpose with ``--fault``.
Healthy, it is the strict server of issue 9: every malformed request gets a 4xx with an
``{"error": ...}`` body (415 for a body sent as text, XML or form), a wrong method 405; it
serves any batch size (a 20,000-row batch, a 4 MiB body), reads a JSON body sent with no
Content-Type (as tritonclient sends it), and coerces FP16 data and booleans in V2 tensors, as
the Open Inference Protocol allows ("The server can decide to coerce each element to the
required type": kserve/open-inference-protocol, ``specification/protocol/inference_rest.md``)
and as MLServer 1.7.1 does.

==================  ===========================================================================
``none``            healthy: what a good deployment does
``wrong-predictions`` every answer shifted to the next class
``error-500``       malformed input answers 500 instead of 400
``crash``           a request holding NaN/Infinity kills the process
``hang``            a request holding NaN/Infinity never gets an answer (that thread sleeps)
``never-ready``     readiness answers 503 forever
``v2-disagree``     V2 answers differ from V1
``v1-only``         no V2 routes (404), like a V1-only server
``v2-only``         no V1 routes (404), like MLServer or KServe's ``protocolVersion: v2`` runtimes
``large-batch-wrong`` batches of more than 1,000 rows get every answer shifted to the next class
``slow-tail``       every 10th prediction takes 400 ms more
``flaky-5xx``       every 20th prediction answers 503
``echo-headers``    error bodies echo the request headers (cookie, token) and answer 500
``reject-all``      ready, but every inference request answers 400 (``unexpected inference input``)
``input-name``      V2 only, like Triton: an input tensor not named ``float_input`` answers 400 for its
                    name alone; with that name, NaN and Infinity are read as 0 and answered 200
``off-contract``    about 6 % of rows answer ``null`` or class ``7`` (not one of the classes 0, 1, 2)
``tenth-off``       about 10 % of rows (chosen by their values, the same over V1 and V2) answer the next class
``slow``            every prediction request takes ``--delay-ms`` (default 40) ms more
==================  ===========================================================================

Run: ``python -m tests.helpers.fault_server --model-dir DIR --port N --fault crash`` (binds 127.0.0.1).
Tests use :class:`FaultServer`, which starts it as a tracked child and waits for it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.helpers.handlers import JsonHandler, QuietServer
from tests.helpers.servers import ChildServer

HOST = "127.0.0.1"
FAULTS = (
    "none", "wrong-predictions", "error-500", "crash", "hang", "never-ready",
    "v2-disagree", "v1-only", "v2-only", "slow-tail", "flaky-5xx", "echo-headers", "large-batch-wrong",
    "reject-all", "input-name", "off-contract", "tenth-off", "slow",
)
INPUT_NAME = "float_input"  # input-name: the only input tensor name served
MAX_BODY = 64 * 1024 * 1024
MAX_BATCH = 10_000_000  # healthy means serving large valid batches, not refusing them
LARGE_BATCH = 1_000  # large-batch-wrong: batches larger than this answer wrong
HANG_S = 120.0  # bounded: the test stops the process long before
ECHOED = ("cookie", "authorization", "x-api-secret")
NUMERIC = ("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64")
FLOATS = ("FP16", "FP32", "FP64")


class Reject(Exception):
    """A request the server refuses: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class FaultyModelServer(QuietServer):

    def __init__(self, port: int, model: Any, name: str, fault: str, delay_ms: float = 40.0) -> None:
        super().__init__((HOST, port), Handler)
        self.delay_s = delay_ms / 1000.0
        self.model = model
        self.model_name = name
        self.fault = fault
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def next_count(self) -> int:
        with self.lock:
            return next(self.counter)


class Handler(JsonHandler):
    server: FaultyModelServer
    max_body = MAX_BODY

    # --- plumbing ----------------------------------------------------------------------------
    def _error(self, exc: Reject) -> None:
        fault = self.server.fault
        status = exc.status
        message = str(exc)
        if fault in ("error-500", "echo-headers") and status == 400:
            status = 500
        if fault == "echo-headers":  # what a careless proxy or debug handler does
            echoed = {k: v for k, v in self.headers.items() if k.lower() in ECHOED}
            message = f"request headers {echoed}: {message}"
        self._send(status, {"error": message})

    def _dispatch(self, method: str) -> None:
        try:
            body = self._read_body()
            if body is None:
                raise Reject(413, f"body of {self.headers.get('Content-Length')} bytes exceeds {self.max_body}")
            self._route(method, self.path, body)
        except Reject as exc:
            self._error(exc)

    # --- routes ------------------------------------------------------------------------------
    def _route(self, method: str, path: str, body: bytes) -> None:
        srv = self.server
        name = srv.model_name
        v2_paths = path.startswith("/v2/")
        if (v2_paths and srv.fault == "v1-only") or (path.startswith("/v1/") and srv.fault in ("v2-only", "input-name")):
            raise Reject(404, f"no route {path}")
        ready = srv.fault != "never-ready"
        routes = {
            ("GET", "/"): lambda: self._send(200, {"status": "alive"}),
            ("GET", f"/v1/models/{name}"): lambda: self._send(200, {"name": name, "ready": True}) if ready else self._send(503, {"error": f"model {name} is not ready"}),
            ("GET", "/v2/health/live"): lambda: self._send(200, {"live": True}),
            ("GET", "/v2/health/ready"): lambda: self._send(200 if ready else 503, {"ready": ready}),
            ("GET", f"/v2/models/{name}"): lambda: self._send(200, {"name": name, "platform": "sklearn", "inputs": [], "outputs": []}),
            ("GET", f"/v2/models/{name}/ready"): lambda: self._send(200 if ready else 503, {"name": name, "ready": ready}),
            ("POST", f"/v1/models/{name}:predict"): lambda: self._send(200, {"predictions": self._predict(self._v1_rows(body), "v1")}),
            ("POST", f"/v2/models/{name}/infer"): lambda: self._v2(body),
        }
        handler = routes.get((method, path))
        if srv.fault == "reject-all" and method == "POST" and handler is not None:  # ready, yet no inference is ever served
            raise Reject(400, f"unexpected inference input 'input-0' for model '{name}'")
        if handler is not None:
            handler()
            return
        if any(p == path for _, p in routes):
            raise Reject(405, f"method {method} not allowed on {path}")
        if path.startswith(("/v1/models/", "/v2/models/")):
            raise Reject(404, f"model not found: {path}")
        raise Reject(404, f"no route {path}")

    # --- inference ---------------------------------------------------------------------------
    def _json(self, body: bytes) -> Any:
        kind = self.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
        if kind != "application/json":  # no Content-Type reads as JSON, as KServe's V1 route does
            raise Reject(415, f"expected Content-Type application/json, got {kind}")
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise Reject(400, f"body is not JSON: {str(exc)[:100]}") from None

    def _validate(self, rows: Any) -> list[list[float]]:
        from harness.serving.validation import validate_rows

        try:
            return validate_rows(rows, 4, MAX_BATCH)
        except ValueError as exc:
            if "finite" in str(exc):
                self._fault_on_non_finite()
            raise Reject(400, str(exc)) from None

    def _fault_on_non_finite(self) -> None:
        if self.server.fault == "crash":
            os._exit(70)
        if self.server.fault == "hang":
            time.sleep(HANG_S)

    def _v1_rows(self, body: bytes) -> list[list[float]]:
        data = self._json(body)
        if not isinstance(data, dict) or "instances" not in data:
            raise Reject(400, 'expected a JSON object with "instances"')
        return self._validate(data["instances"])

    def _v2(self, body: bytes) -> None:
        data = self._json(body)
        inputs = data.get("inputs") if isinstance(data, dict) else None
        if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
            raise Reject(400, "expected one input tensor in 'inputs'")
        tensor = inputs[0]
        if self.server.fault == "input-name" and tensor.get("name") != INPUT_NAME:
            raise Reject(400, f"unexpected inference input '{tensor.get('name')}' for model '{self.server.model_name}'")
        shape, datatype, flat = tensor.get("shape"), tensor.get("datatype"), tensor.get("data")
        if datatype not in NUMERIC:
            raise Reject(400, f"expected a numeric datatype, got {datatype!r}")
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
            raise Reject(400, f"expected shape [N, 4], got {shape!r}")
        if isinstance(flat, list) and flat and all(isinstance(r, list) for r in flat):
            flat = [v for r in flat for v in r]  # KServe accepts row-major nested data too
        if not isinstance(flat, list) or len(flat) != shape[0] * shape[1]:
            raise Reject(400, f"data does not fit shape {shape}")
        if datatype in FLOATS:  # coerce booleans, as MLServer does
            flat = [float(v) if isinstance(v, bool) else v for v in flat]
        rows = [flat[i * shape[1] : (i + 1) * shape[1]] for i in range(shape[0])]
        if self.server.fault == "input-name":  # no finiteness check: NaN and Infinity are answered
            rows = [[0.0 if isinstance(v, float) and not math.isfinite(v) else v for v in r] for r in rows]
        clean = self._validate(rows)
        if datatype in ("FP16", "FP32"):  # read at the tensor's precision, as KServe and MLServer do
            import numpy as np

            clean = np.asarray(clean, dtype=np.float16 if datatype == "FP16" else np.float32).astype(np.float64).tolist()
        outputs = self._predict(clean, "v2")
        self._send(200, {
            "model_name": self.server.model_name, "id": str(uuid.uuid4()),
            "outputs": [{"name": "output-0", "shape": [len(outputs)], "datatype": "INT64", "data": outputs}],
        })

    def _predict(self, rows: list[list[float]], protocol: str) -> list[Any]:
        import numpy as np

        srv = self.server
        count = srv.next_count()
        if srv.fault == "slow-tail" and count % 10 == 0:
            time.sleep(0.4)
        if srv.fault == "slow" and srv.delay_s > 0:
            time.sleep(srv.delay_s)
        if srv.fault == "flaky-5xx" and count % 20 == 0:
            raise Reject(503, "injected intermittent failure")
        outputs = [int(v) for v in srv.model.predict(np.asarray(rows, dtype=np.float64))]
        large = srv.fault == "large-batch-wrong" and len(rows) > LARGE_BATCH
        if large or srv.fault == "wrong-predictions" or (srv.fault == "v2-disagree" and protocol == "v2"):
            outputs = [(v + 1) % 3 for v in outputs]
        if srv.fault == "tenth-off":  # by the row's values (rounded: FP32 and FP64 requests pick the same rows)
            import zlib

            return [(v + 1) % 3 if zlib.crc32(repr([round(x, 2) for x in row]).encode()) % 10 == 0 else v
                    for v, row in zip(outputs, rows, strict=True)]
        if srv.fault == "off-contract":  # 2 rows in 32: null, or a class the model does not have
            off: dict[int, Any] = {7: None, 23: 7} if protocol == "v1" else {7: 7, 23: None}
            return [off.get(i % 32, v) for i, v in enumerate(outputs)]
        return outputs


class FaultServer(ChildServer):
    """The fault server as a tracked child process on 127.0.0.1 (for tests).

    Ready when it takes a TCP connection (not readiness: never-ready must start too).

    Args:
        model_dir: directory holding ``model.joblib``.
        fault: one of :data:`FAULTS`.
        log_path: where its output goes.
        model_name: the served model's name.
    """

    def __init__(self, model_dir: Path, fault: str, log_path: Path, model_name: str = "sklearn-iris", delay_ms: float = 40.0) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose one of {FAULTS}")
        super().__init__(log_path)
        self.model_dir = model_dir
        self.fault = fault
        self.model_name = model_name
        self.delay_ms = delay_ms
        self.what = f"the fault server ({fault})"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "tests.helpers.fault_server", "--model-dir", str(self.model_dir), "--port", str(self.port),
                "--fault", self.fault, "--model-name", self.model_name, "--delay-ms", str(self.delay_ms)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--model-name", default="sklearn-iris")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fault", default="none", choices=FAULTS)
    parser.add_argument("--delay-ms", type=float, default=40.0, help="slow: the delay added to every prediction request")
    args = parser.parse_args(argv)
    import joblib

    from harness.contract.artifact import find_model_file

    model = joblib.load(find_model_file(args.model_dir))
    FaultyModelServer(args.port, model, args.model_name, args.fault, args.delay_ms).serve()


if __name__ == "__main__":
    main()
