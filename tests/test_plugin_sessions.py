"""The pytest plugin's session rules, in pytester host repositories: one validation per session
(pytest-xdist is refused), a check listed in the config is a test item too, and what the
closing lines count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlharness_fixtures.plugin import XDIST_REFUSED

pytest_plugins = ["pytester"]

MY_CHECKS = '''
from harness.checks import check
from harness.results import CheckResult, CheckStatus


@check("custom.listed")
def listed(ctx):
    return CheckResult("custom.listed", CheckStatus.PASSED, "counted").with_evidence({"rows": 2})


@check("custom.broken")
def broken(ctx):
    return CheckResult("custom.broken", CheckStatus.FAILED, "p95 412 ms above the 250 ms limit of the contract "
                       "for this model (under 4 users) - the whole message, uncut")
'''
TEST_CHECKS = '''
import pytest
from mlharness_fixtures.plugin import assert_check

@pytest.mark.harness_checks("custom")
def test_check(harness_check, harness_check_name):
    assert_check(harness_check(harness_check_name))
'''


@pytest.mark.parametrize("flags", [("-n", "2"), ("--dist", "load", "--tx", "popen")], ids=["n2", "dist"])
def test_xdist_is_refused_at_start_with_one_line(pytester: pytest.Pytester, flags: tuple[str, ...]) -> None:
    pytester.makepyfile("def test_x(harness_run):\n    pass\n")
    result = pytester.runpytest_subprocess(*flags, "-p", "xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [f"ERROR: {XDIST_REFUSED}"]
    assert not (pytester.path / "reports").exists()  # nothing ran: no half-run, no report


@pytest.mark.e2e  # three pytest sessions, two of them with xdist workers
def test_xdist_runs_tests_without_the_plugin_and_n0_is_one_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n\ndef test_y():\n    pass\n")
    pytester.runpytest_subprocess("-n", "2", "-p", "xdist", "-p", "no:mlharness").assert_outcomes(passed=2)
    pytester.runpytest_subprocess("-n", "0", "-p", "xdist").assert_outcomes(passed=2)


@pytest.mark.e2e  # a session that runs a local validation with the checks as test items
@pytest.mark.parametrize("imported", [False, True], ids=["config-only", "config-and-conftest"])
def test_a_check_listed_in_the_config_is_a_test_item(pytester: pytest.Pytester, tmp_path: Path, imported: bool) -> None:
    """Listed in ``[tool.mlharness] checks``, it runs as its own item; imported by the conftest
    as well, it is the same function registered twice: harmless. A failed check shows its own
    message, without assertion introspection, in the failure and in ``-ra``'s line."""
    pytester.makepyprojecttoml('[tool.mlharness]\nchecks = ["my_checks.py"]\n')
    pytester.makepyfile(my_checks=MY_CHECKS, test_custom=TEST_CHECKS)
    if imported:
        pytester.makeconftest("import my_checks  # noqa: F401\n")
    report = tmp_path / "report"
    result = pytester.runpytest_subprocess("-ra", "-vv", "--harness-report-dir", str(report))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "mlharness: FAILED on local — checks: 1 passed, 1 failed",  # checks; pytest's own line below counts tests
        "FAILED test_custom.py::test_check[[]custom.broken[]] - Failed: custom.broken failed: p95 412 ms above * - the whole message, uncut",
        "*= 1 failed, 1 passed in *",
    ])
    assert "where" not in result.stdout.str() and "AssertionError" not in result.stdout.str()
    checks = {c["name"]: c["status"] for c in json.loads((report / "report.json").read_text())["checks"]}
    assert checks == {"custom.listed": "passed", "custom.broken": "failed"}


def test_two_functions_under_one_name_are_still_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.mlharness]\nchecks = ["my_checks.py"]\n')
    pytester.makepyfile(my_checks=MY_CHECKS, test_custom=TEST_CHECKS)
    pytester.makeconftest(MY_CHECKS.replace("def listed(", "def another(").split("@check(\"custom.broken\")")[0])
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --harness-checks: *my_checks.py* a check named 'custom.listed' is registered already*"])
