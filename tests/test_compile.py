import subprocess
from pathlib import Path

import pytest
import yaml

from harness.errors import ConfigError
from harness.pipelines.compile import PipelineCompileError, compile_pipeline, split_source

from .conftest import DATA, PYTHON

GOOD = '''
from kfp import dsl

@dsl.component(base_image="python:3.11.10-slim-bookworm")
def hello(name: str) -> str:
    return "hello " + name

@dsl.pipeline(name="hello")
def hello_pipeline(name: str = "world"):
    hello(name=name)
'''


def test_builtin_compiles_to_a_v2_package(tmp_path: Path) -> None:
    compiled = compile_pipeline(None, tmp_path)
    spec = yaml.safe_load(compiled.path.read_text())
    assert compiled.name == "iris"
    assert set(spec["root"]["dag"]["tasks"]) == {"load", "print-head", "train", "evaluate"}
    assert spec["sdkVersion"].startswith("kfp-2.")


def test_user_file_with_and_without_function_name(tmp_path: Path) -> None:
    src = tmp_path / "p.py"
    src.write_text(GOOD)
    assert compile_pipeline(f"{src}:hello_pipeline", tmp_path / "a").name == "hello"
    assert compile_pipeline(str(src), tmp_path / "b").name == "hello"
    assert not list(tmp_path.glob("*.yaml")), "importing must not write beside the user's file"


def test_compiled_yaml_is_accepted(tmp_path: Path) -> None:
    first = compile_pipeline(None, tmp_path / "a")
    again = compile_pipeline(str(first.path), tmp_path / "b")
    assert again.name == "iris" and again.path.read_text() == first.path.read_text()


def test_missing_file_and_function_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        split_source(str(tmp_path / "nope.py"))
    src = tmp_path / "p.py"
    src.write_text(GOOD)
    with pytest.raises(ConfigError, match="no function 'other'"):
        compile_pipeline(f"{src}:other", tmp_path)


def test_seed_kfp18_code_fails_with_findings(tmp_path: Path) -> None:
    with pytest.raises(PipelineCompileError) as info:
        compile_pipeline(f"{DATA / 'seed_kfp18.py'}:pipeline", tmp_path)
    assert "PipelineExecutionMode" in str(info.value)
    assert {f.rule for f in info.value.findings} >= {"v2-compatible-mode", "deprecated-package"}


def test_cli_compile_of_seed_exits_1_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [PYTHON, "-m", "harness", "compile", f"{DATA / 'seed_kfp18.py'}:pipeline", "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    assert "scikit-learn" in out and "V2_COMPATIBLE" in out


def test_cli_compile_builtin_passes(tmp_path: Path) -> None:
    proc = subprocess.run([PYTHON, "-m", "harness", "compile", "-o", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "pipeline.yaml").is_file()
