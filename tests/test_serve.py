"""`mlharness serve`: the seed's curl answers [1, 1], with or without a Content-Type; Ctrl-C leaves nothing behind."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from harness import procs
from harness.cli.serve import last_model

from .conftest import PYTHON, train_model


def test_serve_answers_the_seed_curl_and_ctrl_c_cleans_up(model_dir: Path, tmp_path: Path) -> None:
    port = procs.free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "harness", "serve", "--port", str(port), "--model-dir", str(model_dir), "--report-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")) if proc.stdout else None, daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any("Ctrl-C stops the server" in line for line in lines):
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.1)
        assert any(url in line for line in lines), f"serve never printed its URL: {''.join(lines)}"
        # the seed's request, with the Content-Type the seed's curl left out
        answer = httpx.post(
            f"{url}/v1/models/sklearn-iris:predict",
            content='{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert answer.json() == {"predictions": [1, 1]}
        # JSON with no Content-Type at all (tritonclient's JSON infer, curl -H 'Content-Type:')
        v2 = '{"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}]}'
        for path, body in (("/v1/models/sklearn-iris:predict", '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}'),
                           ("/v2/models/sklearn-iris/infer", v2)):
            bare = httpx.post(url + path, content=body.encode(), timeout=10)
            assert "content-type" not in bare.request.headers
            assert bare.status_code == 200, f"{path} without Content-Type: {bare.status_code} {bare.text}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    out = "".join(lines)
    assert proc.returncode == 130, out
    assert f"http://127.0.0.1:{port}" in out and "curl -H 'Content-Type: application/json'" in out
    time.sleep(0.3)
    assert not procs.port_open("127.0.0.1", port), "the model server still listens after Ctrl-C"
    left = subprocess.run(["pgrep", "-f", f"harness.serving.runtime.*--http_port {port}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", f"processes left behind: {left.stdout}"


def test_last_model_picks_the_newest(tmp_path: Path) -> None:
    assert last_model(tmp_path) is None
    old = train_model(tmp_path / "a" / "train" / "model")
    new = train_model(tmp_path / "b" / "train" / "model")
    os.utime(old / "model.joblib", (1, 1))
    assert last_model(tmp_path) == new
