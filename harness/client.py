"""Inference client for KServe's V1 and V2 REST protocols (httpx).

Example:
    >>> client = InferenceClient(Endpoint("http://127.0.0.1:8080", "sklearn-iris"))  # doctest: +SKIP
    >>> client.predict([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]).outputs  # doctest: +SKIP
    (1, 1)
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from harness.errors import InferenceError
from harness.models import Endpoint, Prediction
from harness.redact import redact

Rows = Sequence[Sequence[float]]
BODY_LIMIT = 2000


class InferenceClient:
    """Talks to one model on one endpoint. Use as a context manager, or call :meth:`close`.

    Args:
        endpoint: where the model answers; its headers (Host, Cookie, Authorization)
            go with every request.
        timeout: seconds for one request (connect, read and write each).
    """

    def __init__(self, endpoint: Endpoint, timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=endpoint.base_url.rstrip("/"),
            headers=dict(endpoint.headers),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- paths ----------------------------------------------------------------------------
    @property
    def v1_predict_path(self) -> str:
        return f"/v1/models/{self.endpoint.model_name}:predict"

    @property
    def v2_infer_path(self) -> str:
        return f"/v2/models/{self.endpoint.model_name}/infer"

    # --- raw ------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | str | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One request, as is. Transport failures raise :class:`InferenceError`."""
        try:
            return self._http.request(
                method,
                path,
                content=content,
                json=json_body,
                headers=headers,
                timeout=self.timeout if timeout is None else timeout,
            )
        except httpx.TimeoutException as exc:
            raise InferenceError(f"{method} {path}: no answer within {self.timeout:g}s ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise InferenceError(redact(f"{method} {path}: {type(exc).__name__}: {exc}")) from exc

    # --- readiness and metadata -----------------------------------------------------------
    def ready(self) -> bool:
        """V1 model readiness: ``GET /v1/models/NAME`` answers 200 with ``ready: true``."""
        return self.readiness()[0]

    def readiness(self) -> tuple[bool, str]:
        """V1 model readiness, and what the server answered (redacted, for timeout messages)."""
        try:
            response = self.request("GET", f"/v1/models/{self.endpoint.model_name}")
        except InferenceError as exc:
            return False, str(exc)
        seen = f"HTTP {response.status_code}: {_body(response)[:200]}"
        if response.status_code != 200:
            return False, seen
        try:
            return bool(response.json().get("ready", True)), seen
        except (ValueError, AttributeError):
            return False, seen

    def v2_ready(self) -> bool:
        """V2 server readiness: ``GET /v2/health/ready``."""
        try:
            response = self.request("GET", "/v2/health/ready")
        except InferenceError:
            return False
        return response.status_code == 200

    def metadata(self) -> dict[str, Any]:
        """V2 model metadata (``GET /v2/models/NAME``)."""
        response = self.request("GET", f"/v2/models/{self.endpoint.model_name}")
        return _json(self._check(response, "metadata"))

    # --- inference ------------------------------------------------------------------------
    def predict(self, rows: Rows) -> Prediction:
        """V1 ``:predict`` with ``{"instances": rows}``."""
        body = {"instances": [list(r) for r in rows]}
        started = time.perf_counter()
        response = self.request("POST", self.v1_predict_path, json_body=body)
        latency = (time.perf_counter() - started) * 1000
        data = _json(self._check(response, "V1 predict"))
        if not isinstance(data.get("predictions"), list):
            raise InferenceError(f"V1 answer has no 'predictions' list: {_body(response)}", response.status_code)
        return Prediction("v1", _rows(rows), tuple(data["predictions"]), response.status_code, latency)

    def infer(self, rows: Rows, input_name: str = "input-0", datatype: str = "FP32") -> Prediction:
        """V2 ``/infer`` with one ``[N, F]`` tensor; outputs are ``outputs[0].data``."""
        body = v2_body(rows, input_name, datatype)
        started = time.perf_counter()
        response = self.request("POST", self.v2_infer_path, json_body=body)
        latency = (time.perf_counter() - started) * 1000
        data = _json(self._check(response, "V2 infer"))
        try:
            outputs = data["outputs"][0]["data"]
        except (KeyError, IndexError, TypeError):
            raise InferenceError(f"V2 answer has no outputs[0].data: {_body(response)}", response.status_code) from None
        return Prediction("v2", _rows(rows), tuple(outputs), response.status_code, latency)

    def _check(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code >= 400:
            raise InferenceError(
                f"{what} answered HTTP {response.status_code}: {_body(response)}",
                response.status_code,
                _body(response),
            )
        return response


def v2_body(rows: Rows, input_name: str = "input-0", datatype: str = "FP32") -> dict[str, Any]:
    """A V2 inference request body for ``rows``."""
    width = len(rows[0]) if rows else 0
    return {"inputs": [{"name": input_name, "shape": [len(rows), width], "datatype": datatype, "data": [list(r) for r in rows]}]}


def _rows(rows: Rows) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in r) for r in rows)


def _body(response: httpx.Response) -> str:
    text = response.text
    return redact(text[:BODY_LIMIT] + ("..." if len(text) > BODY_LIMIT else ""))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, ValueError):
        raise InferenceError(f"answer is not JSON: {_body(response)}", response.status_code) from None
    if not isinstance(data, dict):
        raise InferenceError(f"answer is not a JSON object: {_body(response)}", response.status_code)
    return data
