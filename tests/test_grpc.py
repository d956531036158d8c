"""The V2 gRPC client (harness/inference/grpc_client.py) against the local runtime's gRPC server, and its edges.

The server side is KServe 0.21's own ``GRPCServer`` (kserve/kserve v0.21.0,
``python/kserve/kserve/protocol/grpc/server.py``), bound to 127.0.0.1 by
``harness.serving.kserve_patches.bind_grpc_server_to``. MLServer's gRPC is the third-party
counterpart: tests/foreign/test_grpc_counterparts.py.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config.parsers import parse_grpc_url
from harness.errors import ConfigError, InferenceError
from harness.inference import grpc_proto
from harness.inference.grpc_client import GrpcClient, metadata_of
from harness.inference.outputs import OutputReader
from harness.redact import register_secret
from harness.results import Endpoint
from harness.serving.local import LocalModelServer
from tests.foreign.servers import listening_addresses
from tests.helpers.grpc_stub import GrpcStub

SEED = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]


# --- addresses, metadata, messages ------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("127.0.0.1:8081", ("127.0.0.1:8081", False)),
        ("grpc://model.example.com:80", ("model.example.com:80", False)),
        ("grpcs://model.example.com:443/", ("model.example.com:443", True)),
        ("[::1]:9000", ("[::1]:9000", False)),
    ],
)
def test_grpc_url_forms(url: str, expected: tuple[str, bool]) -> None:
    assert parse_grpc_url(url) == expected


@pytest.mark.parametrize("url", ["127.0.0.1", "http://host:80", "host:port", "host:0", "grpc://host:80/v2"])
def test_bad_grpc_url_names_the_setting(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_grpc_url(url)
    assert info.value.key == "grpc_url"


def test_headers_become_lowercase_metadata_and_host_the_authority() -> None:
    metadata, authority = metadata_of({"Host": "iris.example.com", "Cookie": "a=b", "Authorization": "Bearer t", "X-Team": "ml"})
    assert authority == "iris.example.com"
    assert dict(metadata) == {"cookie": "a=b", "authorization": "Bearer t", "x-team": "ml"}


def test_insecure_tls_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ConfigError) as info:
        GrpcClient("grpcs://127.0.0.1:1", "m", tls_verify=False)
    assert info.value.key == "insecure"


def test_raw_output_contents_are_read_like_typed_contents() -> None:
    pb = grpc_proto.proto()
    typed = pb.ModelInferResponse(outputs=[{"name": "predict", "datatype": "INT64", "shape": [2], "contents": {"int64_contents": [1, 2]}}])
    raw = pb.ModelInferResponse(outputs=[{"name": "predict", "datatype": "INT64", "shape": [2]}], raw_output_contents=[struct.pack("<2q", 1, 2)])
    names = pb.ModelInferResponse(
        outputs=[{"name": "label", "datatype": "BYTES", "shape": [2]}],
        raw_output_contents=[struct.pack("<I", 6) + b"setosa" + struct.pack("<I", 10) + b"versicolor"],
    )
    assert grpc_proto.response_dict(typed)["outputs"][0]["data"] == [1, 2]
    assert grpc_proto.response_dict(raw)["outputs"][0]["data"] == [1, 2]
    reader = OutputReader(labels=("setosa", "versicolor", "virginica"))
    assert reader.v2(grpc_proto.response_dict(names), rows=2) == [0, 1]


def test_truncated_raw_contents_are_an_error_not_a_guess() -> None:
    pb = grpc_proto.proto()
    bad = pb.ModelInferResponse(outputs=[{"name": "predict", "datatype": "INT64", "shape": [2]}], raw_output_contents=[b"\x01\x00\x00"])
    with pytest.raises(grpc_proto.ProtoError, match="not a whole number"):
        grpc_proto.response_dict(bad)


# --- against the local runtime ------------------------------------------------------------------
def test_local_server_serves_grpc_on_loopback_only(grpc_served: tuple[LocalModelServer, Endpoint]) -> None:
    server, endpoint = grpc_served
    assert endpoint.grpc_url == f"127.0.0.1:{server.grpc_port}" and server.grpc_port != server.port
    # 127.0.0.1 (gRPC may open it as the IPv4-mapped ::ffff:127.0.0.1); KServe alone binds [::] (all zeros)
    addresses = listening_addresses(server.grpc_port)
    assert addresses and addresses <= {"0100007F", "0000000000000000FFFF00000100007F"}, addresses


def test_ready_and_seed_answer_over_grpc(grpc_served: tuple[LocalModelServer, Endpoint]) -> None:
    _, endpoint = grpc_served
    assert endpoint.grpc_url
    with GrpcClient(endpoint.grpc_url, "sklearn-iris", timeout=10) as client:
        ready, seen = client.readiness()
        assert ready, seen
        prediction = client.infer(SEED)
    assert prediction.protocol == "grpc" and prediction.outputs == (1, 1)


def test_unknown_model_is_not_ready_and_infer_names_the_status(grpc_served: tuple[LocalModelServer, Endpoint]) -> None:
    _, endpoint = grpc_served
    assert endpoint.grpc_url
    with GrpcClient(endpoint.grpc_url, "no-such-model", timeout=10) as client:
        ready, seen = client.readiness()
        assert not ready
        with pytest.raises(InferenceError, match="NOT_FOUND|INVALID_ARGUMENT|not found|not ready"):
            client.infer(SEED)
    assert "no-such-model" in seen or "NOT_FOUND" in seen


def test_bad_input_is_a_grpc_error_not_a_crash(grpc_served: tuple[LocalModelServer, Endpoint]) -> None:
    _, endpoint = grpc_served
    assert endpoint.grpc_url
    with GrpcClient(endpoint.grpc_url, "sklearn-iris", timeout=10) as client:
        with pytest.raises(InferenceError, match="gRPC ModelInfer"):
            client.infer([[1.0, 2.0]])  # two features: the runtime's validation refuses it
        assert client.infer(SEED).outputs == (1, 1)  # and the server still answers


# --- a stub gRPC server: deadlines, metadata, redaction ---------------------------------------------
@pytest.fixture
def stub_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, GrpcStub]]:
    with GrpcStub(request.param) as stub:
        yield stub.address, stub


@pytest.mark.parametrize("stub_server", ["ok"], indirect=True)
def test_headers_reach_the_server_as_metadata(stub_server: tuple[str, GrpcStub]) -> None:
    address, stub = stub_server
    with GrpcClient(address, "m", {"Cookie": "session=abc", "Authorization": "Bearer tok"}, timeout=5) as client:
        assert client.infer(SEED).outputs == (1, 1)
    assert stub.metadata[0]["cookie"] == "session=abc" and stub.metadata[0]["authorization"] == "Bearer tok"


@pytest.mark.parametrize("stub_server", ["slow"], indirect=True)
def test_every_call_has_a_deadline(stub_server: tuple[str, GrpcStub]) -> None:
    address, _ = stub_server
    with GrpcClient(address, "m", timeout=0.5) as client, pytest.raises(InferenceError) as info:
        client.infer(SEED)
    assert info.value.timed_out and "DEADLINE_EXCEEDED" in str(info.value) and "0.5s" in str(info.value)


@pytest.mark.parametrize("stub_server", ["unavailable"], indirect=True)
def test_a_secret_echoed_in_an_error_is_redacted(stub_server: tuple[str, GrpcStub]) -> None:
    address, _ = stub_server
    secret = "session=grpc-secret-value-123456"
    register_secret(secret)
    with GrpcClient(address, "m", {"Cookie": secret}, timeout=5) as client, pytest.raises(InferenceError) as info:
        client.infer(SEED)
    assert "UNAVAILABLE" in str(info.value) and "grpc-secret-value-123456" not in str(info.value)


# --- TLS ---------------------------------------------------------------------------------------
def test_grpcs_is_verified_with_the_given_ca_and_refused_without_it(tmp_path: Path) -> None:
    """A grpcs:// server with a private CA (trustme): verified with --ca-cert, refused with gRPC's roots."""
    from concurrent import futures

    import grpc
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    stub = GrpcStub("ok")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((stub.handler(),))
    credentials = grpc.ssl_server_credentials([(cert.private_key_pem.bytes(), b"".join(c.bytes() for c in cert.cert_chain_pems))])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        with GrpcClient(f"grpcs://127.0.0.1:{port}", "m", tls_verify=str(tmp_path / "ca.pem"), timeout=5) as client:
            assert client.infer(SEED).outputs == (1, 1)
        with GrpcClient(f"grpcs://127.0.0.1:{port}", "m", tls_verify=True, timeout=5) as client, pytest.raises(InferenceError) as info:
            client.infer(SEED)
        assert "UNAVAILABLE" in str(info.value)
    finally:
        server.stop(grace=None)
