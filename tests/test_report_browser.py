"""report.html in a real browser: headless Chromium takes a screenshot that must show the report.

Proves the page renders offline (file://, networking disabled) with its CSS and SVG plots,
which string checks on the HTML cannot. Skipped when Chromium is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.reports.render import render_all
from tests.test_render_samples import failing_report, interrupted_report, passing_report

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")) if p and Path(p).exists()), None)
WIDTH, HEIGHT = 1280, 2400
# the verdict banner's colours (report.css: --pass, --fail, --int)
VERDICT_RGB = {"passed": (0x1A, 0x7F, 0x37), "failed": (0xB4, 0x23, 0x18), "interrupted": (0xA1, 0x5C, 0x00)}
# series colours of the plots (plots.PALETTE[0], plots.PALETTE[1])
PLOT_RGB = ((0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00))

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium for a headless screenshot: apt-get install chromium"),
]


def screenshot(html: Path, out: Path, profile: Path) -> Path:
    """A headless, offline screenshot of ``html`` (a fresh profile, no network services)."""
    assert CHROMIUM is not None
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={out}",
        f"--window-size={WIDTH},{HEIGHT}", html.as_uri(),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert out.exists(), f"chromium wrote no screenshot (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return out


def has_colour(pixels: Any, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    """How many pixels (an H x W x 3 array) are within ``tolerance`` of ``rgb`` on every channel."""
    return int((abs(pixels.astype(int) - rgb) <= tolerance).all(axis=-1).sum())


@pytest.mark.parametrize(
    ("name", "make"),
    [("failed", failing_report), ("passed", passing_report), ("interrupted", interrupted_report)],
)
def test_screenshot_shows_the_report(tmp_path: Path, name: str, make: Callable[[], dict[str, Any]]) -> None:
    image_module = pytest.importorskip("PIL.Image", reason="needs Pillow to read the screenshot: pip install pillow")
    numpy = pytest.importorskip("numpy")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "report.json").write_text(json.dumps(make()))
    html = render_all(run_dir)[0]
    png = screenshot(html, tmp_path / f"{name}.png", tmp_path / "profile")

    with image_module.open(png) as image:
        assert image.size == (WIDTH, HEIGHT)
        pixels = numpy.asarray(image.convert("RGB"))
    packed = (pixels[..., 0].astype(numpy.uint32) << 16) | (pixels[..., 1].astype(numpy.uint32) << 8) | pixels[..., 2]
    colours = numpy.unique(packed)
    assert len(colours) > 200, f"the screenshot is (nearly) blank: {len(colours)} colours"
    light = float((pixels.min(axis=-1) > 235).mean())
    assert 0.3 < light < 0.98, f"neither a blank page nor an unstyled dark one ({light:.0%} light pixels)"
    assert has_colour(pixels, VERDICT_RGB[name]) > 5000, f"no {name} verdict banner in its colour"
    for other, rgb in VERDICT_RGB.items():
        if other != name:
            assert has_colour(pixels, rgb, tolerance=4) < 5000, f"a {other} banner on a {name} report"
    if name == "failed":
        for rgb in PLOT_RGB:
            assert has_colour(pixels, rgb, tolerance=20) > 300, f"plot lines in {rgb} are not visible"
