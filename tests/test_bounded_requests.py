"""A whole run against endpoints that stall or stream forever ends on time, in bounded memory."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from harness.reports.writer import load_report

from .helpers.stub_server import StubServer, endless, reply, trickle

MODEL = "sklearn-iris"


def run(url: str, report_dir: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """``mlharness run --target endpoint`` against ``url``: the process, its wall time and peak RSS (MB)."""
    argv = [sys.executable, "-m", "harness", "run", "--target", "endpoint", "--url", url, "--model-name", MODEL,
            "--no-load", "--report-dir", str(report_dir), *extra]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0.0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None and time.monotonic() - started < 180:
        try:
            peak = max(peak, watched.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    out, _ = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(argv, proc.returncode, out, ""), time.monotonic() - started, peak


def test_a_stalling_endpoint_ends_within_the_ready_timeout_and_a_bounded_margin(tmp_path: Path) -> None:
    # headers at once, then one byte every second, for two minutes
    with StubServer({("GET", f"/v1/models/{MODEL}"): trickle(every_s=1.0, total_s=120)}) as url:
        proc, elapsed, _ = run(url, tmp_path / "report", "--ready-timeout", "5s", "--request-timeout", "30s")
    assert proc.returncode == 1, proc.stdout
    ready = next(c for c in load_report(tmp_path / "report")["checks"] if c["name"] == "deploy.ready")
    assert ready["status"] == "failed" and "timed out after 5s" in ready["message"], ready
    assert "still arriving" in ready["message"], ready["message"]
    # 5 s of readiness, <= 10 s of diagnostics probes, and the command's own start-up and exit
    assert elapsed < 5 + 10 + 25, f"the run took {elapsed:.0f}s"


def test_an_endless_body_is_cut_and_reported_in_bounded_memory(tmp_path: Path) -> None:
    routes = {
        ("GET", f"/v1/models/{MODEL}"): reply(200, {"name": MODEL, "ready": True}),
        ("POST", f"/v1/models/{MODEL}:predict"): endless(total_s=120),
    }
    with StubServer(routes) as url:
        proc, _, peak_mb = run(url, tmp_path / "report", "--no-robustness", "--max-response-bytes", "4000000")
    assert proc.returncode == 1, proc.stdout
    golden = next(c for c in load_report(tmp_path / "report")["checks"] if c["name"] == "predict.golden")
    assert golden["status"] == "failed" and "longer than 4000000 bytes (cut off)" in golden["message"], golden
    # an unbounded read grew by ~700 MB/s here; the harness itself (kfp, sklearn, pandas) takes ~200 MB
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"
