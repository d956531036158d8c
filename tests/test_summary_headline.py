"""summary.md's headline names the real cause when only a pytest session's own test failed (issue 23)."""

from __future__ import annotations

from pathlib import Path

from harness.record import RunRecord
from harness.reports.render import render_all
from harness.reports.writer import ReportWriter
from harness.results import CheckResult, CheckStatus, RunStatus

OWN_TESTS = "the pytest session had failing tests (see its output)"


def summary(tmp_path: Path, status: RunStatus, checks: list[CheckStatus], error: str | None) -> str:
    writer = ReportWriter(tmp_path, RunRecord("endpoint"))
    for i, check_status in enumerate(checks):
        writer.record.add_check(CheckResult(f"predict.c{i}", check_status, "m"))
    writer.end(status, 1 if status is RunStatus.FAILED else 0, error)
    writer.release()
    render_all(tmp_path)
    return (tmp_path / "summary.md").read_text()


def test_only_the_sessions_own_test_failed(tmp_path: Path) -> None:
    text = summary(tmp_path, RunStatus.FAILED, [CheckStatus.PASSED, CheckStatus.PASSED], OWN_TESTS)
    assert f"No check failed; {OWN_TESTS}." in text
    assert "A gate failed" not in text and "**Error:**" not in text


def test_a_failed_check_is_still_the_headline(tmp_path: Path) -> None:
    text = summary(tmp_path, RunStatus.FAILED, [CheckStatus.PASSED, CheckStatus.FAILED], None)
    assert "1 of 2 checks failed: predict.c1." in text
