"""A property over the whole registry (issue 19): against a server that is ready but gives no
evidence of a model, no check that judges traffic passes, and the exit code is not 0.

For ``mlharness run``, ``mlharness capacity`` and the pytest plugin, over REST (V1 and V2), against
(a) a server that answers 400 to every inference, (b) one that answers 200 with an empty body, (c)
one that answers 200 with ``{"predictions": []}`` over V1 and an ``outputs`` tensor of the wrong
length over V2, (d) one that answers as the model does until the load window, then stops answering
half-way through it (:mod:`tests.helpers.evidence_server`). With (d) the checks before the load window
meet a healthy server, so only what the window decides is held to the property: the error rate
(the requests never answered count as failures), the baseline's error rate, the capacity search
and the user's check, which runs after it. The latency and throughput gates judge the successful
requests, and the ones before the stop were fast and many (``--slo-min-rps 1``): they may pass.

The load windows are short (1 s; the fast tier runs the mlharness run cases) and the capacity search is cut to a budget of 8 s (steps of 2 s).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.checks import REGISTRY
from harness.cli import main as cli
from harness.record import SCHEMA_VERSION

from .helpers.evidence_server import EvidenceServer

MODES = ("reject", "empty", "short", "stop")
#: what must not pass; with "stop", only what the load window decides (see the module's docstring)
JUDGED = ("predict.", "robustness.", "slo.", "baseline.", "custom.")
AFTER_THE_STOP = ("slo.error_rate", "slo.capacity_rps", "baseline.error_rate", "baseline.capacity_rps", "custom.")
USER_CHECK = textwrap.dedent(
    """
    from harness.checks import check
    from harness.results import CheckResult, CheckStatus


    @check("custom.seed_rows", needs=("client",), evidence=("rows",))
    def seed_rows(ctx):
        \"\"\"The seed's two rows get two answers.\"\"\"
        answer = ctx.client.classify([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]])
        ok = len(answer.outputs) == 2
        result = CheckResult("custom.seed_rows", CheckStatus.PASSED if ok else CheckStatus.FAILED, f"answered {list(answer.outputs)}")
        return result.with_evidence({"rows": len(answer.outputs)})
    """
)
SUITE = textwrap.dedent(
    """
    import pytest
    from mlharness_fixtures.plugin import assert_check


    @pytest.mark.harness_checks("predict", "robustness", "slo", "baseline", "custom")
    def test_check(harness_check, harness_check_name):
        assert_check(harness_check(harness_check_name))
    """
)
#: a healthy run's load figures, as a hand-written baseline gives them
BASELINE = {"schema_version": SCHEMA_VERSION, "load": {"requests": 2000, "failures": 0, "rps": 800.0, "latency_ms": {"count": 2000, "p50": 3.0, "p95": 8.0, "p99": 12.0}},
            "capacity": {"capacity_rps": 500.0}}
TIMEOUTS = ["--request-timeout", "2s", "--ready-timeout", "10s"]
LOAD = ["--duration", "1s", "--warmup", "0.25s", "--users", "4", *TIMEOUTS]
GATES = ["--slo-p50-ms", "1000", "--slo-p95-ms", "1000", "--slo-p99-ms", "2000", "--slo-error-rate", "0.01", "--slo-min-rps", "1"]
CAPACITY = ["--capacity-step", "2s", "--capacity-probe", "1.5s", "--capacity-budget", "8s", "--capacity-max-steps", "3"]


@pytest.fixture
def files(tmp_path: Path) -> Iterator[dict[str, Path]]:
    (tmp_path / "user_checks.py").write_text(USER_CHECK)
    (tmp_path / "baseline.json").write_text(json.dumps(BASELINE))
    yield {"checks": tmp_path / "user_checks.py", "baseline": tmp_path / "baseline.json"}
    REGISTRY.remove("custom.seed_rows")  # the CLI ran in this process: its user check must not reach other tests' runs


def _passing(report_dir: Path, mode: str) -> tuple[dict[str, Any], list[str]]:
    """The report, and the checks held to the property that passed anyway (with their messages)."""
    report: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    held = AFTER_THE_STOP if mode == "stop" else JUDGED
    passed = [f"{c['name']}: {c['message']}" for c in report["checks"] if c["name"].startswith(held) and c["status"] == "passed"]
    return report, passed


def _robustness(mode: str) -> list[str]:
    """With the ``stop`` server robustness meets a healthy server and is not held to the property: off, to save its time."""
    return ["--no-robustness"] if mode == "stop" else []


def _endpoint(url: str, model_dir: Path, files: dict[str, Path]) -> list[str]:
    return ["--target", "endpoint", "--url", url, "--model-name", "sklearn-iris", "--model-artifact", str(model_dir),
            "--baseline", str(files["baseline"])]


@pytest.mark.parametrize("mode", MODES)
def test_mlharness_run_passes_nothing_it_has_no_evidence_for(mode: str, model_dir: Path, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    with EvidenceServer(mode, model_dir) as url:
        code = cli.main(["run", *_endpoint(url, model_dir, files), *LOAD, *GATES, *_robustness(mode), "--checks", str(files["checks"]),
                         "--report-dir", str(out)])
    report, passed = _passing(out, mode)
    assert not passed, f"passed without evidence against the {mode!r} server: {passed}"
    assert code != 0 and report["exit_code"] == code and report["status"] != "passed"
    assert "custom.seed_rows" in {c["name"] for c in report["checks"]}


@pytest.mark.e2e  # capacity searches: the fast tier keeps the mlharness run cases
@pytest.mark.parametrize(("mode", "baseline"), [*((m, False) for m in MODES), ("reject", True)])
def test_mlharness_capacity_finds_no_capacity_it_has_no_evidence_for(mode: str, baseline: bool, model_dir: Path, files: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    """No threshold on the capacity (the issue's case: no rate held, and still exit 0), and once with a baseline."""
    out = tmp_path / "report"
    with EvidenceServer(mode, model_dir) as url:
        endpoint = _endpoint(url, model_dir, files) if baseline else _endpoint(url, model_dir, files)[:-2]
        code = cli.main(["capacity", *endpoint, *TIMEOUTS, *CAPACITY, "--slo-p95-ms", "1000", "--slo-error-rate", "0.01",
                         "--report-dir", str(out)])
    report, passed = _passing(out, mode)
    assert not passed, f"passed without evidence against the {mode!r} server: {passed}"
    assert code != 0 and report["exit_code"] == code and report["status"] != "passed", report["checks"]


@pytest.mark.e2e  # whole pytest sessions in a subprocess: the fast tier keeps the mlharness run cases
@pytest.mark.parametrize("mode", MODES)
def test_the_pytest_plugin_passes_nothing_it_has_no_evidence_for(mode: str, model_dir: Path, files: dict[str, Path],
                                                                  pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest(USER_CHECK)
    pytester.makepyfile(test_release=SUITE)
    out = tmp_path / "report"
    with EvidenceServer(mode, model_dir) as url:
        settings = [*_endpoint(url, model_dir, files), *LOAD, *GATES, *_robustness(mode)]
        args = [a.replace("--", "--harness-", 1) if a.startswith("--") else a for a in settings]
        result = pytester.runpytest_subprocess(*args, "--harness-report-dir", str(out), "-p", "no:randomly")
    report, passed = _passing(out, mode)
    assert not passed, f"passed without evidence against the {mode!r} server: {passed}"
    assert result.ret != 0 and report["status"] != "passed", result.stdout.str()[-2000:]
    assert result.parseoutcomes().get("failed", 0) >= 1


#: over V2 gRPC: the REST side answers in the same way (the endpoint target reaches it for readiness)
GRPC_MODES = {"reject": "invalid", "empty": "empty", "short": "short"}


@pytest.mark.parametrize("mode", GRPC_MODES)
def test_mlharness_run_over_grpc_passes_nothing_it_has_no_evidence_for(mode: str, model_dir: Path, files: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    """``--protocol grpc``: the checks and the load over V2 gRPC alone. (The ``stop`` mode has no gRPC
    twin: the stub answers every row alike, so nothing before the load window could pass there either.)"""
    from tests.helpers.grpc_stub import GrpcStub

    out = tmp_path / "report"
    with EvidenceServer(mode, model_dir) as url, GrpcStub(GRPC_MODES[mode]) as stub:
        code = cli.main(["run", *_endpoint(url, model_dir, files), "--grpc-url", stub.address, "--protocol", "grpc",
                         "--load-protocol", "grpc", *LOAD, *GATES, "--checks", str(files["checks"]), "--report-dir", str(out)])
    report, passed = _passing(out, mode)
    assert not passed, f"passed without evidence against the {mode!r} gRPC server: {passed}"
    assert code != 0 and report["exit_code"] == code and report["status"] != "passed"
