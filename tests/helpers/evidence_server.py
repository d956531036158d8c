"""A model server on 127.0.0.1, in a thread, that is ready but gives no evidence of a model.

For the property test of issue 19 (tests/test_no_pass_without_evidence.py): every check that
judges traffic must not pass against it. Readiness answers like KServe's model server
(kserve/kserve ``python/kserve/kserve/protocol/rest/v1_endpoints.py`` ``model_ready``:
``{"name": NAME, "ready": true}``; ``v2_endpoints.py``: ``{"ready": true}``), and so does the
V1 error body (``python/kserve/kserve/errors.py``: ``{"error": MESSAGE}``). Inference, by mode:

==========  ==========================================================================================
``reject``  every inference request answers 400 ``{"error": "unexpected inference input 'input-0' ..."}``
``empty``   every inference request answers 200 with an empty body
``short``   V1 answers 200 ``{"predictions": []}``; V2 an ``outputs`` tensor one value longer than the rows
``stop``    answers as the model in ``model_dir`` does until the load window starts (the first request
            that is not the harness's own httpx client), then, half a second later, never again, to anyone
            (the handler waits until the server stops)
==========  ==========================================================================================
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from .handlers import JsonHandler, QuietServer
from .servers import ThreadServer

MODES = ("reject", "empty", "short", "stop")
REJECTION = "unexpected inference input 'input-0': expected 'predict'"
STOP_AFTER_S = 0.5  # into the load window
HANG_S = 120.0  # a hanging handler gives up after this (the server's stop ends it sooner)


class EvidenceServer:
    """The server for one ``mode``; a context manager giving its URL."""

    def __init__(self, mode: str, model_dir: Path | None = None, name: str = "sklearn-iris") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self.mode, self.name = mode, name
        self.model: Any = None
        if mode == "stop":
            import joblib

            assert model_dir is not None, "the stop mode answers as a model does: give model_dir"
            self.model = joblib.load(Path(model_dir) / "model.joblib")
        self.load_started: float | None = None
        self.stopping = threading.Event()
        self.inference_requests = 0
        server = self

        class Handler(JsonHandler):
            def _dispatch(self, method: str) -> None:
                body = self._read_body() or b""
                if method == "GET":
                    server.get(self)
                elif method == "POST":
                    server.post(self, body)
                else:  # as KServe's server answers another method: 405, not http.server's 501
                    _send(self, 405, {"error": "Method Not Allowed"})

        self._http = ThreadServer(Handler, server_class=QuietServer)
        self.url = self._http.url

    def __enter__(self) -> str:
        self._http.start()
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._http.stop()

    # --- routes ----------------------------------------------------------------------------
    def get(self, h: JsonHandler) -> None:
        routes = {
            f"/v1/models/{self.name}": {"name": self.name, "ready": True},
            "/v2/health/ready": {"ready": True},
            "/v2/health/live": {"live": True},
            f"/v2/models/{self.name}/ready": {"name": self.name, "ready": True},
            f"/v2/models/{self.name}": {"name": self.name, "platform": "sklearn", "inputs": [], "outputs": []},
        }
        if h.path in routes:
            _send(h, 200, routes[h.path])
        else:
            _send(h, 404, {"error": f"model not found: {h.path}"})

    def post(self, h: JsonHandler, body: bytes) -> None:
        v1, v2 = f"/v1/models/{self.name}:predict", f"/v2/models/{self.name}/infer"
        if h.path not in (v1, v2):
            _send(h, 404, {"error": f"model not found: {h.path}"})
            return
        self.inference_requests += 1
        if self.mode == "reject":
            _send(h, 400, {"error": REJECTION})
        elif self.mode == "empty":
            _send(h, 200, b"")
        elif self.mode == "short":
            rows = _rows(body, h.path == v1)
            if h.path == v1:
                _send(h, 200, {"predictions": []})
            else:
                _send(h, 200, _v2_answer(self.name, [1] * (len(rows) + 1)))
        else:
            self._stop_or_answer(h, body, h.path == v1)

    def _stop_or_answer(self, h: JsonHandler, body: bytes, v1: bool) -> None:
        if self.load_started is None and not h.headers.get("User-Agent", "").startswith("python-httpx"):
            self.load_started = time.monotonic()  # locust's client: the load window has started
        if self.load_started is not None and time.monotonic() - self.load_started > STOP_AFTER_S:
            self.stopping.wait(HANG_S)  # from here on nothing is answered, whoever asks
            return
        import numpy as np

        rows = _rows(body, v1)
        try:
            answers = [int(v) for v in self.model.predict(np.asarray(rows, dtype=np.float64))]
        except ValueError as exc:
            _send(h, 400, {"error": str(exc)})
            return
        _send(h, 200, {"predictions": answers} if v1 else _v2_answer(self.name, answers))


def _rows(body: bytes, v1: bool) -> list[list[float]]:
    try:
        data = json.loads(body or b"null")
        if v1:
            return [list(r) for r in data["instances"]]
        tensor = data["inputs"][0]
        shape, flat = tensor["shape"], tensor["data"]
        if flat and isinstance(flat[0], list):
            flat = [v for r in flat for v in r]
        return [flat[i * shape[1] : (i + 1) * shape[1]] for i in range(shape[0])]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return []


def _v2_answer(name: str, values: list[int]) -> dict[str, Any]:
    return {"model_name": name, "outputs": [{"name": "output-0", "shape": [len(values)], "datatype": "INT64", "data": values}]}


def _send(h: JsonHandler, status: int, payload: Any) -> None:
    with contextlib.suppress(OSError):  # the client gave up
        h._send(status, payload)
