"""The inference client's bounds, answers and trust: every request ends, every status is named."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import InferenceError
from harness.inference.client import InferenceClient
from harness.redact import preview, redact, register_cookie, register_secret
from harness.results import Endpoint

from .helpers.stub_server import StubServer, endless, reply, trickle

MODEL = "m"
V1 = f"/v1/models/{MODEL}:predict"


def client(url: str, **kwargs: object) -> InferenceClient:
    return InferenceClient(Endpoint(url, MODEL), **kwargs)  # type: ignore[arg-type]


def test_a_trickling_body_is_cut_at_the_total_deadline_not_per_read() -> None:
    with StubServer({("POST", V1): trickle(every_s=0.3, total_s=20)}) as url, client(url, timeout=1.5) as c:
        started = time.monotonic()
        with pytest.raises(InferenceError, match="still arriving after 1.5s") as info:
            c.predict([[1, 2, 3, 4]])
        elapsed = time.monotonic() - started
    assert info.value.timed_out
    # the server trickles for 20 s; a per-read timeout would wait all of it
    assert elapsed < 1.5 + 5.0, f"took {elapsed:.1f}s: the deadline is per request, not per read"


def test_an_endless_body_is_cut_at_max_bytes_and_reported() -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with StubServer({("POST", V1): endless()}) as url, client(url, timeout=10, max_bytes=1_000_000) as c:
        answer = c.request("POST", V1, json_body={"instances": [[1, 2, 3, 4]]})
        assert answer.truncated and len(answer.content) == 1_000_000
        with pytest.raises(InferenceError, match="longer than 1000000 bytes"):
            c.predict([[1, 2, 3, 4]])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"max RSS grew by {grown_mb:.0f} MB"


def test_a_redirect_to_a_login_page_is_named_and_not_followed() -> None:
    routes = {("POST", V1): reply(302, "", {"Location": "http://127.0.0.1:9/dex/auth?client_id=kubeflow"})}
    with StubServer(routes) as url, client(url) as c:
        with pytest.raises(InferenceError) as info:
            c.predict([[1, 2, 3, 4]])
    message = str(info.value)
    assert "HTTP 302 redirect to http://127.0.0.1:9/dex/auth" in message
    assert "redirected to a login page: the cookie or token was probably rejected or expired" in message


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_named(status: int) -> None:
    with StubServer({("POST", V1): reply(status, "RBAC: access denied")}) as url, client(url) as c:
        with pytest.raises(InferenceError, match=f"HTTP {status}: the endpoint refused the request.*RBAC: access denied"):
            c.predict([[1, 2, 3, 4]])


def test_a_non_json_answer_names_its_status() -> None:
    with StubServer({("POST", V1): reply(200, "<html>proxy page</html>")}) as url, client(url) as c:
        with pytest.raises(InferenceError, match=r"HTTP 200 answer is not JSON: <html>proxy page"):
            c.predict([[1, 2, 3, 4]])


def test_v2_answers_are_read_by_the_reader() -> None:
    answer = {"outputs": [{"name": "probs", "datatype": "FP32", "shape": [2, 3], "data": [0.1, 0.8, 0.1] * 2},
                          {"name": "predict", "datatype": "INT64", "shape": [2, 1], "data": [[1], [1]]}]}
    with StubServer({("POST", f"/v2/models/{MODEL}/infer"): reply(200, answer)}) as url, client(url) as c:
        assert c.infer([[1, 2, 3, 4], [5, 6, 7, 8]]).outputs == (1, 1)
        assert c.classify([[1, 2, 3, 4], [5, 6, 7, 8]], "v2").outputs == (1, 1)


def test_an_echoed_secret_cut_anywhere_never_shows() -> None:
    cookie_value = "".join(chr(65 + (i * 7) % 26) for i in range(400))
    register_cookie(f"oauth2_proxy_kubeflow={cookie_value}")
    body = f'{{"error": "bad input", "echo": "oauth2_proxy_kubeflow={cookie_value}"}}'
    for limit in (30, 60, 200, 300, 2000):
        shown = preview(body, limit)
        assert not any(cookie_value[i : i + 12] in shown for i in range(len(cookie_value) - 12)), (limit, shown)
    # a text that starts or ends inside the secret (a window into a longer body)
    assert cookie_value[100:] not in redact(cookie_value[100:])
    assert redact("x" + cookie_value[:50]).startswith("x***")
    assert redact(cookie_value[-50:] + " tail") == "*** tail"


def test_session_cookies_are_masked_by_name_even_unregistered() -> None:
    text = "Cookie: oauth2_proxy_kubeflow=abc123abc123; _oauth2_proxy_csrf=zzz999zzz999; authservice_session=qqq"
    masked = redact(text)
    assert "abc123" not in masked and "zzz999" not in masked and "qqq" not in masked
    assert redact("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig") == "Authorization: Bearer ***"


def test_short_values_do_not_mask_ordinary_text() -> None:
    register_secret("ab")
    assert redact("about") == "about"


# --- TLS ---------------------------------------------------------------------------------
def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("mlharness test CA")).issuer_name(name("mlharness test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An https stub answering V1 readiness, with a certificate from a private CA."""
    ca, cert, key = _certificates(tmp_path_factory.mktemp("tls"))
    stub = StubServer({("GET", f"/v1/models/{MODEL}"): reply(200, {"name": MODEL, "ready": True})})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    stub.server.socket = context.wrap_socket(stub.server.socket, server_side=True)
    with stub as url:
        yield url.replace("http://", "https://"), ca


def test_a_private_ca_verifies_and_without_it_the_certificate_is_refused(https_server: tuple[str, Path]) -> None:
    url, ca = https_server
    with InferenceClient(Endpoint(url, MODEL, tls_verify=str(ca))) as c:
        assert c.readiness()[0]
    with InferenceClient(Endpoint(url, MODEL)) as c:
        ready, seen = c.readiness()
    assert not ready and "CERTIFICATE_VERIFY_FAILED" in seen
    with InferenceClient(Endpoint(url, MODEL, tls_verify=False)) as c:
        assert c.readiness()[0]
