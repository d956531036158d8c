"""The load's safety rules without running locust: masking, answer judging, protocol choice, TLS plan.

``masking``, ``answers`` and ``recording`` are plain Python (the locustfile loads them from
beside itself), so they are tested here in-process; locust itself never enters this process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.load.plan import GEVENT_MODULES, LOCUST_MODULES, LOCUSTFILE, LoadPlan, load_protocol
from harness.load.results import read_worker_files
from harness.load.worker.answers import LoadFailure, judge
from harness.load.worker.masking import MESSAGE_LIMIT, Masker, header_secrets
from harness.load.worker.recording import MAX_FAILURE_KINDS, OTHER_MESSAGES, Recorder
from harness.redact import register_secret
from harness.results import Endpoint

COOKIE_VALUE = "".join(chr(ord("a") + (i * 7) % 26) + str(i % 10) for i in range(200))  # 400 characters
COOKIE = f"oauth2_proxy_kubeflow={COOKIE_VALUE}; theme=dark"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.sig-4f7a9c"
HEADERS = {"Cookie": COOKIE, "Authorization": f"Bearer {TOKEN}", "Host": "iris.example.com", "Content-Type": "application/json"}


def runs_of(secret: str, text: str, n: int = 12) -> list[str]:
    """Every run of ``n`` characters of ``secret`` that appears in ``text``."""
    return [secret[i:i + n] for i in range(len(secret) - n + 1) if secret[i:i + n] in text]


def test_every_secret_value_is_known_separately() -> None:
    secrets = header_secrets(HEADERS)
    assert COOKIE_VALUE in secrets and TOKEN in secrets and COOKIE in secrets and f"Bearer {TOKEN}" in secrets
    assert "dark" in secrets  # each cookie's value on its own
    assert "iris.example.com" not in secrets and "application/json" not in secrets


@pytest.mark.parametrize("cut", [(0, 400), (37, 237), (390, 400), (100, 112)])
def test_a_secret_echoed_whole_or_in_part_is_masked_before_the_cut(cut: tuple[int, int]) -> None:
    mask = Masker(HEADERS)
    part = COOKIE_VALUE[cut[0]:cut[1]]
    # the cut at MESSAGE_LIMIT falls inside the echoed secret: masking after it would leave its start
    body = "x" * (MESSAGE_LIMIT - 20) + f" cookie={part} token=" + TOKEN[:30] + " end"
    line = mask.cut(body)
    assert len(line) <= MESSAGE_LIMIT
    assert not runs_of(COOKIE_VALUE, line, 8) and not runs_of(TOKEN, line, 8), line
    assert line.startswith("x" * 50)
    assert not runs_of(COOKIE_VALUE, mask(body), 8) and "***" in mask(body)


def test_secret_shaped_values_are_masked_without_being_known() -> None:
    mask = Masker({})
    assert mask("auth: Bearer abc.def-ghi and _oauth2_proxy_x=zzz; ok") == "auth: Bearer *** and _oauth2_proxy_x=***; ok"


def test_masked_lines_are_remembered_not_recomputed() -> None:
    mask = Masker(HEADERS)
    text = f"denied {COOKIE_VALUE}"
    assert mask.cut(text) is mask.cut(text)


class FakeAnswer:
    """A geventhttpclient response, as far as :func:`judge` reads one."""

    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, chunks: int = 0) -> None:
        self.status_code = status
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.body = bytearray(body)
        self.chunks = chunks  # > 0: an endless stream of 64 KiB blocks, counted down
        self.read_bytes = 0
        self.message_complete = not chunks
        self.content_length = None if chunks else len(body)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def read(self, n: int | None = None) -> bytes:
        if self.chunks:
            self.chunks -= 1
            self.read_bytes += 65536
            return b"1" * 65536
        data = bytes(self.body[:n] if n is not None else self.body)
        del self.body[:len(data)]
        self.read_bytes += len(data)
        return data


def _judge(answer: FakeAnswer, max_bytes: int = 1 << 20) -> tuple[int, LoadFailure | None]:
    mask = Masker(HEADERS)
    return judge(answer, max_bytes, mask.cut, mask.span * 4)


def test_a_2xx_counts_only_with_a_json_body() -> None:
    assert _judge(FakeAnswer(200, b'{"predictions": [1]}')) == (20, None)
    _, failure = _judge(FakeAnswer(200, b"<html>welcome</html>"))
    assert failure is not None and failure.status == 200 and failure.detail == "HTTP 200 answer is not JSON: <html>welcome</html>"
    assert _judge(FakeAnswer(200, b"\x1f\x8b..", {"Content-Encoding": "gzip"}))[1] is None  # not decoded under load


def test_a_redirect_is_a_failure_naming_its_target_masked() -> None:
    _, failure = _judge(FakeAnswer(302, headers={"Location": f"https://login.example.com/dex/auth?state={TOKEN}"}))
    assert failure is not None and failure.status == 302
    assert failure.detail == "HTTP 302 redirect to https://login.example.com/dex/auth?state=*** (not followed)"
    assert str(failure) == "HTTP 302 redirect, not followed"  # locust's own table: few distinct texts


def test_an_error_body_is_read_only_as_far_as_its_message_and_masked() -> None:
    answer = FakeAnswer(400, (f'{{"error": "bad cookie {COOKIE}"}}' + " " * 1_000_000).encode())
    _, failure = _judge(answer)
    assert failure is not None and failure.status == 400 and failure.detail.startswith('HTTP 400: {"error": "bad cookie ***')
    assert answer.read_bytes < 10_000 and not runs_of(COOKIE_VALUE, failure.detail, 8)


def test_an_endless_body_stops_at_max_response_bytes() -> None:
    answer = FakeAnswer(200, chunks=10_000)
    with pytest.raises(LoadFailure, match=r"HTTP 200 answer over 1048576 bytes \(max_response_bytes\), cut off"):
        _judge(answer)
    assert answer.read_bytes <= (1 << 20) + 65536
    declared = FakeAnswer(200, b"{}")
    declared.message_complete, declared.content_length = False, 10 << 20
    with pytest.raises(LoadFailure):
        _judge(declared)
    assert declared.read_bytes == 0


def test_failure_kinds_are_bounded_per_worker(tmp_path: Path) -> None:
    recorder = Recorder(out=tmp_path)
    recorder.t0 = 1000.0
    for i in range(MAX_FAILURE_KINDS + 30):
        recorder.on_request("v1", 1.0, None, LoadFailure(500, "HTTP 500", f"HTTP 500: request id {i}"), {}, start_time=1001.0)
    assert len(recorder.failures) == MAX_FAILURE_KINDS + 1
    assert recorder.failures[("v1", 500, OTHER_MESSAGES)] == 30


@pytest.mark.parametrize(
    ("requested", "spoken", "chosen"),
    [("auto", ("v1", "v2"), "mixed"), ("auto", ("v2",), "v2"), ("auto", ("v1",), "v1"),
     ("v2", ("v1", "v2"), "v2"), ("mixed", ("v1", "v2"), "mixed")],
)
def test_load_protocol_follows_what_the_endpoint_speaks(requested: str, spoken: tuple[str, ...], chosen: str) -> None:
    assert load_protocol(requested, spoken) == chosen


@pytest.mark.parametrize(
    ("requested", "spoken", "message"),
    [("v1", ("v2",), "load_protocol: v1 needs V1, but the endpoint speaks V2; use load_protocol = auto"),
     ("mixed", ("v2",), "load_protocol: mixed needs V1, but the endpoint speaks V2; use load_protocol = auto"),
     ("auto", (), "load_protocol: the endpoint speaks neither V1 nor V2: nothing to load")],
)
def test_a_protocol_the_endpoint_does_not_speak_is_a_config_error(requested: str, spoken: tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_protocol(requested, spoken)
    assert str(info.value) == message and info.value.exit_code == 2


def test_auto_is_the_default_and_the_plan_uses_the_endpoint_protocols() -> None:
    assert HarnessConfig().load.protocol == "auto"
    plan = LoadPlan.from_config(Endpoint("http://127.0.0.1:9", "m", protocols=("v2",)), HarnessConfig())
    assert plan.protocol == "v2" and json.loads(plan.plan_json())["protocol"] == "v2"


def test_the_plan_verifies_certificates_by_the_harness_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    endpoint = Endpoint("https://127.0.0.1:9", "m")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    default = LoadPlan.from_config(endpoint, HarnessConfig())
    assert (default.insecure, default.ca_cert) == (False, None) and default.describe()["tls"] == "verified with certifi's CA bundle"
    given = LoadPlan.from_config(endpoint, HarnessConfig().replace(ca_cert=str(ca)))
    assert json.loads(given.plan_json())["ca_cert"] == str(ca) and json.loads(given.plan_json())["insecure"] is False
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    assert LoadPlan.from_config(endpoint, HarnessConfig()).ca_cert == str(ca)
    insecure = LoadPlan.from_config(endpoint, HarnessConfig().replace(insecure=True))
    assert insecure.insecure and insecure.ca_cert is None and insecure.describe()["tls"] == "not verified (insecure)"
    assert json.loads(insecure.plan_json())["max_response_bytes"] == HarnessConfig().endpoint.max_response_bytes


def test_worker_files_are_redacted_again_when_read(tmp_path: Path) -> None:
    secret = "harness-registered-secret-7x9q"
    register_secret(secret)
    results = tmp_path / "results"
    results.mkdir()
    doc: dict[str, Any] = {"requests": 1, "failures": 1, "latency": "HISTFAAAAB" + secret[:4],
                           "failures_by_kind": [{"name": "v1", "status": 500, "message": f"boom {secret}", "count": 1}]}
    (results / "worker-1.json").write_text(json.dumps(doc))
    (read_doc,) = read_worker_files(results, rewrite=True)
    assert read_doc["failures_by_kind"][0]["message"] == "boom ***"
    on_disk = json.loads((results / "worker-1.json").read_text())
    assert on_disk["failures_by_kind"][0]["message"] == "boom ***" and on_disk["latency"] == doc["latency"]


def test_the_locustfile_modules_import_neither_locust_nor_gevent() -> None:
    """The plain modules beside the locustfile import neither (the harness may import them); those
    that send (gevent) or define the user (locust) are named, and nothing outside the worker imports them."""
    assert {m.name for m in LOCUST_MODULES} >= {"settings.py", "bodies.py", "http_sender.py", "user.py", "recording.py"}
    for module in LOCUST_MODULES:
        text = module.read_text()
        assert "from harness" not in text, module.name
        if module.name not in GEVENT_MODULES:
            assert "import gevent" not in text and "import locust" not in text, module.name
    harness = Path(LOCUSTFILE).parents[2]
    for path in harness.rglob("*.py"):
        if "worker" not in path.parts:
            text = path.read_text()
            assert not any(f"worker.{m[:-3]} import" in text or f"worker import {m[:-3]}" in text for m in GEVENT_MODULES), path


def test_the_values_of_the_urls_query_are_masked_in_the_workers_messages() -> None:
    mask = Masker({}, "api_key=k3y-k3y-k3y-k3y&v=2")
    assert mask.cut("unknown key k3y-k3y-k3y-k3y for /infer (v=2)") == "unknown key *** for /infer (v=2)"  # 'v=2' is too short to be one
    assert not runs_of("k3y-k3y-k3y-k3y", mask.cut("echo: 3y-k3y-k3y-k"), 8)
