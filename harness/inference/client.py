"""Inference client for the V1 and V2 (Open Inference Protocol) REST protocols (httpx), and the
door to V2 over gRPC (:mod:`harness.inference.grpc_client`, when the endpoint has a ``grpc_url``).

Every request is bounded: a total deadline (not per read: a server that trickles one byte
every few seconds is cut off at the deadline) and a largest body (an endless stream is cut
at ``max_bytes`` and reported, never buffered). Redirects are never followed; any answer that
is not a 2xx is named by its status, and one that points at a login page says so.

Example:
    >>> client = InferenceClient(Endpoint("http://127.0.0.1:8080", "sklearn-iris"))  # doctest: +SKIP
    >>> client.predict([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]).outputs  # doctest: +SKIP
    (1, 1)
"""

from __future__ import annotations

import dataclasses
import json
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from harness.errors import InferenceError
from harness.inference.encoder import Encoder
from harness.inference.outputs import OutputError, OutputReader
from harness.redact import preview, redact
from harness.results import Endpoint, Prediction

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.inference.grpc_client import GrpcClient

Rows = Sequence[Sequence[float]]
BODY_LIMIT = 2000  # characters of a body quoted in a message (after redaction)
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
LOGIN_HINTS = ("/dex/", "/oauth2/", "/oauth/", "/auth", "login", "signin", "sign_in")
#: rows per request when a whole data set is sent (predict.*, the release diff)
MAX_BATCH = 64
REST_PROTOCOLS = ("v1", "v2")  # what this client sends over HTTP; "grpc" goes through :attr:`InferenceClient.grpc`


@dataclasses.dataclass(frozen=True)
class Answer:
    """One HTTP answer, read within the client's bounds.

    ``truncated`` means the body was longer than the client's ``max_bytes`` and was cut there.
    """

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    truncated: bool = False
    elapsed_ms: float = 0.0

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def location(self) -> str:
        return str(self.headers.get("location", ""))

    def describe(self, limit: int = BODY_LIMIT) -> str:
        """``HTTP 302 to /dex/auth``, ``HTTP 500: <body>``: the status first, then what explains it."""
        status = self.status_code
        head = f"HTTP {status}"
        if 300 <= status < 400:
            head += f" redirect to {redact(self.location) or '(no Location)'}"
            if _looks_like_login(self.location):
                head += ": the endpoint redirected to a login page: the cookie or token was probably rejected or expired"
            return head
        if status in (401, 403):
            head += ": the endpoint refused the request: the cookie or token was probably rejected or expired"
        body = self.body_preview(limit)
        if self.truncated:
            body += f" (cut off: longer than {len(self.content)} bytes)"
        return f"{head}: {body}" if body else head

    def body_preview(self, limit: int = BODY_LIMIT) -> str:
        return preview(self.text, limit)


def _looks_like_login(location: str) -> bool:
    lowered = location.lower()
    return any(hint in lowered for hint in LOGIN_HINTS)


class InferenceClient:
    """Talks to one model on one endpoint. Use as a context manager, or call :meth:`close`.

    Args:
        endpoint: where the model answers; its headers (Host, Cookie, Authorization) go with
            every request, and its ``tls_verify`` decides how an https server is verified.
        timeout: total seconds one request may take, from connect to the last byte.
        max_bytes: the largest body read; a longer one is cut and marked ``truncated``.
        reader: which V2 output to read and how class names map to indices.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        timeout: float = 10.0,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        reader: OutputReader | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.reader = reader or OutputReader()
        self._grpc: GrpcClient | None = None
        # the query string (a gateway's key) goes on every request's path, as the user gave it:
        # httpx would put the paths after a base URL's query (``/?key=…/v1/models/…``)
        base_url, sep, query = endpoint.base_url.partition("?")
        self.query = sep + query
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(endpoint.headers),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,  # proxies from the environment never see our credentials
            verify=ssl_context(endpoint.tls_verify),
        )

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        if self._grpc is not None:
            self._grpc.close()
            self._grpc = None

    @property
    def grpc(self) -> GrpcClient:
        """The V2 gRPC client of the endpoint's ``grpc_url``, with this client's bounds and reader.

        Raises:
            InferenceError: the endpoint has no gRPC address.
        """
        if self._grpc is None:
            if not self.endpoint.grpc_url:
                raise InferenceError(f"no gRPC address for {self.endpoint.base_url} (give --grpc-url)")
            # lazy: grpcio loads only for an endpoint spoken to over gRPC
            from harness.inference.grpc_client import GrpcClient

            self._grpc = GrpcClient(
                self.endpoint.grpc_url, self.endpoint.model_name, self.endpoint.headers, tls_verify=self.endpoint.tls_verify,
                timeout=self.timeout, max_bytes=self.max_bytes, reader=self.reader, signature=self.endpoint.signature,
            )
        return self._grpc

    # --- requests -------------------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        """Builds this client's requests from the endpoint's signature (today's default without one)."""
        return Encoder(self.endpoint.signature)

    @property
    def v1_predict_path(self) -> str:
        return Encoder.v1_path(self.endpoint.model_name)

    @property
    def v2_infer_path(self) -> str:
        version = self.endpoint.signature.version if self.endpoint.signature is not None else None
        return Encoder.v2_path(self.endpoint.model_name, version)

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
    ) -> Answer:
        """One request, as is, within the deadline and the size bound.

        Raises:
            InferenceError: no answer (connection refused, TLS failure), or no complete one
                within the deadline (``timed_out`` set).
        """
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        deadline = started + limit
        try:
            with self._http.stream(method, self._with_query(path), content=content, json=json_body, headers=headers, timeout=limit) as response:
                body, truncated = self._read(response, deadline, method, path, limit)
                return Answer(response.status_code, response.headers, body, truncated, (time.monotonic() - started) * 1000)
        except httpx.TimeoutException as exc:
            raise InferenceError(f"{method} {path}: no answer within {limit:g}s ({type(exc).__name__})", timed_out=True) from exc
        except httpx.HTTPError as exc:
            raise InferenceError(redact(f"{method} {path}: {type(exc).__name__}: {exc}")) from exc

    def _with_query(self, path: str) -> str:
        if not self.query:
            return path
        return path + ("&" + self.query[1:] if "?" in path else self.query)

    def _read(self, response: httpx.Response, deadline: float, method: str, path: str, limit: float) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if size + len(chunk) > self.max_bytes:
                chunks.append(chunk[: self.max_bytes - size])
                return b"".join(chunks), True
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                raise InferenceError(
                    f"{method} {path}: HTTP {response.status_code}, but the body was still arriving after {limit:g}s "
                    f"({size} bytes so far)",
                    response.status_code,
                    timed_out=True,
                )
        return b"".join(chunks), False

    # --- readiness and metadata -----------------------------------------------------------
    def ready(self) -> bool:
        """V1 model readiness: ``GET /v1/models/NAME`` answers 200 with ``ready: true``."""
        return self.readiness()[0]

    def readiness(self, timeout: float | None = None) -> tuple[bool, str]:
        """V1 model readiness, and what the server answered (redacted, for timeout messages)."""
        return self.probe_ready(Encoder.model_path(self.endpoint.model_name, protocol="v1"), timeout)

    def v2_readiness(self, timeout: float | None = None) -> tuple[bool, str]:
        """V2 model readiness (``GET /v2/models/NAME/ready``), and what the server answered."""
        return self.probe_ready(Encoder.model_path(self.endpoint.model_name) + "/ready", timeout)

    def v2_ready(self) -> bool:
        """V2 model readiness: ``GET /v2/models/NAME/ready`` answers 200."""
        return self.v2_readiness()[0]

    def probe_ready(self, path: str, timeout: float | None = None) -> tuple[bool, str]:
        """Whether ``GET path`` answers 200 without ``ready: false``, and what it answered."""
        try:
            answer = self.request("GET", path, timeout=timeout)
        except InferenceError as exc:
            return False, f"GET {path} -> {exc}"
        seen = f"GET {path} -> {answer.describe(200)}"
        if answer.status_code != 200:
            return False, seen
        try:
            data = answer.json()
        except ValueError:
            return True, seen  # 200 with an empty or plain body: KServe's V2 ready paths may answer so
        return not (isinstance(data, dict) and data.get("ready") is False), seen

    def metadata(self, version: str | None = None, suffix: str = "") -> dict[str, Any]:
        """V2 model metadata (``GET /v2/models/NAME[/versions/V]``; ``suffix`` ``/config``: Triton's model configuration)."""
        answer = self.request("GET", Encoder.model_path(self.endpoint.model_name, version) + suffix)
        return _json(self._check(answer, "metadata"))

    # --- inference ------------------------------------------------------------------------
    def predict(self, rows: Rows) -> Prediction:
        """V1 ``:predict`` with ``{"instances": rows}``; outputs read by :attr:`reader`."""
        body = self.encoder.v1_body(rows)
        answer = self._check(self.request("POST", self.v1_predict_path, json_body=body), "V1 predict")
        outputs = self._decode(answer, lambda data: self.reader.v1(data, len(rows)))
        return Prediction("v1", _rows(rows), tuple(outputs), answer.status_code, answer.elapsed_ms)

    def infer(self, rows: Rows, encoder: Encoder | None = None) -> Prediction:
        """V2 ``/infer`` of ``rows`` as the signature takes them (or as ``encoder`` builds them); outputs read by :attr:`reader`."""
        body = (encoder or self.encoder).v2_body(rows)
        answer = self._check(self.request("POST", self.v2_infer_path, json_body=body), "V2 infer")
        outputs = self._decode(answer, lambda data: self.reader.v2(data, len(rows)))
        return Prediction("v2", _rows(rows), tuple(outputs), answer.status_code, answer.elapsed_ms)

    def batches(self, rows: Sequence[Any], size: int = MAX_BATCH) -> list[Sequence[Any]]:
        """``rows`` in requests of ``size`` rows at most, and no more than the server's ``max_batch_size``."""
        largest = self.encoder.signature.max_batch_size
        size = min(size, largest) if largest else size
        return [rows[i : i + size] for i in range(0, len(rows), size)]

    def classify(self, rows: Rows, protocol: str | None = None) -> Prediction:
        """Predictions over ``protocol`` (default: the endpoint's first, V1 where spoken)."""
        protocol = protocol or self.endpoint.primary_protocol
        if protocol == "v1":
            return self.predict(rows)
        if protocol == "v2":
            return self.infer(rows)
        if protocol == "grpc":
            return self.grpc.infer(rows)
        raise ValueError(f"unknown protocol {protocol!r}")

    def _decode(self, answer: Answer, read: Any) -> list[Any]:
        data = _json(answer)
        try:
            values: list[Any] = read(data)
        except OutputError as exc:
            raise InferenceError(f"{exc}: {answer.body_preview()}", answer.status_code) from None
        return values

    def _check(self, answer: Answer, what: str) -> Answer:
        if not 200 <= answer.status_code < 300:
            raise InferenceError(f"{what} answered {answer.describe()}", answer.status_code, answer.body_preview())
        if answer.truncated:
            raise InferenceError(
                f"{what} answered HTTP {answer.status_code} with a body longer than {self.max_bytes} bytes (cut off)",
                answer.status_code,
            )
        return answer


def ssl_context(verify: str | bool) -> ssl.SSLContext | bool:
    """httpx's ``verify=`` for :attr:`Endpoint.tls_verify`: a context for a CA bundle path."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def client_for(endpoint: Endpoint, cfg: HarnessConfig, labels: Sequence[str] = (), output: str | None = None,
               contract: Any = None) -> InferenceClient:
    """A client with the run's settings: ``request_timeout``, ``max_response_bytes``,
    ``output_name`` (else the contract's ``output``) and the class names (``labels`` from the
    settings, else ``labels``). Given the model ``contract``, every answer it reads is judged by
    the contract's task and classes (:meth:`OutputReader.for_contract`): golden, quality, parity
    and the user's own client read answers alike."""
    reader = OutputReader(cfg.endpoint.output_name or output, tuple(cfg.endpoint.labels) or tuple(labels))
    if contract is not None:
        reader = reader.for_contract(contract)
    return InferenceClient(endpoint, cfg.core.request_timeout, max_bytes=cfg.endpoint.max_response_bytes, reader=reader)


def _rows(rows: Rows) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(v if isinstance(v, str) else float(v) for v in r) for r in rows)


def _json(answer: Answer) -> dict[str, Any]:
    try:
        data = answer.json()
    except (json.JSONDecodeError, ValueError):
        raise InferenceError(f"HTTP {answer.status_code} answer is not JSON: {answer.body_preview()}", answer.status_code) from None
    if not isinstance(data, dict):
        raise InferenceError(f"HTTP {answer.status_code} answer is not a JSON object: {answer.body_preview()}", answer.status_code)
    return data
