"""``mlharness capacity`` against ``mlharness serve``, end to end: report.json, report.html (seen in
headless Chromium) and summary.md hold the capacity at SLO, the curve and the knee.

The search is cut short by its settings (2.5 s steps, a 20 s budget): what is checked is that
every view carries what the search found, not the server's capacity on a shared machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import procs
from harness.cli import main as cli
from harness.reports import plots

from .conftest import PYTHON
from .test_report_browser import CHROMIUM, has_colour


@pytest.fixture
def serve(model_dir: Path, tmp_path: Path) -> Iterator[str]:
    """``mlharness serve --model-dir`` in its own session; its URL; Ctrl-C at the end."""
    port = procs.free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "harness", "serve", "--port", str(port), "--model-dir", str(model_dir), "--report-dir", str(tmp_path / "serve")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")) if proc.stdout else None, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while not any("Ctrl-C stops the server" in line for line in lines):
            assert proc.poll() is None, "mlharness serve exited: " + "".join(lines)
            assert time.monotonic() < deadline, "mlharness serve was not serving within 90 s: " + "".join(lines)
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        reader.join(timeout=10)


def test_capacity_against_serve_reports_the_curve_everywhere(serve: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "capacity"
    started = time.monotonic()
    code = cli.main(["capacity", "--target", "endpoint", "--url", serve, "--report-dir", str(out), "--capacity-step", "2",
                     "--capacity-probe", "1.5", "--capacity-budget", "13", "--capacity-max-steps", "8", "--slo-capacity-rps", "1"])
    took = time.monotonic() - started
    console = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    checks = {c["name"]: c for c in report["checks"]}
    assert code == 0, (console, checks)
    assert took < 20 + 20, f"the search took {took:.0f}s with a 20 s budget"  # a step's start-up of slack, the readiness probe
    assert set(checks) == {"pipeline.compile", "pipeline.lint", "pipeline.run", "deploy.compat", "deploy.ready",
                           "slo.capacity_rps", "baseline.capacity_rps"}, "only the model's way up and the capacity checks"
    assert checks["slo.capacity_rps"]["status"] == "passed" and checks["baseline.capacity_rps"]["status"] == "skipped"
    capacity = report["capacity"]
    assert capacity["capacity_rps"] > 1 and capacity["probe_rps"] > 0 and capacity["knee_rps"] is not None
    assert capacity["limited_by"] in ("slo", "generator", "budget", "max_steps"), capacity["message"]
    curve = capacity["curve"]
    assert len(curve) >= 2 and [s["offered_rps"] for s in curve] == sorted(s["offered_rps"] for s in curve)
    assert all(s["p50_ms"] is not None and s["requests"] > 0 and s["users"] >= 1 for s in curve)
    assert report["load"] is None and "capacity at SLO" in console and "throughput-latency curve" in console

    html = (out / "report.html").read_text()
    assert 'id="capacity-latency"' in html and 'id="capacity-throughput"' in html and 'data-series="p99"' in html
    summary = (out / "summary.md").read_text()
    assert "### Capacity at SLO" in summary and summary.count("req/s |") >= len(curve)

    if CHROMIUM is None:
        pytest.skip("needs Chromium for the screenshot: apt-get install chromium")
    image_module = pytest.importorskip("PIL.Image", reason="needs Pillow to read the screenshot")
    numpy = pytest.importorskip("numpy")
    png = tmp_path / "capacity.png"
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}", "--window-size=1280,3200", (out / "report.html").as_uri()]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert png.exists(), done.stderr[-2000:]
    with image_module.open(png) as image:
        pixels = numpy.asarray(image.convert("RGB"))
    # the page has no load section: every line in these colours is the capacity curve (p50, p95, p99)
    for colour in plots.PALETTE[:3]:
        rgb = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
        assert has_colour(pixels, rgb, tolerance=20) > 150, f"no {colour} line of the capacity curve on the page"
