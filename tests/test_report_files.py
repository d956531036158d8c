"""Report files in a hostile world: concurrent runs, a shared directory, a full disk."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import ConfigError
from harness.record import RunRecord
from harness.reports import render, writer
from harness.reports.writer import ReportWriteError, ReportWriter, create_report_dir, load_report
from harness.results import CheckResult, CheckStatus, Endpoint, RunStatus
from harness.run.runner import ValidationRun

from .conftest import PYTHON, REPO
from .helpers.hostile_server import HostileServer
from .helpers.stub_target import StubTargetBase

STARTS = 20
# one process of a concurrent start: wait until all are ready, take a directory, write a report
START_ONE = """
import os, sys, time
from harness.results import CheckResult, CheckStatus, RunStatus
from harness.record import RunRecord
from harness.reports.writer import ReportWriter, create_report_dir
me, starts = sys.argv[1], int(sys.argv[2])
open(os.path.join("ready", me), "w").close()
deadline = time.monotonic() + 120
while len(os.listdir("ready")) < starts and time.monotonic() < deadline:
    time.sleep(0.001)
report = ReportWriter(create_report_dir(None, "reports"), RunRecord("endpoint", {"who": me}))
for i in range(10):
    report.record.add_check(CheckResult(f"check.{i}", CheckStatus.PASSED, me))
    report.flush()
report.end(RunStatus.PASSED, 0)
print(report.dir)
"""


@pytest.mark.load  # 20 processes at once: a stress of the machine, ~20 s on 2 cores
def test_concurrent_starts_in_one_directory_get_distinct_complete_reports(tmp_path: Path) -> None:
    """20 processes start at once in one working directory (the report-dir and writer layer)."""
    (tmp_path / "ready").mkdir()
    procs = [
        subprocess.Popen([PYTHON, "-c", START_ONE, f"run-{i}", str(STARTS)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(STARTS)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * STARTS, [err for _, err in outputs if err]
    dirs = [Path(tmp_path, out.strip()) for out, _ in outputs]
    assert len(set(dirs)) == STARTS, f"runs shared a directory: {sorted(map(str, dirs))}"
    for i, run_dir in enumerate(dirs):
        report = load_report(run_dir)
        assert report["status"] == "passed" and report["config"]["who"] == f"run-{i}"
        assert [c["message"] for c in report["checks"]] == [f"run-{i}"] * 10
    leftovers = [p.name for p in (tmp_path / "reports").rglob("*.tmp")]
    assert leftovers == []
    stamps = {d.name.split("-")[0] + d.name.split("-")[1] for d in dirs}
    assert len(stamps) <= 2, "the starts were not simultaneous enough to test anything"


def test_a_directory_in_use_by_a_run_is_refused(tmp_path: Path) -> None:
    first = ReportWriter(tmp_path, RunRecord("local"))
    with pytest.raises(ConfigError, match="in use by another mlharness run"):
        ReportWriter(tmp_path, RunRecord("local"))
    first.release()
    ReportWriter(tmp_path, RunRecord("local")).release()  # free again once the first run let go


def test_default_directories_are_taken_not_guessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is claimed by mkdir: an existing directory of that second is never reused."""
    monkeypatch.chdir(tmp_path)
    first, second = create_report_dir(None), create_report_dir(None)
    assert first != second and first.is_dir() and second.is_dir()
    assert second.name.startswith(first.name)


class FillsUp:
    """``atomic_write_text`` that fails with ENOSPC once ``armed`` (the disk filled up mid-run)."""

    def __init__(self) -> None:
        self.armed = False
        self.real = writer.atomic_write_text

    def __call__(self, path: Path, text: str) -> Path:
        if self.armed:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return self.real(path, text)


class FillingTarget(StubTargetBase):
    """Deploys ``endpoint``; the disk fills up as it does."""

    name = "stub"
    runs_pipelines = False
    deploys = True

    def __init__(self, endpoint: Endpoint, disk: FillsUp) -> None:
        self.endpoint, self.disk = endpoint, disk

    def provision(self) -> None:
        pass

    def deploy(self, run: object) -> Endpoint:
        self.disk.armed = True
        return self.endpoint

    def model_artifact(self) -> Path | None:
        return None

    def diagnostics(self, out_dir: Path) -> list[Path]:
        return []

    def teardown(self) -> None:
        pass


def test_a_full_disk_mid_run_is_exit_3_and_a_finished_report(tmp_path: Path, served: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC simulated in-process: every report write fails from deploy on."""
    disk = FillsUp()
    monkeypatch.setattr(writer, "atomic_write_text", disk)
    monkeypatch.setattr(render, "atomic_write_text", disk)  # imported above: render's own name, not a patched one
    run = ValidationRun(load_config(cli={"load": False, "robustness": False}, env={}), tmp_path)
    run.target = FillingTarget(served, disk)  # type: ignore[assignment]
    outcome = run.execute()
    assert outcome.exit_code == 3
    report = json.loads((tmp_path / "report.json").read_text())  # valid JSON, rewritten in place
    assert report["status"] == "error" and report["exit_code"] == 3 and report["finished_at"]
    assert "No space left on device" in report["error"] and str(tmp_path / "report.json") in report["error"]
    assert [p.name for p in tmp_path.iterdir() if p.is_file() and p.stat().st_size == 0 and p.name != ".mlharness.lock"] == []
    assert list(tmp_path.glob("*.tmp")) == []


def test_the_final_report_is_cut_down_rather_than_left_running(tmp_path: Path) -> None:
    report = ReportWriter(tmp_path, RunRecord("local"))
    for i in range(5):
        report.record.add_check(CheckResult(f"check.{i}", CheckStatus.FAILED, "x" * 200))
    report.record.cleanup = {"padding": "y" * 20_000}  # the final write will not fit in place
    report.flush()
    real = writer.atomic_write_text
    try:
        writer.atomic_write_text = _enospc  # type: ignore[assignment]
        report.record.artifacts["padding"] = "z" * 50_000
        report.end(RunStatus.FAILED, 1)
    finally:
        writer.atomic_write_text = real
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert (on_disk["status"], on_disk["exit_code"]) == ("failed", 1)
    assert "disk was full" in on_disk["error"] and len(on_disk["checks"]) == 5


def _enospc(path: Path, text: str) -> Path:
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


def test_a_failed_write_leaves_the_previous_report_and_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = ReportWriter(tmp_path, RunRecord("local"))
    before = (tmp_path / "report.json").read_text()

    real_fdopen = os.fdopen

    class HalfWritten:
        """The temporary file gets the first bytes, then the disk is full."""

        def __init__(self, fd: int, *args: object, **kwargs: object) -> None:
            self.file = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]

        def __enter__(self) -> HalfWritten:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, text: str) -> int:
            self.file.write(text[:100])
            self.file.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", HalfWritten)
    with pytest.raises(ReportWriteError, match="No space left on device"):
        report.record.add_check(CheckResult("check.a", CheckStatus.PASSED, "ok"))
        report.flush()
    monkeypatch.undo()
    assert (tmp_path / "report.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


INSPECT = """
import json, pathlib, sys
d = pathlib.Path(sys.argv[1])
files = {p.name: p.stat().st_size for p in d.iterdir() if p.is_file()}
report = json.loads((d / "report.json").read_text())
print("INSPECT " + json.dumps({"files": files, "status": report["status"], "exit_code": report["exit_code"], "error": report["error"]}))
"""


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a small tmpfs")
def test_a_real_full_disk_ends_the_run_with_exit_3_and_one_error_line(tmp_path: Path) -> None:
    """A 16 KiB tmpfs in a private mount namespace: report.json's rewrites run out of room."""
    disk = tmp_path / "disk"
    disk.mkdir()
    report_dir = disk / "report"
    inspect = tmp_path / "inspect.py"
    inspect.write_text(INSPECT)
    with HostileServer("markup", tmp_path) as server:
        run = f"{PYTHON} -m harness run --target endpoint --url {server.url} --no-load --no-robustness --ready-timeout 10s --report-dir {report_dir}"
        script = f"mount -t tmpfs -o size=16k tmpfs {disk} || exit 99; {run}; code=$?; {PYTHON} {inspect} {report_dir}; exit $code"
        proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=180, cwd=REPO)
    if proc.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"cannot write {report_dir / 'report.json'}: No space left on device" in errors[0], out
    seen = json.loads(next(line for line in out.splitlines() if line.startswith("INSPECT ")).removeprefix("INSPECT "))
    assert (seen["status"], seen["exit_code"]) == ("error", 3) and "No space left on device" in seen["error"]
    assert [name for name, size in seen["files"].items() if size == 0 and name != ".mlharness.lock"] == []
    assert [name for name in seen["files"] if name.endswith(".tmp")] == []
