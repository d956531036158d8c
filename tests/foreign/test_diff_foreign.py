"""``mlharness diff`` with MLServer 1.7.1 as live and the harness's local KServe server as candidate.

Live: MLServer + mlserver-sklearn serving the iris model (V2 only; the ``mlserver`` fixture,
one per session). Candidate: the local KServe server (:class:`harness.serving.local.LocalModelServer`,
what ``mlharness serve`` and ``--candidate-artifact`` start) serving

- the same model file: exit 0, agreement 100 %, latency within the bound with the p-value;
- a model that answers every 10th iris row one class off (:func:`tests.helpers.diff_models.train_tenth_off`):
  exit 1, agreement near 90 %, the rows listed (labelled rows only: ``--diff-rows 0``, since a
  nearest-neighbour model and the SVC also part ways far outside the data);
- the same model behind a 40 ms sleep (:func:`tests.helpers.diff_models.train_slow`): exit 1 on
  ``diff.latency`` alone, agreement 100 %.

The two sides are different servers (MLServer's REST stack and KServe's), so their latencies
differ for real, not only by noise: the A/A bound here is ``--max-latency-increase 100%`` (a
40 ms slowdown of a few-millisecond model is far beyond it). They speak V2 REST in common.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from harness.cli import main as cli
from harness.errors import ExitCode
from harness.serving.local import LocalModelServer
from tests.helpers.diff_models import train_slow, train_tenth_off

from .servers import REPO, ForeignServer

SHORT = ["--diff-windows", "3", "--diff-window", "0.5", "--model-name", "sklearn-iris", "--max-latency-increase", "100%"]


@pytest.fixture(scope="module")
def candidates(iris_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The local KServe server serving the same model, the tenth-off model and the slow model."""
    work = tmp_path_factory.mktemp("diff-candidates")
    models = {"same": iris_model_dir, "tenth-off": train_tenth_off(work / "tenth-off", iris_model_dir),
              "slow": train_slow(work / "slow", iris_model_dir)}
    started: dict[str, LocalModelServer] = {}
    try:
        # the slow model's step is a function of tests.helpers: the server must import it
        with mock.patch.dict(os.environ, {"PYTHONPATH": str(REPO)}):
            for name, model in models.items():
                started[name] = LocalModelServer(model, "sklearn-iris", work / f"{name}.log")
                started[name].start(ready_timeout=90)
        yield {name: server.url for name, server in started.items()}
    finally:
        for server in started.values():
            server.stop()


def diff(tmp_path: Path, live: ForeignServer, candidate: str, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report"
    code = cli.main(["diff", "--target", "endpoint", "--url", live.base_url, "--candidate-url", candidate, "--report-dir", str(out),
                     *SHORT, *extra])
    return code, json.loads((out / "report.json").read_text())


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"] if c["name"].startswith("diff.")}


def test_mlserver_and_kserve_serving_the_same_model_pass(mlserver: ForeignServer, candidates: dict[str, str], tmp_path: Path) -> None:
    code, report = diff(tmp_path, mlserver, candidates["same"])
    checks = {c["name"]: c for c in report["checks"]}
    assert code == ExitCode.PASSED, {n: c["message"] for n, c in checks.items() if c["status"] != "skipped"}
    assert report["diff"]["agreement"]["agreement"] == 1.0 and report["diff"]["agreement"]["protocols"] == ["v2"]
    assert statuses(report) == dict.fromkeys(("diff.agreement", "diff.quality", "diff.latency", "diff.errors"), "passed")
    assert "Mann-Whitney U p=" in checks["diff.latency"]["message"]


def test_a_kserve_candidate_a_tenth_of_rows_off_fails(mlserver: ForeignServer, candidates: dict[str, str], tmp_path: Path) -> None:
    code, report = diff(tmp_path, mlserver, candidates["tenth-off"], "--diff-rows", "0")
    agreement = report["diff"]["agreement"]
    assert code == ExitCode.FAILED
    assert 0.85 <= agreement["agreement"] <= 0.95, agreement["agreement"]
    assert statuses(report)["diff.agreement"] == "failed"
    assert agreement["shown"] and all(r["candidate"] == (r["live"] + 1) % 3 for r in agreement["shown"])


def test_a_kserve_candidate_40ms_slower_fails_on_latency(mlserver: ForeignServer, candidates: dict[str, str], tmp_path: Path) -> None:
    code, report = diff(tmp_path, mlserver, candidates["slow"])
    assert code == ExitCode.FAILED
    assert report["diff"]["agreement"]["agreement"] == 1.0
    assert [n for n, s in statuses(report).items() if s == "failed"] == ["diff.latency"]
    assert report["diff"]["latency"]["shift_ms"] > 30
