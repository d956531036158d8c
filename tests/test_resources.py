"""Server resources sampled from /proc: a growing process shows its slope, a flat one does not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.load.resources import Sampler, Series, rss_growth

LEAKER = textwrap.dedent(
    """
    import sys, time
    keep, step, end = [], int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        keep.append(bytearray(step))   # grows by `step` bytes every 0.1 s (touching them all)
        time.sleep(0.1)
    """
)


@pytest.fixture
def leaker(tmp_path: Path):  # type: ignore[no-untyped-def]
    script = tmp_path / "leak.py"
    script.write_text(LEAKER)
    procs: list[subprocess.Popen[bytes]] = []

    def start(step_bytes: int, seconds: float) -> int:
        proc = subprocess.Popen([sys.executable, str(script), str(step_bytes), str(seconds)])
        procs.append(proc)
        return proc.pid

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)


def test_a_leaking_process_shows_its_growth(leaker) -> None:  # type: ignore[no-untyped-def]
    pid = leaker(2 * 1024 * 1024, 30)  # ~20 MB/s
    sampler = Sampler(lambda: [pid], interval=0.1).start()
    import time

    time.sleep(1.5)
    series = sampler.stop()
    growth = rss_growth(series)
    assert growth is not None and growth.samples >= 6
    assert growth.slope_mb_per_min > 300, growth  # 20 MB/s = 1,200 MB/min, less while it starts
    assert series.summary()["rss_max_mb"] > series.summary()["rss_start_mb"]


def test_a_flat_process_has_no_growth(leaker) -> None:  # type: ignore[no-untyped-def]
    pid = leaker(0, 30)
    import time

    time.sleep(0.6)  # past the interpreter's own start-up
    sampler = Sampler(lambda: [pid], interval=0.1).start()
    time.sleep(1.2)
    growth = rss_growth(sampler.stop())
    assert growth is not None and abs(growth.slope_mb_per_min) < 10, growth


def test_children_are_counted_and_the_dead_skipped() -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess,sys,time; c=subprocess.Popen([sys.executable,'-c','import time; time.sleep(30)']); time.sleep(30)"])
    try:
        import time

        deadline = time.monotonic() + 20
        while not __import__("psutil").Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)  # until the parent has started its child (bounded)
        sampler = Sampler(lambda: [parent.pid, 999_999_999], interval=0.2).start()
        time.sleep(0.7)
        series = sampler.stop()
        assert series.processes and max(series.processes) == 2
    finally:
        for child in __import__("psutil").Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait(timeout=10)


def test_growth_needs_three_samples() -> None:
    assert rss_growth(Series((0.0, 1.0), (0.0, 0.0), (10.0, 11.0), (1, 1))) is None
    g = rss_growth(Series((0.0, 1.0, 2.0, 3.0), (0.0,) * 4, (10.0, 11.0, 12.0, 13.0), (1,) * 4))
    assert g is not None and g.slope_mb_per_min == pytest.approx(60) and g.growth_mb == pytest.approx(3)
