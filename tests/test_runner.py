"""The run as a whole: exit codes, the report, teardown on every path."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import InfrastructureError, WaitTimeout
from harness.reports.writer import load_report
from harness.results import CheckResult, CheckStatus, Endpoint
from harness.run.runner import ValidationRun

from .conftest import PYTHON, REPO
from .helpers.stub_target import StubTargetBase


class StubTarget(StubTargetBase):
    """A target whose deploy behaves as told; it runs no pipeline."""

    name = "stub"
    runs_pipelines = False
    deploys = True

    def __init__(self, deploy: object) -> None:
        self._deploy = deploy
        self.torn_down = 0

    def provision(self) -> None:
        pass

    def run_pipeline(self, package: Path) -> None:
        raise AssertionError("not called")

    def deploy(self, run: object) -> Endpoint:
        if isinstance(self._deploy, Exception):
            raise self._deploy
        assert isinstance(self._deploy, Endpoint)
        return self._deploy

    def model_artifact(self) -> Path | None:
        return None

    def diagnostics(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        note = out_dir / "stub.txt"
        note.write_text("diagnostics")
        return [note]

    def teardown(self) -> None:
        self.torn_down += 1


def _run(tmp_path: Path, target: StubTarget, **cfg: object) -> tuple[int, dict]:
    config = load_config(cli={"load": False, "robustness": False, **cfg}, env={})
    run = ValidationRun(config, tmp_path)
    run.target = target  # type: ignore[assignment]
    outcome = run.execute()
    return outcome.exit_code, load_report(tmp_path)


def test_never_ready_fails_deploy_ready_with_exit_1(tmp_path: Path) -> None:
    target = StubTarget(WaitTimeout("the model to get ready", 2.0, "503"))
    code, report = _run(tmp_path, target)
    checks = {c["name"]: c for c in report["checks"]}
    assert code == 1 and report["status"] == "failed"
    assert checks["deploy.ready"]["status"] == "failed" and "timed out after 2s" in checks["deploy.ready"]["message"]
    assert checks["predict.golden"]["status"] == "skipped"
    assert target.torn_down == 1
    assert report["artifacts"]["diagnostics"] == [str(tmp_path / "diagnostics" / "stub.txt")]


def test_passing_run_against_a_served_model(tmp_path: Path, served: Endpoint) -> None:
    code, report = _run(tmp_path, StubTarget(served))
    assert code == 0, report["checks"]
    assert report["status"] == "passed" and report["exit_code"] == 0 and report["finished_at"]
    assert {c["name"] for c in report["checks"]} >= {"deploy.ready", "predict.golden", "predict.quality", "predict.protocols"}
    assert report["phases"]["verify"] > 0


def test_infrastructure_error_exits_3_and_still_reports(tmp_path: Path) -> None:
    target = StubTarget(InfrastructureError("no cluster"))
    target.provision = lambda: (_ for _ in ()).throw(InfrastructureError("kind is not installed"))  # type: ignore[method-assign]
    code, report = _run(tmp_path, target)
    assert code == 3 and report["status"] == "error" and "kind is not installed" in report["error"]
    assert target.torn_down == 1


def test_report_is_valid_json_while_running(tmp_path: Path) -> None:
    config = load_config(cli={"load": False}, env={})
    run = ValidationRun(config, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["status"] == "running" and data["schema_version"] == 3 and data["finished_at"] is None
    run.target.teardown()


@pytest.mark.e2e  # a whole run
def test_cli_run_local_end_to_end(tmp_path: Path) -> None:
    proc = subprocess.run(
        [PYTHON, "-m", "harness", "run", "--no-load", "--no-robustness", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = load_report(tmp_path)
    assert report["status"] == "passed"
    names = [c["name"] for c in report["checks"]]
    assert names[:10] == ["pipeline.compile", "pipeline.lint", "pipeline.run", "deploy.compat", "deploy.ready", "deploy.candidate",
                          "predict.golden", "predict.quality", "predict.parity", "predict.protocols"]
    assert next(c for c in report["checks"] if c["name"] == "deploy.candidate")["status"] == "skipped"  # no candidate: mlharness diff's
    compat = next(c for c in report["checks"] if c["name"] == "deploy.compat")
    assert compat["status"] == "passed", compat  # trained and served by this interpreter's scikit-learn
    assert "mlharness PASSED on local" in proc.stdout


@pytest.mark.e2e  # a whole run
def test_interrupted_run_leaves_a_valid_report_and_no_processes(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [PYTHON, "-m", "harness", "run", "--no-load", "--no-robustness", "--report-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (tmp_path / "server.log").exists():
        time.sleep(0.1)
    assert (tmp_path / "server.log").exists(), "the run never reached deploy"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out.decode()
    report = load_report(tmp_path)
    assert report["status"] == "interrupted" and report["exit_code"] == 130 and report["finished_at"]
    time.sleep(0.5)
    for what, pattern in {"model server": "harness.serving.runtime", "pipeline runner": "harness.pipelines.local_exec"}.items():
        left = subprocess.run(["pgrep", "-f", f"{pattern}.*{tmp_path}"], capture_output=True, text=True)
        assert left.stdout.strip() == "", f"{what} still running: {left.stdout}"


def test_fast_exit_flushes_output_and_keeps_the_exit_code() -> None:
    code = "import sys\nfrom harness.procs import fast_exit\nprint('out', end='')\nprint('err', end='', file=sys.stderr)\nfast_exit(3)"
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out", "err")


def test_the_cli_entry_point_keeps_main_exit_code(tmp_path: Path) -> None:
    proc = subprocess.run([PYTHON, "-m", "harness", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "a.json" in proc.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run([PYTHON, "-m", "harness", "run", "--users", "0"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "users" in proc.stderr and "positive" in proc.stderr


def test_harness_never_imports_pytest_or_locust() -> None:
    code = (
        "import sys, harness.cli.main, harness.run.runner, harness.checks.predict, harness.targets.local, harness.cli.run;"
        "bad = [m for m in ('pytest', '_pytest', 'locust', 'gevent') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0, f"imported: {proc.stdout} {proc.stderr}"


def test_no_module_in_harness_imports_pytest() -> None:
    import ast

    offenders = []
    for path in (REPO / "harness").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("pytest", "_pytest") for n in names):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_cli_main_reaps_only_its_own_children(served: Endpoint, tmp_path: Path) -> None:
    from harness.cli.main import main

    code = main(["run", "--target", "endpoint", "--url", served.base_url, "--no-load", "--no-robustness", "--report-dir", str(tmp_path)])
    assert code == 0
    from harness.inference.client import InferenceClient

    with InferenceClient(served) as client:
        assert client.ready(), "an in-process main() stopped a server it did not start"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the lost interrupt
def test_an_interrupt_lost_in_a_gc_callback_still_stops_the_run(tmp_path: Path) -> None:
    """Python drops a KeyboardInterrupt raised inside a gc callback (hypothesis runs gc.collect()
    with one before every test case); the run must still stop at its next check."""
    import gc

    from harness import procs

    def raise_in_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # type: ignore[operator]

    with procs.interrupts_as_keyboard_interrupt():
        gc.callbacks.append(raise_in_gc)
        try:
            gc.collect()  # the KeyboardInterrupt dies here ("Exception ignored in ...")
        finally:
            gc.callbacks.remove(raise_in_gc)
        run = ValidationRun(load_config(cli={"load": False}, env={}), tmp_path)
        with pytest.raises(KeyboardInterrupt):
            run.add(CheckResult("predict.golden", CheckStatus.PASSED, "ok"))
        run.target.teardown()
    procs.check_interrupted()  # the context is over: nothing left pending


RECORD_WRITERS = {"harness/run/runner.py", "harness/record/__init__.py", "harness/record/decode.py",
                  "harness/reports/writer.py"}  # the writer ends the record (RunRecord.end) when the run tells it to
MUTATORS = {"add_check", "add_phase", "take", "end", "order_checks", "append", "update", "sort", "extend", "clear", "pop", "setdefault"}


def _chain(node: object) -> list[str]:
    """``run.record.artifacts`` as ["run", "record", "artifacts"] (subscripts and calls see through)."""
    import ast

    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript | ast.Call):
            node = node.value if isinstance(node, ast.Subscript) else node.func
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def test_only_the_run_and_the_record_write_the_record() -> None:
    """Steps return what they produce and the end's parts what they found: no other module
    assigns to a record's fields or calls what changes them (``x.record.lint = ...``,
    ``run.record.artifacts.update(...)``, ``record.add_check(...)``)."""
    import ast

    writes = []
    for path in sorted([*(REPO / "harness").rglob("*.py"), *(REPO / "fixtures").rglob("*.py")]):
        name = str(path.relative_to(REPO))
        if name in RECORD_WRITERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[object] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                targets = [node.func.value] if "record" in _chain(node.func.value) else []
            for target in targets:
                chain = _chain(target)
                if "record" in chain[:-1] or (isinstance(node, ast.Call) and chain and chain[-1] == "record"):
                    writes.append(f"{name}:{getattr(node, 'lineno', '?')} {'.'.join(chain)}")
    assert writes == []


def test_nothing_probes_targets_or_generators_with_getattr() -> None:
    """Every hook a target or a load generator offers is in its Protocol (harness.targets.base)."""
    import ast

    probes = []
    for path in sorted([*(REPO / "harness").rglob("*.py"), *(REPO / "fixtures").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr") and node.args:
                if any(word in part for part in _chain(node.args[0]) for word in ("target", "generator")):
                    probes.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert probes == []
