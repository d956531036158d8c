from pathlib import Path

import pytest
import yaml

from harness.errors import ConfigError, WaitTimeout
from harness.pipelines.compile import compile_pipeline
from harness.pipelines.local_run import local_spec, run_local, unsatisfied
from harness.pipelines.warm_tasks import strip_install
from harness.results import TaskState


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(None, tmp_path_factory.mktemp("pkg")).path


def test_unsatisfied_reports_missing_and_wrong_versions() -> None:
    missing = unsatisfied(["pytest", "no-such-package-xyz==1.0", "pytest==0.0.1", 'pytest==0.0.1; python_version < "3"'])
    assert missing == ["no-such-package-xyz==1.0 (not installed)", f"pytest==0.0.1 (installed: {__import__('pytest').__version__})"]


def test_strip_install_keeps_the_executor_and_only_drops_the_wrapper(package: Path) -> None:
    spec = yaml.safe_load(package.read_text())
    command = spec["deploymentSpec"]["executors"]["exec-train"]["container"]["command"]
    stripped = strip_install(command)
    assert "pip install" in command[2] and command[:2] == ["sh", "-c"]
    assert stripped == command[3:] and stripped[0] == "sh" and "kfp.dsl.executor_main" in stripped[2]
    assert strip_install(["python", "x.py"]) == ["python", "x.py"]


def test_local_spec_needs_nothing_in_this_environment(package: Path) -> None:
    stripped, missing = local_spec(yaml.safe_load(package.read_text()))
    assert missing == []
    commands = [e["container"]["command"] for e in stripped["deploymentSpec"]["executors"].values()]
    assert all("pip install" not in " ".join(c) for c in commands)


def test_an_unsatisfied_requirement_is_a_config_error_never_an_install(package: Path, tmp_path: Path) -> None:
    text = package.read_text().replace("'pandas==2.3.3'", "'pandas==0.0.1'")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"pandas==0.0.1 \(installed"):
        run_local(bad, tmp_path / "run")


def test_real_local_run(package: Path, tmp_path: Path, no_leaked_children: None) -> None:
    run = run_local(package, tmp_path, arguments={"min_accuracy": 0.9}, timeout=300)
    assert run.succeeded, run.message
    assert {t.name: t.state for t in run.tasks} == dict.fromkeys(["load", "print-head", "train", "evaluate"], TaskState.SUCCEEDED)
    assert run.model_uri and (Path(run.model_uri) / "model.joblib").is_file()
    assert run.metrics["accuracy"] >= 0.9
    assert all(t.duration_s and t.duration_s > 0 for t in run.tasks), [t.duration_s for t in run.tasks]
    assert "Pipeline 'iris' finished" in (tmp_path / "pipeline.log").read_text().replace("\x1b[95m", "").replace("\x1b[0m", "")


def test_failing_task_fails_the_run(package: Path, tmp_path: Path) -> None:
    run = run_local(package, tmp_path, arguments={"min_accuracy": 1.01}, timeout=300)
    assert not run.succeeded
    states = {t.name: t.state for t in run.tasks}
    assert states["evaluate"] is TaskState.FAILED and states["train"] is TaskState.SUCCEEDED


def test_timeout_kills_the_run(package: Path, tmp_path: Path, no_leaked_children: None) -> None:
    with pytest.raises(WaitTimeout, match="local pipeline run"):
        run_local(package, tmp_path, timeout=0.5)
