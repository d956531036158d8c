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


EXITING = {
    "sys.exit(0)": ("import sys\nsys.exit(0)\n", "called sys.exit(0)"),
    "os._exit(0)": ("import os\nos._exit(0)\n", "called os._exit(0)"),
    "from os import _exit": ("from os import _exit\n_exit(3)\n", "called os._exit(3)"),
    "module-level argparse": (
        "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--epochs', required=True)\nargs = parser.parse_args()\n",
        "the following arguments are required: --epochs",
    ),
    "kills itself": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "was killed by SIGKILL"),
    "reads stdin": ("name = input()\n", "EOFError"),
    "exit in the pipeline body": (GOOD.replace("    hello(name=name)", "    import sys\n    sys.exit(0)"), "called sys.exit(0)"),
}


@pytest.mark.parametrize("case", list(EXITING))
def test_a_pipeline_file_that_exits_is_a_failed_compile_that_says_so(case: str, tmp_path: Path, no_leaked_children: None) -> None:
    source, words = EXITING[case]
    src = tmp_path / "x.py"
    src.write_text(source)
    with pytest.raises(PipelineCompileError) as info:
        compile_pipeline(str(src), tmp_path / "out")
    assert words in str(info.value)
    assert not (tmp_path / "out" / "pipeline.yaml").exists()


def test_argv_parsing_at_import_sees_only_the_file_not_the_harness_flags(tmp_path: Path) -> None:
    """A notebook exported as a script parses its own flags at import; it must not get the harness's."""
    src = tmp_path / "p.py"
    src.write_text("import argparse, sys\nassert sys.argv[1:] == [], sys.argv\nargparse.ArgumentParser().parse_args()\n" + GOOD)
    assert compile_pipeline(str(src), tmp_path / "out").name == "hello"


def test_module_level_code_that_hangs_is_timed_out(tmp_path: Path, no_leaked_children: None) -> None:
    src = tmp_path / "slow.py"
    src.write_text("import time\ntime.sleep(600)\n")
    with pytest.raises(PipelineCompileError, match="took longer than 1s"):
        compile_pipeline(str(src), tmp_path / "out", timeout=1.0)


def test_a_stale_package_never_passes_for_a_failed_compile(tmp_path: Path) -> None:
    out = tmp_path / "out"
    compile_pipeline(None, out)
    src = tmp_path / "x.py"
    src.write_text("import os\nos._exit(0)\n")
    with pytest.raises(PipelineCompileError):
        compile_pipeline(str(src), out)
    assert not (out / "pipeline.yaml").exists()


def test_cli_compile_of_an_exiting_file_says_what_happened(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text("import sys\nsys.exit(0)\n")
    proc = subprocess.run([PYTHON, "-m", "harness", "compile", str(src), "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1, out
    assert "does not compile" in out and "called sys.exit(0)" in out and "Traceback" not in out


@pytest.mark.e2e  # a whole run
def test_run_with_an_exiting_pipeline_fails_pipeline_compile_and_finishes_the_report(tmp_path: Path) -> None:
    from harness.reports.writer import load_report

    src = tmp_path / "x.py"
    src.write_text("import sys\nsys.exit(0)\n")
    report_dir = tmp_path / "report"
    proc = subprocess.run(
        [PYTHON, "-m", "harness", "run", "--no-load", "--pipeline", str(src), "--report-dir", str(report_dir)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = load_report(report_dir)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["status"] == "failed" and report["exit_code"] == 1 and report["finished_at"]
    assert checks["pipeline.compile"]["status"] == "failed" and "called sys.exit(0)" in checks["pipeline.compile"]["message"]
    assert checks["pipeline.run"]["status"] == "skipped"
    assert all((report_dir / name).is_file() for name in ("report.html", "summary.md", "junit.xml"))


@pytest.mark.parametrize("text", [
    "from kfp import dsl\n\n@dsl.pipeline\ndef pipe():\n    pass\n",
    "from my_team.pipelines import pipe\n",
    "import kfp\npipe = kfp.dsl.pipeline(lambda: None)\n",
    "try:\n    from fast import pipe\nexcept ImportError:\n    def pipe():\n        pass\n",
])
def test_the_precheck_takes_any_top_level_binding_of_the_function(text: str, tmp_path: Path) -> None:
    from harness.pipelines.compile import precheck_source

    src = tmp_path / "p.py"
    src.write_text(text)
    precheck_source(f"{src}:pipe")  # no error: the name is bound (what it is, the compile finds out)
    with pytest.raises(ConfigError, match="has no function 'other' at its top level"):
        precheck_source(f"{src}:other")
    src.write_text(text + "from elsewhere import *\n")  # a star import may bind anything: left to the compile
    precheck_source(f"{src}:other")
