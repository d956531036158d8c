import copy
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from harness.pipelines.compile import compile_pipeline
from harness.pipelines.lint import Severity, has_errors, lint_source, lint_spec

from .conftest import DATA


@pytest.fixture(scope="module")
def iris_spec(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return compile_pipeline(None, tmp_path_factory.mktemp("c")).spec


def rules(findings: list) -> dict[str, Severity]:
    return {f.rule: f.severity for f in findings}


def test_seed_source_findings_say_what_to_change() -> None:
    findings = lint_source((DATA / "seed_kfp18.py").read_text(), "seed.py")
    found = rules(findings)
    assert found["kfp-v2-namespace"] is Severity.ERROR
    assert found["v2-compatible-mode"] is Severity.ERROR
    assert found["deprecated-package"] is Severity.ERROR
    assert found["iris-column-order"] is Severity.ERROR
    assert found["unpinned-package"] is Severity.WARNING
    messages = " ".join(f.message for f in findings)
    assert "scikit-learn" in messages and "kfp.dsl" in messages and "feature_names" in messages


def test_clean_source_has_no_findings() -> None:
    source = (Path(__file__).parent.parent / "harness" / "pipelines" / "iris.py").read_text()
    assert lint_source(source) == []


def test_builtin_pipeline_lints_clean(iris_spec: dict) -> None:
    findings = lint_spec(iris_spec, metadata.version("kfp"))
    assert not has_errors(findings), findings
    assert [f for f in findings if f.severity is Severity.WARNING] == []


def _with_container(spec: dict, **changes: object) -> dict:
    spec = copy.deepcopy(spec)
    executor = next(iter(spec["deploymentSpec"]["executors"].values()))
    executor["container"].update(changes)
    return spec


@pytest.mark.parametrize(
    ("image", "rule", "severity"),
    [
        ("python", "unpinned-image", Severity.ERROR),
        ("python:latest", "unpinned-image", Severity.ERROR),
        ("python:3.11", "floating-image-tag", Severity.WARNING),
        ("registry.local:5000/python", "unpinned-image", Severity.ERROR),
    ],
)
def test_image_pinning(iris_spec: dict, image: str, rule: str, severity: Severity) -> None:
    assert rules(lint_spec(_with_container(iris_spec, image=image)))[rule] is severity


def test_digest_pinned_image_is_fine(iris_spec: dict) -> None:
    spec = _with_container(iris_spec, image="python@sha256:" + "a" * 64)
    assert "unpinned-image" not in rules(lint_spec(spec))


def test_deprecated_and_unpinned_packages_in_spec(iris_spec: dict) -> None:
    spec = copy.deepcopy(iris_spec)
    executor = next(iter(spec["deploymentSpec"]["executors"].values()))
    executor["container"]["command"] = [c.replace("'pandas==2.3.3'", "'sklearn' 'pandas'") for c in executor["container"]["command"]]
    found = rules(lint_spec(spec))
    assert found["deprecated-package"] is Severity.ERROR
    assert found["unpinned-package"] is Severity.WARNING


def test_kfp_version_mismatch_warns(iris_spec: dict) -> None:
    assert rules(lint_spec(iris_spec, "0.0.1"))["kfp-version-mismatch"] is Severity.WARNING


def test_unconsumed_outputs_warn(iris_spec: dict) -> None:
    spec = copy.deepcopy(iris_spec)
    tasks = spec["root"]["dag"]["tasks"]
    del tasks["evaluate"]  # nobody reads train's model any more
    found = lint_spec(spec)
    assert any(f.rule == "unconsumed-outputs" and "train" in f.message for f in found)


def test_yaml_of_kfp_v1_is_rejected_with_a_finding(tmp_path: Path) -> None:
    from harness.pipelines.compile import PipelineCompileError

    v1 = tmp_path / "old.yaml"
    v1.write_text(yaml.safe_dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}))
    with pytest.raises(PipelineCompileError) as info:
        compile_pipeline(str(v1), tmp_path / "out")
    assert info.value.findings[0].rule == "kfp-v1-package"
