"""The install fits the target (issue 23): the endpoint path imports no kfp, KServe, Kubernetes
or scikit-learn; a target whose extra is missing stops with one line naming the pip install;
the extras in pyproject.toml provide what harness.errors.EXTRAS looks for."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from harness.errors import EXTRAS, MissingExtraError, require_extra

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("kfp", "kserve", "kubernetes", "kubernetes_validate", "sklearn", "scipy", "fastapi")
# import name -> the distribution that provides it
DISTRIBUTION = {"kfp": "kfp", "kserve": "kserve", "sklearn": "scikit-learn", "kubernetes": "kubernetes", "kubernetes_validate": "kubernetes-validate"}


def test_the_endpoint_path_imports_nothing_of_the_extras() -> None:
    """What validating a deployed endpoint loads: the CLI's parser (every command module), the run,
    the endpoint target, the checks, load, reports and the pytest plugin."""
    code = (
        "import sys\n"
        "from harness.cli.main import build_parser\n"
        "build_parser()\n"
        "import harness.run.runner, harness.targets.endpoint, harness.checks.builtin, harness.reports.render\n"
        "import harness.load.run, harness.inference.client, harness.contract.golden, mlharness_fixtures.plugin\n"
        "harness.contract.golden.iris_rows()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("target", "extra", "missing"), [("local", "local", "kfp"), ("kind", "cluster", "kubernetes")])
def test_a_target_without_its_extra_is_one_line(target: str, extra: str, missing: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # find_spec answers None: as if not installed
    from harness.cli.main import main

    assert main(["run", "--target", target, "--no-load", "--report-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"mlharness: error: the {target} target needs {missing}, which this install lacks: pip install 'mlharness[{extra}]'\n"


def test_compile_and_serve_say_which_extra(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "kserve", None)
    from harness.cli.main import main

    for command in ("compile", "serve"):
        assert main([command]) == 2
        err = capsys.readouterr().err
        assert err == f"mlharness: error: mlharness {command} needs kserve, which this install lacks: pip install 'mlharness[local]'\n"


def test_require_extra_names_every_missing_module(monkeypatch: pytest.MonkeyPatch) -> None:
    require_extra("local", "x")  # the dev install has them all
    for name in EXTRAS["cluster"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError) as info:
        require_extra("cluster", "the kind target")
    assert str(info.value) == "the kind target needs kfp, kubernetes, which this install lacks: pip install 'mlharness[cluster]'"
    assert info.value.exit_code == 2


def test_the_extras_install_what_the_check_looks_for() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]

    def names(requirements: list[str]) -> set[str]:
        return {r.split("==")[0].split(">")[0].split("<")[0].split("[")[0].strip().lower() for r in requirements}

    for extra, modules in EXTRAS.items():
        assert {DISTRIBUTION[m] for m in modules} <= names(extras[extra]), extra
    base = names(project["dependencies"])
    assert not base & set(DISTRIBUTION.values()), "the base install is for validating an endpoint"
    assert extras["all"] == ["mlharness[local,cluster]"] and "mlharness[all]" in extras["dev"]
    assert "kubernetes-validate" in names(extras["dev"]), "only the tests validate manifests"
