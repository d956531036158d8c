import asyncio
import io
import json
import math
import re
import warnings
from collections import Counter
from pathlib import Path

import httpx
import pytest

from harness.inference.client import InferenceClient
from harness.results import Endpoint
from harness.serving import kserve_patches
from harness.serving.local import LocalModelServer
from harness.serving.validation import validate_rows

from .foreign.catalogue import BINARY_BODY, BINARY_HEADERS
from .foreign.servers import listening_addresses

SEED = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
V2_SEED = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": SEED}]}
# 1 MB of log for a default 30 s run at the ~2,400 req/s one worker serves (shared/UPSTREAM.md)
LOG_BYTES_PER_REQUEST = 1_000_000 / (30 * 2_400)


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ({"a": 1}, "list of rows"),
        ([], "empty batch"),
        ([[1, 2, 3]], "expected 4 features"),
        ([[1, 2, 3, "4"]], "expected a number"),
        ([[1, 2, 3, True]], "expected a number"),
        ([[1, 2, 3, math.nan]], "finite"),
        ([[1, 2, 3, math.inf]], "finite"),
        ([[1, 2, 3, 4]] * 11, "exceeds the limit"),
        ([5], "expected a list of 4"),
    ],
)
def test_validate_rows_rejects(rows: object, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        validate_rows(rows, 4, max_batch=10)


def test_validate_rows_accepts_ints_and_floats() -> None:
    assert validate_rows([[1, 2.5, 3, 4]], 4, 10) == [[1.0, 2.5, 3.0, 4.0]]


def test_seed_curl_answer(served: Endpoint) -> None:
    response = httpx.post(
        f"{served.base_url}/v1/models/sklearn-iris:predict",
        content=b'{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200 and response.json() == {"predictions": [1, 1]}


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("v1", b'{"instances": [[1, 2, 3]]}', {}),
        ("v1", b'{"instances": [[1, 2, 3, "x"]]}', {}),
        ("v1", b'{"instances": []}', {}),
        ("v1", b'{"rows": [[1, 2, 3, 4]]}', {}),
        ("v1", b'{"instances": [[1, 2, 3, 4]]}', {"Content-Type": "text/plain"}),
        ("v1", b'{"instances": [[1, 2, 3, NaN]]}', {}),
        ("v1", b"[1, 2]", {}),
        ("v2", b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3, 4]}]}', {}),
        ("v2", b'{"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "BYTES", "data": ["a", "b", "c", "d"]}]}', {}),
    ],
)
def test_bad_input_answers_400_with_an_error_body(served: Endpoint, path: str, body: bytes, headers: dict) -> None:
    url = f"{served.base_url}/v1/models/sklearn-iris:predict" if path == "v1" else f"{served.base_url}/v2/models/sklearn-iris/infer"
    response = httpx.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 400, response.text
    assert response.json()["error"]


def test_client_v1_v2_and_metadata(served: Endpoint) -> None:
    with InferenceClient(served) as client:
        assert client.ready() and client.v2_ready()
        assert client.predict([[6.8, 2.8, 4.8, 1.4]]).outputs == (1,)
        assert client.infer([[6.8, 2.8, 4.8, 1.4]]).outputs == (1,)
        assert client.metadata()["name"] == "sklearn-iris"


def test_request_logging_is_off_by_default(served: Endpoint, tmp_path_factory: pytest.TempPathFactory) -> None:
    log = next(tmp_path_factory.getbasetemp().glob("server*/server.log"))
    before = log.stat().st_size  # the session's server: other tests' bad requests are logged as errors
    with InferenceClient(served) as client:
        for _ in range(5):
            client.predict([[6.8, 2.8, 4.8, 1.4]])
    with log.open("rb") as handle:
        handle.seek(before)
        written = handle.read().decode(errors="replace")
    assert ":predict" not in written, f"the server logged requests although log_requests is off: {written[-500:]}"


def test_prestarted_server_waits_for_its_model_then_serves(model_dir: Path, tmp_path: Path) -> None:
    from harness.serving.local import LocalModelServer

    server = LocalModelServer(tmp_path, "sklearn-iris", tmp_path / "server.log")
    server.prestart(tmp_path / "handoff")
    try:
        assert server.proc is not None and server.proc.poll() is None
        endpoint = server.start(60, model_dir=model_dir)
        with InferenceClient(endpoint) as client:
            assert client.predict([[6.8, 2.8, 4.8, 1.4]]).outputs == (1,)
    finally:
        server.stop()


def test_prestarted_server_gives_up_without_a_model(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "harness.serving.runtime", "--model_name", "m", "--model_dir_file", str(tmp_path / "never"), "--model_dir_wait", "0.3", "--http_port", "1"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0 and "no model directory was written" in proc.stderr


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.e2e)])  # two workers: the slowest start, e2e
def test_the_server_listens_on_loopback_only(model_dir: Path, tmp_path: Path, workers: int) -> None:
    server = LocalModelServer(model_dir, "sklearn-iris", tmp_path / "server.log", workers=workers, grpc=True)
    endpoint = server.start(ready_timeout=60)
    try:
        port = int(endpoint.base_url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex; not 00000000
        # gRPC (in the server's parent process, also with workers): 127.0.0.1, maybe as ::ffff:127.0.0.1
        grpc_addresses = listening_addresses(server.grpc_port)
        assert grpc_addresses and grpc_addresses <= {"0100007F", "0000000000000000FFFF00000100007F"}, grpc_addresses
        # the runtime's patches reach every worker (spawned, they import the runtime afresh)
        for _ in range(2 * workers):
            bare = httpx.post(f"{endpoint.base_url}/v2/models/sklearn-iris/infer", content=json.dumps(V2_SEED).encode(), timeout=10)
            assert bare.status_code == 200, bare.text
    finally:
        server.stop()


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_json_without_content_type_is_accepted(served: Endpoint, protocol: str) -> None:
    """tritonclient's JSON infer and ``curl -H 'Content-Type:'`` send JSON with no Content-Type."""
    path, body = (":predict", {"instances": SEED}) if protocol == "v1" else ("/infer", V2_SEED)
    url = f"{served.base_url}/{protocol}/models/sklearn-iris{path}"
    response = httpx.post(url, content=json.dumps(body).encode(), timeout=10)
    assert "content-type" not in response.request.headers
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["predictions"] if protocol == "v1" else answer["outputs"][0]["data"]) == [1, 1]


def test_binary_tensors_still_work(served: Endpoint) -> None:
    """The V2 binary tensor extension: JSON header, raw FP32 bytes, no Content-Type."""
    response = httpx.post(f"{served.base_url}/v2/models/sklearn-iris/infer", content=BINARY_BODY, headers=BINARY_HEADERS, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == [1, 1]


@pytest.mark.parametrize(
    ("path", "headers", "added"),
    [
        ("/v2/models/m/infer", [], True),
        ("/v2/models/m/versions/1/infer", [(b"accept", b"*/*")], True),
        ("/v2/models/m/infer", [(b"content-type", b"text/plain")], False),
        ("/v2/models/m/infer", [(b"inference-header-content-length", b"10")], False),
        ("/v1/models/m:predict", [], False),
        ("/v2/models/m/ready", [], False),
    ],
)
def test_json_default_touches_only_v2_infer_without_a_content_type(path: str, headers: list, added: bool) -> None:
    seen: list[dict] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        seen.append(scope)

    scope = {"type": "http", "method": "POST", "path": path, "headers": list(headers)}
    asyncio.run(kserve_patches.JsonWithoutContentType(app)(scope, None, None))  # type: ignore[arg-type]
    assert ((b"content-type", b"application/json") in seen[0]["headers"]) == added
    assert scope["headers"] == headers, "the caller's scope was changed in place"


def test_each_warning_is_shown_once_even_after_registry_resets() -> None:
    """scikit-learn's ``catch_warnings`` per predict resets Python's once-per-line memory."""
    shown: list[str] = []
    note = io.StringIO()
    with warnings.catch_warnings():  # restores showwarning and the filters afterwards
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *args, **kwargs: shown.append(str(message))
        kserve_patches.log_each_warning_once(stream=note)
        for _ in range(3):
            warnings.warn("per request", UserWarning, stacklevel=1)
            with warnings.catch_warnings():  # what each predict does
                pass
        warnings.warn("a real one", RuntimeWarning, stacklevel=1)
    assert shown == ["per request", "a real one"]
    assert note.getvalue().count("repeats are not logged") == 1, note.getvalue()


def test_server_log_stays_small_under_requests(served: Endpoint, tmp_path_factory: pytest.TempPathFactory) -> None:
    """KServe 0.21 under FastAPI 0.165 warns on every response; the log keeps the first of each."""
    log = next(tmp_path_factory.getbasetemp().glob("server*/server.log"))
    with httpx.Client(base_url=served.base_url, timeout=10) as client:

        def both() -> None:
            assert client.post("/v1/models/sklearn-iris:predict", json={"instances": SEED}).status_code == 200
            assert client.post("/v2/models/sklearn-iris/infer", json=V2_SEED).status_code == 200

        for _ in range(5):  # the first occurrence of each warning lands now
            both()
        before = log.stat().st_size
        for _ in range(150):
            both()
    grown = log.stat().st_size - before
    per_request = grown / 300
    assert per_request < LOG_BYTES_PER_REQUEST, (
        f"server.log grew {grown} bytes over 300 requests ({per_request:.0f} B each): "
        f"a 30 s run at 2,400 req/s would write {per_request * 72_000 / 1e6:.1f} MB"
    )
    firsts = Counter(re.findall(r"^(\S+:\d+): FastAPIDeprecationWarning", log.read_text(errors="replace"), re.M))
    assert firsts, "the first ORJSONResponse deprecation warning should stay in the log (did FastAPI change?)"
    assert set(firsts.values()) == {1}, f"a warning was logged more than once: {firsts}"


@pytest.mark.e2e  # two server starts (the prestarted one, then on another port)
def test_a_port_taken_by_another_run_is_never_mistaken_for_ours(model_dir: Path, tmp_path: Path) -> None:
    """Another process answers ready on the port our prestarted server was given: the harness
    does not take that answer for its own server, and moves to another port."""
    from tests.helpers.stub_server import StubServer, reply

    server = LocalModelServer(model_dir, "sklearn-iris", tmp_path / "server.log")
    server.prestart(tmp_path / "handoff")
    taken = server.port
    impostor = StubServer({("GET", "/v1/models/sklearn-iris"): reply(200, {"name": "sklearn-iris", "ready": True})}, port=taken)
    try:
        with impostor:
            endpoint = server.start(ready_timeout=90, model_dir=model_dir)
            assert server.port != taken and endpoint.base_url.endswith(f":{server.port}")
            assert server.listening()
            with InferenceClient(endpoint) as client:
                assert client.predict([[6.8, 2.8, 4.8, 1.4]]).outputs == (1,)
    finally:
        server.stop()
