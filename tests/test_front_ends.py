"""``mlharness run`` and ``pytest`` are two front ends of one run: the same checks, the same report.

pytest_plugins = ["pytester"] comes from the root conftest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.results import Endpoint

from .conftest import REPO

VIEWS = {"report.json", "report.html", "summary.md", "junit.xml"}
CUSTOM_CHECK = textwrap.dedent(
    """
    from harness.checks import check
    from harness.results import CheckResult, CheckStatus


    @check("custom.two_rows", needs=("client",))
    def two_rows(ctx):
        \"\"\"The seed's two rows get two answers.\"\"\"
        answer = ctx.client.classify([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]])
        ok = len(answer.outputs) == 2
        result = CheckResult("custom.two_rows", CheckStatus.PASSED if ok else CheckStatus.FAILED, f"answered {list(answer.outputs)}")
        return result.with_evidence({"requests": 1, "rows": 2}, say=True)
    """
)
SUITE = textwrap.dedent(
    """
    import pytest
    from mlharness_fixtures.plugin import assert_check


    @pytest.mark.harness_checks("custom", "predict")
    def test_check(harness_check, harness_check_name):
        assert_check(harness_check(harness_check_name))
    """
)


def checks_of(report_dir: Path) -> dict[str, str]:
    return {c["name"]: c["status"] for c in json.loads((report_dir / "report.json").read_text())["checks"]}


def test_a_users_check_registered_in_a_conftest_is_in_the_report_of_both_front_ends(
    served: Endpoint, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    endpoint = ["--target", "endpoint", "--url", served.base_url, "--no-load", "--no-robustness"]
    # pytest: the check is registered by the host repository's conftest
    pytester.makeconftest(CUSTOM_CHECK)
    pytester.makepyfile(test_mine=SUITE)
    by_pytest = tmp_path / "pytest"
    result = pytester.runpytest_subprocess(*[a.replace("--", "--harness-", 1) for a in endpoint], "--harness-report-dir", str(by_pytest))
    result.assert_outcomes(passed=4, skipped=1)  # custom.two_rows and predict.*; parity has no artifact here
    assert checks_of(by_pytest)["custom.two_rows"] == "passed"
    assert VIEWS <= {p.name for p in by_pytest.iterdir()}
    assert "custom.two_rows" in (by_pytest / "junit.xml").read_text()
    assert "custom.two\\_rows" in (by_pytest / "summary.md").read_text()  # Markdown-escaped
    # the CLI: the same file, named by the checks setting
    checks_file = tmp_path / "my_checks.py"
    checks_file.write_text(CUSTOM_CHECK)
    by_cli = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "harness", "run", *endpoint, "--checks", str(checks_file), "--report-dir", str(by_cli)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert checks_of(by_cli)["custom.two_rows"] == "passed"
    assert "custom.two_rows" in (by_cli / "report.html").read_text()


def test_pytest_suites_and_mlharness_run_write_the_same_report(tmp_path: Path) -> None:
    """A whole local run through each front end: the same check names, the same files."""
    settings = ["--duration", "4s", "--warmup", "1s"]
    cli_dir, pytest_dir = tmp_path / "cli", tmp_path / "pytest"
    cli = subprocess.run([sys.executable, "-m", "harness", "run", *settings, "--report-dir", str(cli_dir)],
                         capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    suites = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "suites"), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                             *[a.replace("--", "--harness-", 1) if a.startswith("--") else a for a in settings],
                             "--harness-report-dir", str(pytest_dir)],
                            capture_output=True, text=True, timeout=600, check=False, cwd=REPO)
    assert cli.returncode == 0, cli.stdout[-3000:]
    assert suites.returncode == 0, suites.stdout[-3000:]
    assert f"report: {pytest_dir}" in suites.stdout  # the terminal summary points at the report
    by_cli, by_pytest = checks_of(cli_dir), checks_of(pytest_dir)
    assert list(by_cli) == list(by_pytest)  # the same checks, in the registry's order
    assert by_cli == by_pytest
    files = {p.name for p in cli_dir.iterdir()} & VIEWS
    assert files == VIEWS and files == {p.name for p in pytest_dir.iterdir()} & VIEWS
