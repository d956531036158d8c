"""docs/ci.md works as written (issue 23): its commands run green in a fresh venv with mlharness
installed from its wheel, not an editable checkout, against a served model; zizmor finds nothing
in its workflow.

The team's repository is made from the page's own blocks (``requirements-ci.txt``, the
``[tool.mlharness]`` table, ``tests/test_model.py``); the GitHub workflow's ``run:`` steps and the
GitLab job's ``script`` run in order in a shell, with ``pip install mlharness`` finding the wheel
through ``PIP_FIND_LINKS`` and the endpoint in ``HARNESS_URL`` as the job's variables would give it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from harness.results import Endpoint

from .conftest import REPO
from .test_workflows import zizmor

pytestmark = pytest.mark.e2e  # builds the wheel and installs it into a fresh venv (minutes)

PAGE = REPO / "docs" / "ci.md"
FENCE = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.M | re.S)


def blocks(language: str) -> list[str]:
    """The page's fenced blocks of ``language``, dedented to their fence."""
    found = []
    for indent, lang, body in FENCE.findall(PAGE.read_text()):
        if lang == language:
            found.append("".join(line[len(indent):] + "\n" for line in body.splitlines()))
    return found


def github_workflow() -> dict:
    return yaml.safe_load(next(b for b in blocks("yaml") if b.startswith("name: model-validation")))


def gitlab_job() -> dict:
    return yaml.safe_load(next(b for b in blocks("yaml") if b.startswith("model-validation:")))["model-validation"]


def test_the_workflow_passes_zizmor(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "model.yml").write_text(next(b for b in blocks("yaml") if b.startswith("name: model-validation")))
    findings = zizmor(workflows)
    assert findings == [], [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings]


def test_the_page_pins_this_release_and_the_workflow_gates_on_the_run() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert blocks("text")[1].strip() == f"mlharness=={version}"
    steps = github_workflow()["jobs"]["validate"]["steps"]
    validate = next(i for i, s in enumerate(steps) if s.get("name") == "Validate the model")
    assert "if" not in steps[validate], "the run's exit code is the gate"
    assert all(s.get("if") == "always()" for s in steps[validate + 1:]), "the summary and the upload run after a failed run too"
    upload = steps[-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "reports/ci"


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A venv with nothing but pip, and a folder holding this checkout's wheel."""
    work = tmp_path_factory.mktemp("ci-template")
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
                   check=True, timeout=600, capture_output=True)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    return venv, dist


def team_repo(root: Path) -> Path:
    """The layout of the page's first block, filled from its other blocks."""
    repo = root / "team"
    (repo / "tests").mkdir(parents=True)
    (repo / "requirements-ci.txt").write_text(blocks("text")[1])
    (repo / "pyproject.toml").write_text('[project]\nname = "team-model"\nversion = "0"\n\n' + blocks("toml")[0])
    (repo / "tests" / "test_model.py").write_text(blocks("python")[0])
    return repo


def shell(command: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)


def job_env(venv: Path, dist: Path, served: Endpoint, variables: dict[str, str]) -> dict[str, str]:
    """What the runner gives a step: the setup Python first on PATH, the job's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST", "PYTHONPATH", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_FIND_LINKS"] = " ".join(filter(None, [str(dist), os.environ.get("PIP_FIND_LINKS", "")]))
    env.update({k: v for k, v in variables.items() if "${{" not in v})
    env["HARNESS_URL"] = served.base_url
    return env


def test_the_github_workflow_runs_green_from_a_pip_installed_wheel(clean_venv: tuple[Path, Path], served: Endpoint, tmp_path: Path) -> None:
    venv, dist = clean_venv
    repo = team_repo(tmp_path)
    job = github_workflow()["jobs"]["validate"]
    env = job_env(venv, dist, served, job["env"])
    summary = tmp_path / "step_summary.md"
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    for step in job["steps"]:
        if "run" in step:
            done = shell(step["run"], repo, env)
            assert done.returncode == 0, f"{step['name']}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    origin = subprocess.run([str(venv / "bin" / "python"), "-c", "import harness; print(harness.__file__)"],
                            capture_output=True, text=True, check=True, timeout=60, cwd=repo).stdout
    assert origin.startswith(str(venv)), f"not the installed wheel: {origin}"
    extras = subprocess.run([str(venv / "bin" / "python"), "-c", "import importlib.util as u; print([m for m in ('kfp', 'kserve', 'sklearn', 'kubernetes') if u.find_spec(m)])"],
                            capture_output=True, text=True, check=True, timeout=60, cwd=repo).stdout.strip()
    assert extras == "[]", f"the base install validated the endpoint without any extra: {extras}"
    assert summary.read_text() == (repo / "reports" / "ci" / "summary.md").read_text() != ""
    assert {"report.json", "summary.md", "junit.xml"} <= {p.name for p in (repo / "reports" / "ci").iterdir()}

    # the pytest variant of the Validate step, into the same directory: one run's files after it
    pytest_step = next(b for b in blocks("bash") if b.startswith("pytest "))
    done = shell(pytest_step, repo, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"\d+ passed", done.stdout), done.stdout[-2000:]
    assert not (repo / "reports" / "ci" / ".mlharness.lock").exists()


def test_the_gitlab_job_runs_green_from_a_pip_installed_wheel(clean_venv: tuple[Path, Path], served: Endpoint, tmp_path: Path) -> None:
    venv, dist = clean_venv
    repo = team_repo(tmp_path)
    job = gitlab_job()
    env = job_env(venv, dist, served, {"CI_PROJECT_DIR": str(repo)})
    env.update({k: v.replace("$CI_PROJECT_DIR", str(repo)) for k, v in job["variables"].items()})
    for line in job["script"]:
        done = shell(line, repo, env)
        assert done.returncode == 0, f"{line}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    for path in job["artifacts"]["paths"]:
        assert (repo / path / "report.json").is_file()
    assert (repo / job["artifacts"]["reports"]["junit"]).is_file()
