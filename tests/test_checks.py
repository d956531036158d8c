"""Each verification check can fail, and says why in a diff-style message."""

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.checks import predict as verify
from harness.checks.quality import check_quality
from harness.contract import IRIS, Thresholds
from harness.contract.golden import load_golden_file
from harness.errors import ConfigError, WaitTimeout
from harness.inference.client import InferenceClient
from harness.results import CheckStatus, Endpoint
from harness.serving.local import LocalModelServer

from .conftest import train_model

IRIS_90 = dataclasses.replace(IRIS, thresholds=Thresholds(min_accuracy=0.9))


@pytest.fixture(scope="module")
def flipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A served model trained on wrong labels: it answers, but wrongly."""
    model = train_model(tmp_path_factory.mktemp("flipped"), flip=True)
    server = LocalModelServer(model, "sklearn-iris", tmp_path_factory.mktemp("flog") / "server.log")
    yield server.start(60)
    server.stop()


def test_golden_passes_on_a_good_model(served: Endpoint) -> None:
    with InferenceClient(served) as client:
        result = verify.check_golden(client, [verify.SEED_CASE])
    assert result.status is CheckStatus.PASSED, result.message


def test_wrong_golden_file_fails_with_a_diff(served: Endpoint, tmp_path: Path) -> None:
    golden = tmp_path / "golden.json"
    golden.write_text(json.dumps([{"instances": [[6.8, 2.8, 4.8, 1.4], [5.1, 3.5, 1.4, 0.2]], "predictions": [1, 2]}]))
    with InferenceClient(served) as client:
        result = verify.check_golden(client, load_golden_file(golden))
    assert result.status is CheckStatus.FAILED
    assert "row 1: expected 2, got 0" in result.message


def test_bad_golden_files_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "g.json"
    bad.write_text('[{"instances": [[1,2,3,4]], "predictions": [1, 2]}]')
    with pytest.raises(ConfigError, match="1 instances but 2 predictions"):
        load_golden_file(bad)
    bad.write_text("not json")
    with pytest.raises(ConfigError, match="golden_file"):
        load_golden_file(bad)


def test_wrong_model_fails_golden_and_accuracy(flipped: Endpoint) -> None:
    with InferenceClient(flipped) as client:
        golden = verify.check_golden(client, [verify.SEED_CASE])
        accuracy = check_quality(client, IRIS_90)
    assert golden.status is CheckStatus.FAILED and "expected 1, got 2" in golden.message
    assert accuracy.status is CheckStatus.FAILED and "< threshold 0.9" in accuracy.message


def test_parity_fails_against_another_artifact(flipped: Endpoint, model_dir: Path) -> None:
    with InferenceClient(flipped) as client:
        assert verify.check_parity(client, model_dir).status is CheckStatus.FAILED
        assert verify.check_parity(client, None).status is CheckStatus.SKIPPED


def test_parity_and_protocols_pass_on_the_real_thing(served: Endpoint, model_dir: Path) -> None:
    with InferenceClient(served) as client:
        assert verify.check_parity(client, model_dir).status is CheckStatus.PASSED
        assert verify.check_protocols(client).status is CheckStatus.PASSED


def test_broken_model_artifact_never_gets_ready(tmp_path: Path, no_leaked_children: None) -> None:
    (tmp_path / "model.joblib").write_bytes(b"this is not a pickle")
    server = LocalModelServer(tmp_path, "sklearn-iris", tmp_path / "server.log")
    with pytest.raises(WaitTimeout, match="exited with code"):
        server.start(ready_timeout=30)
    assert server.proc is None


class _NeverReady(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b'{"ready": false}')

    def log_message(self, *args: object) -> None:
        pass


def test_server_that_never_gets_ready_times_out() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _NeverReady)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        from harness.procs.waiting import wait_until

        endpoint = Endpoint(f"http://127.0.0.1:{httpd.server_address[1]}", "sklearn-iris")
        with InferenceClient(endpoint, timeout=1) as client, pytest.raises(WaitTimeout, match=r"timed out after 0.5s waiting for ready"):
            wait_until(client.ready, what="ready", timeout=0.5)
    finally:
        httpd.shutdown()
