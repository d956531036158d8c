"""A report directory is one run: reusing one clears what the earlier run wrote; no lock file is
left after a run (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.record import RunRecord
from harness.reports.writer import LOCK_FILE, ReportWriter
from harness.results import Endpoint, RunStatus


def earlier_run(directory: Path) -> None:
    """What a finished run leaves: its report, rendered views and a load window's folder."""
    writer = ReportWriter(directory, RunRecord("local"))
    writer.end(RunStatus.PASSED, 0)
    writer.release()
    (directory / "robustness.json").write_text("{}")
    (directory / "summary.md").write_text("earlier")
    (directory / "load").mkdir()
    (directory / "load" / "stats.csv").write_text("x")


def test_a_reused_directory_holds_only_the_new_run(tmp_path: Path) -> None:
    earlier_run(tmp_path)
    writer = ReportWriter(tmp_path, RunRecord("endpoint"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FILE, "report.json"]
    assert json.loads((tmp_path / "report.json").read_text())["target"] == "endpoint"
    writer.end(RunStatus.PASSED, 0)
    writer.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no lock file left


def test_a_directory_without_a_report_is_used_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "report.json").write_text('{"not": "a report"}')  # no schema_version: someone else's file
    ReportWriter(tmp_path, RunRecord("local")).release()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_project_directory_with_a_report_is_refused_not_emptied(tmp_path: Path) -> None:
    earlier_run(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    with pytest.raises(ConfigError, match=r"holds a project \(pyproject.toml\) and an earlier report"):
        ReportWriter(tmp_path, RunRecord("local"))
    assert (tmp_path / "pyproject.toml").exists() and (tmp_path / "load" / "stats.csv").exists()
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_directory_in_use_is_not_emptied(tmp_path: Path) -> None:
    first = ReportWriter(tmp_path, RunRecord("local"))
    (tmp_path / "load").mkdir()
    with pytest.raises(ConfigError, match="in use by another mlharness run"):
        ReportWriter(tmp_path, RunRecord("local"))
    assert (tmp_path / "load").is_dir()
    first.release()


def test_two_cli_runs_into_one_directory(served: Endpoint, tmp_path: Path) -> None:
    from harness.cli.main import main

    argv = ["run", "--target", "endpoint", "--url", served.base_url, "--no-load", "--no-robustness", "--report-dir", str(tmp_path)]
    assert main(argv) == 0
    first = {p.name for p in tmp_path.iterdir()}
    assert "report.json" in first and LOCK_FILE not in first
    (tmp_path / "load").mkdir()  # as a run with load would have left
    (tmp_path / "robustness.json").write_text("{}")
    assert main([*argv, "--min-accuracy", "0.5"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == first
    assert json.loads((tmp_path / "report.json").read_text())["config"]["min_accuracy"] == 0.5
