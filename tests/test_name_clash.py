"""A host repository with its own top-level ``harness/`` package (issue 23).

mlharness installs the top-level package ``harness``. Its children start isolated
(``PYTHONSAFEPATH=1``), so ``mlharness run`` from such a repository works; ``python -m pytest``
there (the working directory first on ``sys.path``) stops with one line naming the folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import procs
from harness.procs.origin import installed_package, shadow_problem

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A team's repository: its own ``harness`` package (with a ``pipelines`` module, as the issue's had)."""
    repo = tmp_path / "team"
    (repo / "harness").mkdir(parents=True)
    (repo / "harness" / "__init__.py").write_text("TEAM = True\n")
    (repo / "harness" / "pipelines.py").write_text("def helper():\n    return 1\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_team.py").write_text("def test_settings(harness_config):\n    assert harness_config.core.target == 'local'\n")
    return repo


def test_children_start_isolated(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    proc = procs.spawn([sys.executable, "-c", "import sys; print(sys.flags.safe_path, sys.path[0] != '')"], log_path=log)
    assert procs.wait_exit(proc, 30) == 0
    assert log.read_text().split() == ["True", "True"]


def test_a_child_in_the_host_repo_imports_the_installed_harness(host: Path) -> None:
    """What ``compile``, the pipeline runner, the server and locust do: ``python -m harness.…``."""
    log = host / "child.log"
    proc = procs.spawn([sys.executable, "-m", "harness.procs.origin"], log_path=log, cwd=host)
    assert procs.wait_exit(proc, 30) == 0, log.read_text()
    proc = procs.spawn([sys.executable, "-c", "import harness; print(harness.__file__)"], log_path=log, cwd=host)
    assert procs.wait_exit(proc, 30) == 0
    assert log.read_text().strip().endswith(str(installed_package() / "__init__.py")), log.read_text()


def test_a_pythonpath_that_shadows_the_package_is_one_line(host: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert shadow_problem({"PYTHONPATH": str(host)}) == (
        f"the folder {host / 'harness'} (on PYTHONPATH) shadows mlharness's own 'harness' package ({installed_package()}): "
        "take its parent directory off PYTHONPATH, or rename your folder (mlharness installs the top-level package name 'harness')"
    )
    assert shadow_problem({"PYTHONPATH": str(host / "tests")}) is None
    assert shadow_problem({"PYTHONPATH": str(installed_package().parent)}) is None
    assert shadow_problem({}) is None

    from harness.cli.main import main

    os.environ["PYTHONPATH"] = str(host)
    try:
        assert main(["compile"]) == 2
    finally:
        del os.environ["PYTHONPATH"]
    err = capsys.readouterr().err
    assert err.startswith("mlharness: error: the folder ") and err.count("\n") == 1


def host_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "HARNESS_", "PYTHONPATH"))}
    return env


def test_python_m_pytest_in_the_host_repo_stops_with_one_line(host: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=host,
                         capture_output=True, text=True, timeout=120, env=host_env())
    assert out.returncode == pytest.ExitCode.USAGE_ERROR, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines == [
        f"ERROR: the folder {host / 'harness'} (first on sys.path) shadows mlharness's own 'harness' package ({installed_package()}): "
        "run `pytest` instead of `python -m pytest` (which puts the working directory first), "
        "or rename your folder (mlharness installs the top-level package name 'harness')"
    ], out.stderr


@pytest.mark.e2e  # a whole pytest session in the host repo, in a subprocess
def test_the_pytest_script_in_the_host_repo_loads_the_plugin(host: Path) -> None:
    out = subprocess.run([str(VENV_BIN / "pytest"), "-q", "-p", "no:cacheprovider", "tests"], cwd=host,
                         capture_output=True, text=True, timeout=120, env=host_env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout


@pytest.mark.e2e  # a whole local run from the host repository
def test_mlharness_run_in_the_host_repo_works(host: Path) -> None:
    """The whole local run from the host repo: compile, kfp.local tasks and the server are children."""
    out = subprocess.run([str(VENV_BIN / "mlharness"), "run", "--no-load", "--no-robustness", "--report-dir", "reports/ci"],
                         cwd=host, capture_output=True, text=True, timeout=600, env=host_env())
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (host / "reports" / "ci" / "report.json").is_file()
