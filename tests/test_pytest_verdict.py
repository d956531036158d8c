"""pytest's exit status follows the run's verdict: a failed step fails the tests that need it, a
session whose report says ``failed`` never exits 0, and Ctrl-C exits 130 as the report records.

Each test runs a user's repository in a pytester subprocess: the plugin comes from its entry point.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

SUITE = textwrap.dedent(
    """
    import pytest
    from mlharness_fixtures.plugin import assert_check


    @pytest.mark.harness_checks("predict", "slo")
    def test_check(harness_check, harness_check_name):
        assert_check(harness_check(harness_check_name))
    """
)
#: a target whose pipeline run fails as a pipeline with a failing evaluate task does (the run is
#: the plugin's own, its target swapped: the fixture layers let a conftest take the run and change it)
FAILING_PIPELINE = textwrap.dedent(
    """
    import pytest
    from harness.results import PipelineRun, TaskRun, TaskState
    from tests_stub import StubTarget


    @pytest.fixture(scope="session")
    def harness_run(harness_run, tmp_path_factory):
        package = tmp_path_factory.mktemp("package") / "pipeline.yaml"
        package.write_text("{}")
        harness_run.target = StubTarget()
        harness_run.provide("package", package)  # compiled already: the run is what fails
        return harness_run
    """
)
STUB_TARGET = textwrap.dedent(
    """
    from harness.results import PipelineRun, TaskRun, TaskState


    class StubTarget:
        name = "stub"
        runs_pipelines = True
        deploys = True
        deploy_failure_is_infrastructure = False
        serves_with_this_python = False
        work_dir = None

        def provision(self):
            pass

        def run_pipeline(self, package):
            tasks = (TaskRun("train", TaskState.SUCCEEDED), TaskRun("evaluate", TaskState.FAILED))
            return PipelineRun("iris", "run-1", False, tasks, None, message="evaluate: accuracy 0.9333 < min_accuracy 0.99")

        def deploy(self, run):
            raise AssertionError("a failed pipeline run is never deployed")

        def model_artifact(self):
            return None

        def serving_runtime(self):
            return None

        def resource_monitor(self):
            return None

        def load_generator(self, endpoint):
            raise AssertionError("nothing to load")

        def diagnostics(self, out_dir):
            return []

        def teardown(self):
            pass
    """
)


def _report(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    return data


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}


def test_a_failed_pipeline_run_fails_the_selected_tests_that_need_the_model(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """``-k "golden or slo"`` after the evaluate task failed: failed tests and exit 1, not skips and exit 0."""
    pytester.makepyfile(tests_stub=STUB_TARGET, test_mine=SUITE)
    pytester.makeconftest(FAILING_PIPELINE)
    report_dir = tmp_path / "report"
    result = pytester.runpytest_subprocess("-k", "golden or slo", "--harness-min-accuracy", "0.99", "--harness-slo-p95-ms", "500",
                                           "--harness-report-dir", str(report_dir), "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, result.stdout.str()[-3000:]
    assert result.ret == 1, result.stdout.str()[-3000:]
    # the failure names the step and says its message
    result.stdout.fnmatch_lines(["*predict.golden not run: no model to deploy: the pipeline run failed*pipeline.run failed*evaluate: accuracy 0.9333*"])
    report = _report(report_dir)
    assert (report["status"], report["exit_code"]) == ("failed", 1)
    assert _statuses(report)["pipeline.run"] == "failed"
    assert _statuses(report)["predict.golden"] == "skipped"  # the report keeps what the CLI says of it


def test_a_compile_failure_fails_the_selected_tests(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """The local target, a pipeline file that does not compile: the tests that need the model fail with its message.
    (It parses: a file that does not is refused before any work, exit 2, by the pre-check.)"""
    pytester.makepyfile(test_mine=SUITE, broken_pipeline="from kfp import dsl\n\n@dsl.pipeline(name='broken')\ndef pipe():\n    no_such_component()\n")
    report_dir = tmp_path / "report"
    result = pytester.runpytest_subprocess("-k", "golden", "--harness-pipeline", str(pytester.path / "broken_pipeline.py") + ":pipe",
                                           "--harness-report-dir", str(report_dir), "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*predict.golden not run:*pipeline.compile failed*"])
    report = _report(report_dir)
    assert (report["status"], report["exit_code"]) == ("failed", 1)
    assert _statuses(report)["pipeline.compile"] == "failed"


def test_a_session_whose_report_says_failed_never_exits_0(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """A test that records a check and asserts nothing passes; the run it fed failed, so the session does."""
    pytester.makepyfile(tests_stub=STUB_TARGET)
    pytester.makeconftest(FAILING_PIPELINE)
    pytester.makepyfile(test_quiet="def test_records_only(harness_check):\n    harness_check('predict.golden')\n")
    report_dir = tmp_path / "report"
    result = pytester.runpytest_subprocess("--harness-report-dir", str(report_dir), "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert _report(report_dir)["status"] == "failed"
    assert result.ret == 1


def test_ctrl_c_exits_with_the_code_the_report_records(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_interrupted="def test_stop(harness_run):\n    raise KeyboardInterrupt\n")
    report_dir = tmp_path / "report"
    result = pytester.runpytest_subprocess("--harness-target", "endpoint", "--harness-url", "http://127.0.0.1:9",
                                           "--harness-report-dir", str(report_dir), "-p", "no:randomly")
    report = _report(report_dir)
    assert (report["status"], report["exit_code"]) == ("interrupted", 130)
    assert result.ret == 130
