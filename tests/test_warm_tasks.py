"""kfp.local tasks as forks of a warm interpreter: same command, same outcome, less start-up."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from harness.pipelines import warm_tasks
from harness.pipelines.compile import compile_pipeline, source_imports
from harness.pipelines.local_run import LocalPipelineRunner, local_spec, run_local
from harness.results import TaskState

SOURCE = '''
import os

def ok():
    print("runtime", os.environ.get("_KFP_RUNTIME"), os.environ.get("MY_VAR"))

def boom():
    raise ValueError("broken on purpose")

def hard():
    os._exit(7)

def leave():
    raise SystemExit(4)
'''


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(None, tmp_path_factory.mktemp("pkg")).path


def _args(tmp_path: Path, fn: str) -> list[str]:
    executor_input = {"inputs": {}, "outputs": {"outputFile": str(tmp_path / f"{fn}.json")}}
    return ["--executor_input", json.dumps(executor_input), "--function_to_execute", fn]


def test_every_iris_task_command_is_recognised_as_kfp_local_builds_it(package: Path) -> None:
    from kfp.local.subprocess_task_handler import replace_python_executable

    stripped, _ = local_spec(yaml.safe_load(package.read_text()))
    executors = stripped["deploymentSpec"]["executors"]
    for name, executor in executors.items():
        container = executor["container"]
        full = replace_python_executable([*container["command"], *container["args"]], sys.executable)
        parsed = warm_tasks.parse_task_command(full)
        assert parsed is not None, name
        source, args = parsed
        function = args[args.index("--function_to_execute") + 1]
        assert f"def {function}(" in source and name == f"exec-{function.replace('_', '-')}"
    assert len(warm_tasks.component_sources(stripped)) == len(executors) == 4


@pytest.mark.parametrize(
    "command",
    [
        ["python", "x.py"],
        ["sh", "-c", "echo hi", "arg"],
        ["sh", "-ec", 'program_path=$(mktemp -d)\nprintf "%s" "$0" > "$program_path/ephemeral_component.py"\nrm -rf /', "src"],
        ["python3", "-m", "kfp.dsl.executor_main", "--executor_input", "{}"],
    ],
)
def test_other_commands_are_left_to_kfp_local(command: list[str]) -> None:
    assert warm_tasks.parse_task_command(command) is None


def test_imported_modules_reads_every_absolute_import() -> None:
    source = "import os, json as j\nfrom sklearn.svm import SVC\nfrom . import x\n\ndef f():\n    import pandas as pd\n    from kfp import dsl\n"
    assert warm_tasks.imported_modules(source) == ["os", "json", "sklearn.svm", "pandas", "kfp"]
    assert warm_tasks.imported_modules("def (") == []
    assert warm_tasks.imported_modules(source, in_functions_only=True) == ["pandas", "kfp"]


def test_source_imports_reads_the_pipeline_without_compiling_it(tmp_path: Path, package: Path) -> None:
    builtin = source_imports(None)
    assert {"pandas", "sklearn.svm", "sklearn.model_selection", "joblib"} <= set(builtin)
    assert "harness.pipelines.versions" not in builtin  # a module-level import of the pipeline file, not a task's
    assert {"pandas", "sklearn.svm"} <= set(source_imports(str(package)))  # a compiled package
    assert source_imports(str(tmp_path / "missing.py")) == []


def test_preload_reports_what_it_could_not_import() -> None:
    failed = warm_tasks.preload(["json", "no_such_module_xyz", "harness.no_such_submodule"])
    assert set(failed) == {"no_such_module_xyz", "harness.no_such_submodule"}
    assert failed["no_such_module_xyz"] == "not installed"


@pytest.mark.parametrize(("function", "code", "expected"), [("ok", 0, "runtime true v"), ("boom", 1, "ValueError: broken on purpose"), ("hard", 7, None), ("leave", 4, None)])
def test_a_forked_task_runs_kfps_executor_and_keeps_its_exit_code(tmp_path: Path, function: str, code: int, expected: str | None) -> None:
    lines: list[str] = []
    before = set(Path(tempfile.gettempdir()).glob("kfp-task-*"))  # other runs on this machine may leave theirs
    assert warm_tasks.run_forked(SOURCE, _args(tmp_path, function), {"MY_VAR": "v"}, echo=lines.append) == code
    text = "".join(lines)
    assert f"Loading KFP component \"{function}\"" in text  # kfp's own executor_main ran it
    if expected:
        assert expected in text
    assert "MY_VAR" not in os.environ and os.environ.get("_KFP_RUNTIME") != "true"  # the fork's, not ours
    assert set(Path(tempfile.gettempdir()).glob("kfp-task-*")) <= before  # the component file is cleaned up


def test_unrecognised_commands_still_go_to_kfp_locals_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    from kfp.local import subprocess_task_handler

    monkeypatch.setattr(subprocess_task_handler, "run_local_subprocess", subprocess_task_handler.run_local_subprocess)
    warm_tasks.install()
    assert subprocess_task_handler.run_local_subprocess(["sh", "-c", "exit 5"]) == 5


@pytest.mark.e2e  # whole kfp.local runs
def test_forked_and_fresh_process_tasks_give_the_same_run(package: Path, tmp_path: Path, no_leaked_children: None) -> None:
    runs = {iso: run_local(package, tmp_path / iso, arguments={"min_accuracy": 0.9}, timeout=300, isolation=iso) for iso in ("check", "subprocess")}
    for iso, run in runs.items():
        assert run.succeeded, (iso, run.message)
        assert {t.name: t.state for t in run.tasks} == dict.fromkeys(["load", "print-head", "train", "evaluate"], TaskState.SUCCEEDED)
    assert runs["check"].metrics == runs["subprocess"].metrics
    log = (tmp_path / "check" / "pipeline.log").read_text()
    assert "tasks run as forks of this process" in log
    assert "tasks run as forks" not in (tmp_path / "subprocess" / "pipeline.log").read_text()


@pytest.mark.e2e  # whole kfp.local runs
def test_a_prestarted_runner_waits_for_its_pipeline_and_runs_it(package: Path, tmp_path: Path, no_leaked_children: None) -> None:
    runner = LocalPipelineRunner(tmp_path)
    runner.prestart(preload=["pandas", "sklearn.svm", "no_such_module_xyz"])
    assert runner.proc is not None and runner.proc.poll() is None
    run = runner.run(package, {"min_accuracy": 0.9}, timeout=300)
    assert run.succeeded, run.message
    assert runner.proc is None  # stopped itself


def test_a_prestarted_runner_that_never_gets_a_pipeline_is_stopped(tmp_path: Path, no_leaked_children: None) -> None:
    runner = LocalPipelineRunner(tmp_path)
    runner.prestart()
    proc = runner.proc
    assert proc is not None and proc.poll() is None
    runner.stop()
    assert proc.poll() is not None and runner.proc is None
    runner.stop()  # twice is fine
