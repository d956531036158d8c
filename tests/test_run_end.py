"""The end of a run: a second signal, a hanging diagnostics step or a failing teardown never skip the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import procs
from harness.config import load_config
from harness.reports.writer import load_report
from harness.results import Endpoint
from harness.run.runner import ValidationRun

from .conftest import PYTHON
from .helpers.hostile_server import HostileServer
from .helpers.stub_target import StubTargetBase

VIEWS = ("report.html", "summary.md", "junit.xml")


def _signal_soon(sig: int, delay: float = 0.3) -> None:
    """Send ``sig`` to this process from another thread (a second Ctrl-C, or CI's SIGTERM)."""
    threading.Timer(delay, os.kill, (os.getpid(), sig)).start()


class HostileTarget(StubTargetBase):
    """A target whose deploy is interrupted by a real SIGINT, and whose cleanup is slow on purpose.

    Args:
        second: the signal that arrives while diagnostics or teardown run (None: none).
        during: ``"diagnostics"`` (they hang, like probing a stalled endpoint) or ``"teardown"``
            (a child that ignores SIGTERM, stopped with a long grace).
    """

    name = "hostile"
    runs_pipelines = False
    deploys = True

    def __init__(self, second: int | None, during: str, deploy: Endpoint | None = None) -> None:
        self.second, self.during, self.endpoint = second, during, deploy
        self.released = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None
        self.teardowns = 0

    def provision(self) -> None:
        if self.during == "teardown":  # stubborn: only SIGKILL ends it
            self.child = procs.spawn(["sh", "-c", "trap '' TERM; sleep 120"])

    def deploy(self, run: object) -> Endpoint:
        if self.endpoint is not None:
            return self.endpoint
        os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C
        time.sleep(5)
        raise AssertionError("the SIGINT did not interrupt the run")

    def model_artifact(self) -> Path | None:
        return None

    def diagnostics(self, out_dir: Path) -> list[Path]:
        if self.during == "diagnostics":
            if self.second is not None:
                _signal_soon(self.second)
            self.released.wait(120)  # a probe of an endpoint that never answers
        return []

    def teardown(self) -> None:
        self.teardowns += 1
        if self.child is not None:
            if self.second is not None:
                _signal_soon(self.second)
            procs.stop(self.child, grace=60.0)


def _execute(tmp_path: Path, target: HostileTarget, **settings: object) -> tuple[int, dict]:
    cfg = load_config(cli={"load": False, "robustness": False, **settings}, env={})
    with procs.interrupts_as_keyboard_interrupt():  # as the CLI runs it: SIGTERM too becomes an interrupt
        run = ValidationRun(cfg, tmp_path)
        run.target = target  # type: ignore[assignment]
        outcome = run.execute()
    target.released.set()
    return outcome.exit_code, load_report(tmp_path)


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["second-sigint", "sigterm-after-sigint"])
def test_a_second_signal_during_diagnostics_cuts_them_short_and_the_report_is_finished(second: int, tmp_path: Path) -> None:
    target = HostileTarget(second, "diagnostics")
    code, report = _execute(tmp_path, target)
    assert code == 130 and (report["status"], report["exit_code"]) == ("interrupted", 130) and report["finished_at"]
    assert report["cleanup"] == {"diagnostics": "cut short by a second signal", "teardown": "hurried by a second signal"}
    assert target.teardowns == 1
    assert all((tmp_path / name).stat().st_size > 0 for name in VIEWS)


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["second-sigint", "sigterm-after-sigint"])
def test_a_second_signal_during_teardown_kills_without_grace_and_the_report_is_finished(second: int, tmp_path: Path) -> None:
    target = HostileTarget(second, "teardown")
    code, report = _execute(tmp_path, target, diagnostics_timeout="30s")
    assert code == 130 and report["status"] == "interrupted" and report["finished_at"]
    assert report["cleanup"]["teardown"] == "hurried by a second signal"
    assert target.child is not None and target.child.poll() is not None, "the stubborn child outlived the teardown"
    assert all((tmp_path / name).stat().st_size > 0 for name in VIEWS)


def test_diagnostics_have_their_own_time_bound(tmp_path: Path) -> None:
    target = HostileTarget(None, "diagnostics")
    code, report = _execute(tmp_path, target, diagnostics_timeout="1s")
    assert code == 130 and report["status"] == "interrupted"
    assert report["cleanup"]["diagnostics"] == "timed out after 1s"
    assert all((tmp_path / name).is_file() for name in VIEWS)


class BrokenTeardown(HostileTarget):
    def teardown(self) -> None:
        raise RuntimeError("namespace stuck in Terminating")


def test_a_failing_teardown_after_a_pass_is_an_error_and_the_report_is_finished(tmp_path: Path, served: Endpoint) -> None:
    code, report = _execute(tmp_path, BrokenTeardown(None, "none", deploy=served))
    assert code == 3 and report["status"] == "error" and "namespace stuck in Terminating" in report["error"]
    assert report["cleanup"]["teardown"] == "failed: RuntimeError: namespace stuck in Terminating"
    assert all((tmp_path / name).is_file() for name in VIEWS)


def _wait_for(what: str, probe: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def _status(report_dir: Path) -> str | None:
    try:
        return json.loads((report_dir / "report.json").read_text())["status"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.mark.e2e  # a whole CLI run in a subprocess, cancelled twice
def test_ci_cancel_sigint_then_sigterm_against_a_stalling_endpoint_leaves_a_finished_report(tmp_path: Path) -> None:
    """What a CI cancel does: SIGINT, then SIGTERM while the harness probes a stalled endpoint for diagnostics."""
    report_dir = tmp_path / "report"
    with HostileServer("stall", tmp_path, interval=1) as server:
        proc = subprocess.Popen(
            [PYTHON, "-m", "harness", "run", "--target", "endpoint", "--url", server.url, "--no-load", "--ready-timeout", "300s", "--report-dir", str(report_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
        )
        try:
            _wait_for("the readiness probe to reach the stalling server", lambda: len(server.requests()) >= 1)
            os.kill(proc.pid, signal.SIGINT)
            _wait_for("the run to record its verdict", lambda: _status(report_dir) == "interrupted")
            probes = len(server.requests())
            _wait_for("diagnostics to probe the stalling server", lambda: len(server.requests()) > probes, timeout=30)
            os.kill(proc.pid, signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, out.decode()
    report = load_report(report_dir)
    assert (report["status"], report["exit_code"]) == ("interrupted", 130) and report["finished_at"]
    assert report["cleanup"]["diagnostics"] == "cut short by a second signal"
    assert all((report_dir / name).stat().st_size > 0 for name in VIEWS)
    assert b"Traceback" not in out
