"""Paths in a config file are relative to the file; a run from a subdirectory finds the project's
config; a mistyped key in a table names the table and the close match (issue 23)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config, read_config_file
from harness.errors import ConfigError

PYPROJECT = """\
[project]
name = "team"

[tool.mlharness]
contract = "model/contract.toml"
golden_file = "model/golden.json"
report_dir = "reports/ci"
pipeline = "pipelines/train.py:digits"
checks = ["checks/team.py", "team_checks.module"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "golden.json").write_text('[{"instances": [[1, 2]], "predictions": [0]}]')
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    return tmp_path


def test_a_subdirectory_finds_the_project_config_and_its_paths_are_the_files(project: Path) -> None:
    values, source = read_config_file(cwd=project / "tests" / "unit")
    assert source == str(project / "pyproject.toml")
    assert values["contract"] == str(project / "model" / "contract.toml")
    assert values["report_dir"] == str(project / "reports" / "ci")
    assert values["pipeline"] == f"{project / 'pipelines' / 'train.py'}:digits"
    assert values["checks"] == [str(project / "checks" / "team.py"), "team_checks.module"]  # a module name stays one
    cfg = load_config(cli={}, env={}, file=values)  # the golden file exists only relative to the file
    assert cfg.core.golden_file == str(project / "model" / "golden.json")


def test_an_explicit_config_file_is_the_base_of_its_paths(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = project / "ci" / "harness.toml"
    config.parent.mkdir()
    config.write_text('contract = "../model/contract.toml"\ndata = "/abs/data.csv"\nca_cert = "~/ca.pem"\n')
    values, _ = read_config_file(config)
    assert Path(values["contract"]).resolve() == project / "model" / "contract.toml"
    assert values["data"] == "/abs/data.csv"
    assert values["ca_cert"] == str(Path.home() / "ca.pem")


def test_the_search_stops_at_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text("users = 3\n")  # above the project: not this project's
    inner = tmp_path / "repo"
    (inner / ".git").mkdir(parents=True)
    (inner / "sub").mkdir()
    assert read_config_file(cwd=inner / "sub") == ({}, "")
    assert read_config_file(cwd=tmp_path / "repo" / "..")[0] == {"users": 3}


def test_a_pyproject_without_the_table_ends_the_search(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text("users = 3\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    assert read_config_file(cwd=tmp_path / "pkg") == ({}, "")


@pytest.mark.parametrize(
    ("toml", "key", "needle"),
    [
        ("[slo]\np95 = 100\n", "slo.p95", "unknown setting in table [slo] (from {file}); did you mean 'p95_ms'?"),
        ("[load]\nuser = 3\n", "load.user", "unknown setting in table [load] (from {file}); did you mean 'users'?"),
        ("[robustness]\nprofle = 'ci'\n", "robustness.profle", "did you mean 'profile'?"),
        ("[slo]\nzzz = 1\n", "slo.zzz", "unknown setting in table [slo] (from {file})"),
        ("userz = 3\n", "userz", "unknown setting (from {file}); did you mean 'users'?"),
    ],
)
def test_a_mistyped_key_names_its_table_and_the_close_match(tmp_path: Path, toml: str, key: str, needle: str) -> None:
    file = tmp_path / "harness.toml"
    file.write_text(toml)
    values, source = read_config_file(cwd=tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(cli={}, env={}, file=values, file_source=source)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ") and needle.format(file=file) in str(info.value)


def test_known_keys_in_tables_still_flatten(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text("[slo]\np95_ms = 80\n[endpoint]\nurl = 'http://127.0.0.1:1'\n[load]\nusers = 2\n")
    values, _ = read_config_file(cwd=tmp_path)
    assert values == {"slo_p95_ms": 80, "url": "http://127.0.0.1:1", "users": 2}


@pytest.mark.e2e  # a whole pytest session in a subprocess
def test_pytest_from_a_subdirectory_reads_the_project_config(project: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """``cd tests && pytest``: the plugin finds [tool.mlharness] above and its paths are the file's."""
    (project / "model" / "contract.toml").write_text("")
    # the plugin loads the checks setting at start (a missing file is exit 4 there, as it is exit 2
    # for the CLI): this project lists none, its paths are the other settings'
    line = 'checks = ["checks/team.py", "team_checks.module"]\n'
    assert line in PYPROJECT
    (project / "pyproject.toml").write_text(PYPROJECT.replace(line, ""))
    test = project / "tests" / "unit" / "test_where.py"
    test.write_text(
        "from pathlib import Path\n\n"
        "def test_paths(harness_config):\n"
        "    assert Path(harness_config.model.contract).is_file(), harness_config.model.contract\n"
        "    assert harness_config.core.report_dir.endswith('reports/ci')\n"
    )
    monkeypatch.chdir(project / "tests" / "unit")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", str(test))
    result.assert_outcomes(passed=1)


def test_the_candidates_paths_are_the_files_and_the_builtin_pipeline_is_a_name(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text('pipeline = "builtin:iris"\n[diff]\ncandidate_pipeline = "next/train.py:digits"\n'
                                           'candidate_artifact = "next/model"\ncandidate_ca_cert = "ca.pem"\n')
    values, _ = read_config_file(cwd=tmp_path)
    assert values["pipeline"] == "builtin:iris"
    assert values["candidate_pipeline"] == f"{tmp_path / 'next' / 'train.py'}:digits"
    assert (values["candidate_artifact"], values["candidate_ca_cert"]) == (str(tmp_path / "next" / "model"), str(tmp_path / "ca.pem"))
