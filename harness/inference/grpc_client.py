"""Inference client for the Open Inference Protocol over gRPC (``GRPCInferenceService``, grpcio).

The counterpart of :class:`harness.inference.client.InferenceClient` for V2 gRPC, with the same rules:

- every call has a deadline (``timeout``); a server that does not answer within it is named
  with ``timed_out`` set, never waited on;
- the endpoint's headers go as gRPC metadata (``cookie``, ``authorization``, extra headers;
  names in lower case, as gRPC requires); a ``Host`` header becomes the channel's
  ``:authority`` (``grpc.default_authority``), which is what an ingress routes on;
- ``grpcs://`` addresses use TLS, verified as the REST client verifies (the endpoint's CA
  bundle, else gRPC's own roots); gRPC cannot switch verification off, so ``--insecure``
  with a ``grpcs://`` address is refused (:func:`channel_credentials`);
- an answer larger than ``max_bytes`` is refused by gRPC itself (``RESOURCE_EXHAUSTED``);
- error texts are redacted before they reach a message.

Answers are read into the V2 JSON form (:func:`harness.inference.grpc_proto.response_dict`) and then by the
same :class:`~harness.inference.outputs.OutputReader` as REST, so labels compare alike over every protocol.

Example:
    >>> with GrpcClient("127.0.0.1:8081", "sklearn-iris") as client:  # doctest: +SKIP
    ...     client.infer([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]).outputs
    (1, 1)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from harness.config.parsers import parse_grpc_url
from harness.errors import ConfigError, InferenceError
from harness.inference import grpc_proto
from harness.inference.encoder import Encoder
from harness.inference.outputs import OutputError, OutputReader
from harness.redact import redact
from harness.results import Prediction
from harness.signature import Signature

Rows = Sequence[Sequence[float]]
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


def channel_credentials(tls_verify: str | bool) -> grpc.ChannelCredentials:
    """TLS credentials verified as :func:`harness.inference.tls.verify_setting` says: a CA bundle path, or gRPC's roots.

    Raises:
        ConfigError: ``tls_verify`` is False: gRPC has no switch to skip verification.
    """
    if tls_verify is False:
        raise ConfigError(
            "gRPC cannot skip certificate verification: give the server's CA with --ca-cert instead of --insecure "
            "(or use a plaintext grpc:// address)",
            "insecure",
        )
    if isinstance(tls_verify, str):
        try:
            with open(tls_verify, "rb") as file:
                return grpc.ssl_channel_credentials(root_certificates=file.read())
        except OSError as exc:
            raise ConfigError(f"cannot read the CA bundle {tls_verify}: {exc}", "ca_cert") from None
    return grpc.ssl_channel_credentials()


def metadata_of(headers: Mapping[str, str]) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The gRPC metadata for ``headers`` (lower-case names, no ``Host``) and the authority (the Host header)."""
    authority = None
    metadata = []
    for name, value in headers.items():
        if name.lower() == "host":
            authority = value
        else:
            metadata.append((name.lower(), value))
    return tuple(metadata), authority


class GrpcClient:
    """Talks to one model over V2 gRPC. Use as a context manager, or call :meth:`close`.

    Args:
        url: ``host:port``, ``grpc://host:port`` or ``grpcs://host:port``.
        model_name: the model in ``ModelReady`` and ``ModelInfer``.
        headers: the endpoint's headers, sent as metadata (see the module docstring).
        tls_verify: how a ``grpcs://`` server is verified (as :attr:`Endpoint.tls_verify`).
        timeout: the deadline of each call, in seconds.
        max_bytes: the largest message received.
        reader: which output to read and how class names map to indices.
    """

    def __init__(
        self,
        url: str,
        model_name: str,
        headers: Mapping[str, str] | None = None,
        *,
        tls_verify: str | bool = True,
        timeout: float = 10.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        reader: OutputReader | None = None,
        signature: Signature | None = None,
    ) -> None:
        self.target, self.tls = parse_grpc_url(url)
        self.model_name = model_name
        self.encoder = Encoder(signature)
        self.timeout = timeout
        self.reader = reader or OutputReader()
        self.metadata, authority = metadata_of(headers or {})
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.enable_retries", 0),  # one call is one attempt, as every REST request is
            ("grpc.enable_http_proxy", 0),  # proxies from the environment never see our metadata
        ]
        if authority:
            options.append(("grpc.default_authority", authority))
        if self.tls:
            self._channel = grpc.secure_channel(self.target, channel_credentials(tls_verify), options=options)
        else:
            self._channel = grpc.insecure_channel(self.target, options=options)
        pb = grpc_proto.proto()
        self._calls = {
            name: self._channel.unary_unary(
                grpc_proto.method(name), request_serializer=request.SerializeToString, response_deserializer=response.FromString
            )
            for name, request, response in (
                ("ServerReady", pb.ServerReadyRequest, pb.ServerReadyResponse),
                ("ModelReady", pb.ModelReadyRequest, pb.ModelReadyResponse),
                ("ModelInfer", pb.ModelInferRequest, pb.ModelInferResponse),
                ("ModelMetadata", pb.ModelMetadataRequest, pb.ModelMetadataResponse),
            )
        }

    @property
    def url(self) -> str:
        return ("grpcs://" if self.tls else "grpc://") + self.target

    def __enter__(self) -> GrpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    # --- raw ------------------------------------------------------------------------------
    def call(self, name: str, request: Any, timeout: float | None = None) -> tuple[Any, float]:
        """One call of ``GRPCInferenceService/name`` within the deadline; (response, elapsed ms).

        Raises:
            InferenceError: the call failed; the message names the gRPC status code and its
                details (redacted); ``timed_out`` for DEADLINE_EXCEEDED.
        """
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            response = self._calls[name](request, timeout=limit, metadata=self.metadata)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            code_name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
            timed_out = code == grpc.StatusCode.DEADLINE_EXCEEDED
            head = f"gRPC {name} at {self.target}: {code_name}"
            if timed_out:
                head += f" (no answer within {limit:g}s)"
            raise InferenceError(redact(f"{head}: {details}"), None, redact(str(details)), timed_out=timed_out) from None
        return response, (time.monotonic() - started) * 1000

    # --- readiness ------------------------------------------------------------------------
    def readiness(self, timeout: float | None = None) -> tuple[bool, str]:
        """Whether ``ServerReady`` and ``ModelReady`` both answer ready, and what they answered."""
        pb = grpc_proto.proto()
        try:
            server, _ = self.call("ServerReady", pb.ServerReadyRequest(), timeout)
            if not server.ready:
                return False, f"gRPC ServerReady at {self.target} -> ready: false"
            model, _ = self.call("ModelReady", pb.ModelReadyRequest(name=self.model_name), timeout)
        except InferenceError as exc:
            return False, str(exc)
        seen = f"gRPC ModelReady({self.model_name}) at {self.target} -> ready: {str(model.ready).lower()}"
        return bool(model.ready), seen

    def model_metadata(self, version: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """``ModelMetadata`` in the REST metadata's JSON form: ``{name, versions, platform, inputs, outputs}``."""
        pb = grpc_proto.proto()
        answer, _ = self.call("ModelMetadata", pb.ModelMetadataRequest(name=self.model_name, version=version or ""), timeout)
        return {
            "name": answer.name, "versions": list(answer.versions), "platform": answer.platform,
            "inputs": [{"name": t.name, "datatype": t.datatype, "shape": [int(d) for d in t.shape]} for t in answer.inputs],
            "outputs": [{"name": t.name, "datatype": t.datatype, "shape": [int(d) for d in t.shape]} for t in answer.outputs],
        }

    # --- inference ------------------------------------------------------------------------
    def infer_raw(self, rows: Rows, encoder: Encoder | None = None, timeout: float | None = None) -> tuple[dict[str, Any], float]:
        """``ModelInfer`` of ``rows`` as the signature takes them; the answer in V2 JSON form, and the elapsed ms."""
        request = (encoder or self.encoder).grpc_request(self.model_name, rows)
        response, elapsed = self.call("ModelInfer", request, timeout)
        try:
            return grpc_proto.response_dict(response), elapsed
        except grpc_proto.ProtoError as exc:
            raise InferenceError(f"gRPC ModelInfer answer cannot be read: {exc}") from None

    def infer(self, rows: Rows, encoder: Encoder | None = None) -> Prediction:
        """``ModelInfer`` of ``rows`` as the signature takes them; outputs read by :attr:`reader` (protocol ``grpc``)."""
        data, elapsed = self.infer_raw(rows, encoder)
        try:
            outputs = self.reader.v2(data, len(rows))
        except OutputError as exc:
            raise InferenceError(f"gRPC ModelInfer: {exc}: {redact(str(data))[:2000]}") from None
        return Prediction("grpc", tuple(tuple(v if isinstance(v, str) else float(v) for v in r) for r in rows), tuple(outputs), 0, elapsed)
