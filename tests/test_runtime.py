import math
from pathlib import Path

import httpx
import pytest

from harness.client import InferenceClient
from harness.models import Endpoint
from harness.serving.local import LocalModelServer
from harness.serving.validation import validate_rows


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
    with InferenceClient(served) as client:
        for _ in range(5):
            client.predict([[6.8, 2.8, 4.8, 1.4]])
    log = next(tmp_path_factory.getbasetemp().glob("server*/server.log")).read_text()
    assert ":predict" not in log, "the server logged requests although log_requests is off"


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


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses with a socket listening on ``port`` (Linux /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
@pytest.mark.parametrize("workers", [1, 2])
def test_the_server_listens_on_loopback_only(model_dir: Path, tmp_path: Path, workers: int) -> None:
    server = LocalModelServer(model_dir, "sklearn-iris", tmp_path / "server.log", workers=workers)
    endpoint = server.start(ready_timeout=60)
    try:
        port = int(endpoint.base_url.rsplit(":", 1)[1])
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex; not 00000000
    finally:
        server.stop()
