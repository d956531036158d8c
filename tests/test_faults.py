"""The harness catches broken deployments: each injected fault fails the right check.

Every test runs a whole validation (target ``endpoint``) against :mod:`tests.fault_server`
with one fault, and asserts exit code 1 and the check that must fail; the healthy server
passes with exit 0. These are the harness's own mutation tests: if a check stops
catching its fault, a test here fails.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.errors import EXIT_FAILED, EXIT_PASSED
from harness.runner import RunOutcome, run_validation
from tests.fault_server import FaultServer

# small timeouts and the ci profile keep each run to a few seconds
FAST: dict[str, Any] = {
    "target": "endpoint",
    "load": False,
    "request_timeout": "1s",
    "ready_timeout": "3s",
    "robustness_profile": "ci",
}
VERIFY = ("predict.golden", "predict.accuracy", "predict.parity", "predict.protocols")


@pytest.fixture
def fault_server(model_dir: Path, tmp_path: Path) -> Iterator[Callable[[str], FaultServer]]:
    """Start fault servers for one test; all are stopped afterwards."""
    started: list[FaultServer] = []

    def start(fault: str) -> FaultServer:
        server = FaultServer(model_dir, fault, tmp_path / f"fault-{fault}.log").start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def validate(server: FaultServer, model_dir: Path, tmp_path: Path, **settings: Any) -> RunOutcome:
    cfg = load_config(cli={**FAST, "url": server.url, "model_artifact": str(model_dir), **settings}, env={})
    return run_validation(cfg, report_dir=tmp_path / "report")


def statuses(outcome: RunOutcome) -> dict[str, str]:
    return {c["name"]: c["status"] for c in outcome.report["checks"]}


def check(outcome: RunOutcome, name: str) -> dict[str, Any]:
    found = [c for c in outcome.report["checks"] if c["name"] == name]
    assert found, f"no check {name}; checks: {statuses(outcome)}"
    result: dict[str, Any] = found[0]
    return result


def test_healthy_server_passes_every_check(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("none"), model_dir, tmp_path)
    expected = {"deploy.ready", *VERIFY, "robustness.parity", "robustness.bad_inputs"}
    assert {k: v for k, v in statuses(outcome).items() if k in expected} == dict.fromkeys(expected, "passed"), statuses(outcome)
    assert outcome.exit_code == EXIT_PASSED
    battery = check(outcome, "robustness.bad_inputs")["details"]
    assert battery["total_requests"] >= 100 and battery["v2_tried"] is True
    assert (tmp_path / "report" / "robustness.json").is_file()


def test_wrong_predictions_fail_golden_and_accuracy(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("wrong-predictions"), model_dir, tmp_path, robustness=False)
    assert outcome.exit_code == EXIT_FAILED
    result = statuses(outcome)
    assert result["predict.golden"] == "failed" and result["predict.accuracy"] == "failed", result
    assert "expected 1, got 2" in check(outcome, "predict.golden")["message"]


def test_500_on_malformed_input_fails_bad_inputs_with_a_shrunk_example(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("error-500"), model_dir, tmp_path)
    assert outcome.exit_code == EXIT_FAILED
    result = statuses(outcome)
    assert result["robustness.bad_inputs"] == "failed"
    assert all(result[name] == "passed" for name in VERIFY), result
    battery = check(outcome, "robustness.bad_inputs")
    assert "server error HTTP 500" in battery["message"]
    findings = {f["category"]: f for f in battery["details"]["findings"]}
    assert {"invalid_json", "ragged_rows", "non_finite", "v2_malformed"} <= set(findings)
    assert all(f["status"] == 500 and '"error"' in f["body"] for f in findings.values())
    # hypothesis shrank the generated ragged batch to (nearly) the smallest one
    ragged = findings["ragged_rows"]
    assert ragged["source"] == "generated (shrunk)"
    assert len(ragged["request"]["body"]) <= len('{"instances":[[],[0.0]]}'), ragged


def test_crash_on_one_bad_request_fails_bad_inputs_without_hanging(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    outcome = validate(fault_server("crash"), model_dir, tmp_path)
    assert time.monotonic() - started < 30
    assert outcome.exit_code == EXIT_FAILED
    battery = check(outcome, "robustness.bad_inputs")
    assert battery["status"] == "failed"
    details = battery["details"]
    assert details["first_failure"]["category"] == "non_finite", details["first_failure"]
    assert "stopped answering" in details["stopped"]
    assert "not ready after the battery" in battery["message"]


def test_hang_on_one_bad_request_fails_bad_inputs_within_the_timeouts(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    outcome = validate(fault_server("hang"), model_dir, tmp_path)
    assert time.monotonic() - started < 30
    assert outcome.exit_code == EXIT_FAILED
    battery = check(outcome, "robustness.bad_inputs")
    assert battery["status"] == "failed"
    assert "no answer within the per-request timeout" in battery["message"]
    assert "hangs" in battery["details"]["stopped"]
    assert battery["details"]["first_failure"]["category"] == "non_finite"


def test_never_ready_fails_deploy_ready_with_a_timeout(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    outcome = validate(fault_server("never-ready"), model_dir, tmp_path, ready_timeout="1.5s")
    assert time.monotonic() - started < 15
    assert outcome.exit_code == EXIT_FAILED
    ready = check(outcome, "deploy.ready")
    assert ready["status"] == "failed"
    assert "timed out after 1.5s" in ready["message"] and "HTTP 503" in ready["message"]
    assert statuses(outcome)["predict.golden"] == "skipped"


def test_v2_disagreeing_with_v1_fails_protocols(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("v2-disagree"), model_dir, tmp_path, robustness=False)
    assert outcome.exit_code == EXIT_FAILED
    result = statuses(outcome)
    assert result["predict.protocols"] == "failed", result
    assert "V2 disagrees with V1" in check(outcome, "predict.protocols")["message"]
    # golden cases run over every protocol spoken: V1 answers right, V2 does not
    golden = check(outcome, "predict.golden")
    assert golden["status"] == "failed" and "over V2" in golden["message"], golden
    assert {f["protocol"] for f in golden["details"]["failures"]} == {"v2"}
    assert result["predict.accuracy"] == "passed"  # accuracy and parity read V1, which is right


def test_v1_only_server_skips_v2_cleanly_and_passes(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("v1-only"), model_dir, tmp_path)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_PASSED, result
    assert result["predict.protocols"] == "skipped"
    assert result["robustness.bad_inputs"] == "passed"
    assert check(outcome, "robustness.bad_inputs")["details"]["v2_tried"] is False
    assert check(outcome, "robustness.parity")["details"]["compared"] == ["the artifact in-process"]


def test_severity_warn_records_findings_without_failing(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("error-500"), model_dir, tmp_path, robustness_severity="warn")
    assert statuses(outcome)["robustness.bad_inputs"] == "warned"
    assert outcome.exit_code == EXIT_PASSED


# --- load faults: the slo.* gates (need harness.load from the load runner) ------------------
def _has_load() -> bool:
    try:
        return hasattr(importlib.import_module("harness.load"), "run_load")
    except ImportError:
        return False


needs_load = pytest.mark.skipif(not _has_load(), reason="harness.load (the load runner) is not available yet")
LOAD: dict[str, Any] = {"load": True, "robustness": False, "duration": "4s", "warmup": "1s", "users": 4, "load_processes": 1, "spawn_rate": 100}


@needs_load
@pytest.mark.load
@pytest.mark.slow
def test_slow_tail_fails_the_latency_gates(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("slow-tail"), model_dir, tmp_path, **LOAD, slo_p95_ms=200, slo_p99_ms=300, slo_error_rate=0.5)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_FAILED, result
    assert result["slo.p99"] == "failed", result
    assert result["slo.error_rate"] == "passed", result


@needs_load
@pytest.mark.load
@pytest.mark.slow
def test_intermittent_5xx_fails_the_error_rate_gate(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("flaky-5xx"), model_dir, tmp_path, **LOAD, slo_error_rate=0.01, slo_p95_ms=1000, slo_p99_ms=2000)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_FAILED, result
    assert result["slo.error_rate"] == "failed", result
