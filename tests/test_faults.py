"""The harness catches broken deployments: each injected fault fails the right check.

Every test runs a whole validation (target ``endpoint``) against :mod:`tests.helpers.fault_server`
with one fault, and asserts exit code 1 and the check that must fail; the healthy server
passes with exit 0. These are the harness's own mutation tests: if a check stops
catching its fault, a test here fails.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.errors import EXIT_FAILED, EXIT_PASSED
from harness.run.runner import RunOutcome, run_validation
from tests.helpers.fault_server import FaultServer

# A short ready timeout and the ci profile keep each run to seconds. The request timeout is
# the default 10 s: the battery's large valid requests (a 4 MiB body) get the run's
# request_timeout, and the pure-Python fault server can take seconds for one under CPU
# contention; the other battery requests keep the ci profile's 3 s.
FAST: dict[str, Any] = {
    "target": "endpoint",
    "load": False,
    "request_timeout": "10s",
    "ready_timeout": "3s",
    "robustness_profile": "ci",
}
VERIFY = ("predict.golden", "predict.quality", "predict.parity", "predict.protocols")
# what the error-500 server answers 500 to: every category it answers 400 when healthy
# (415, 404 and 405 answers stay), numeric strings in a V2 tensor included
ERROR_500_CATEGORIES = {
    "invalid_json", "wrong_top_level", "instances_not_list", "ragged_rows", "wrong_feature_count", "strings",
    "booleans", "nulls", "non_finite", "empty_batch", "deep_nesting", "bad_tensor", "coercible_values",
}


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
    assert battery["total_requests"] >= 100 and battery["protocols"] == ["v1", "v2"]
    # the strict server serves the valid unusual requests: large batch and body, FP16 and booleans
    answers = battery["unusual"]["statuses"]
    assert answers["large_batch"] == {"200": 2} and answers["large_body"] == {"200": 2}, answers
    assert answers["coercible_values"] == {"200": 2, "400": 1}, answers  # numeric strings: declined
    assert battery["unusual"]["passed_as"] == {"answered": 8, "declined": 4}
    assert set(battery["malformed"]["statuses"]["wrong_method"]) == {"405"}
    assert (tmp_path / "report" / "robustness.json").is_file()


def test_wrong_predictions_fail_golden_and_accuracy(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("wrong-predictions"), model_dir, tmp_path, robustness=False)
    assert outcome.exit_code == EXIT_FAILED
    result = statuses(outcome)
    assert result["predict.golden"] == "failed" and result["predict.quality"] == "failed", result
    assert "expected 1, got 2" in check(outcome, "predict.golden")["message"]


def _findings(battery: dict[str, Any]) -> list[dict[str, Any]]:
    details = battery["details"]
    return [*details["malformed"]["findings"], *details["unusual"]["findings"]]


def test_500_on_malformed_input_fails_bad_inputs_with_a_shrunk_example(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("error-500"), model_dir, tmp_path)
    assert outcome.exit_code == EXIT_FAILED
    result = statuses(outcome)
    assert result["robustness.bad_inputs"] == "failed"
    assert all(result[name] == "passed" for name in VERIFY), result
    battery = check(outcome, "robustness.bad_inputs")
    assert "server error HTTP 500" in battery["message"]
    findings = _findings(battery)
    assert {f["category"] for f in findings} == ERROR_500_CATEGORIES
    assert {f["protocol"] for f in findings} == {"v1", "v2"}
    assert all(f["status"] == 500 and '"error"' in f["body"] for f in findings)
    unusual = battery["details"]["unusual"]["findings"]
    assert [(f["category"], f["request"]["note"]) for f in unusual] == [("coercible_values", "numeric strings in an FP32 tensor")]
    # hypothesis shrank the generated ragged batch to (nearly) the smallest one
    ragged = next(f for f in findings if f["category"] == "ragged_rows" and f["protocol"] == "v1")
    assert ragged["source"] == "generated (shrunk)"
    assert len(ragged["request"]["body"]) <= len('{"instances":[[],[0.0]]}'), ragged
    # a body that is not UTF-8 is kept exactly, and the finding says how to send it again
    assert all(f["request"]["replay"].startswith("curl") for f in findings)
    saved = json.loads((tmp_path / "report" / "robustness.json").read_text())
    assert saved["checks"][1]["details"]["malformed"]["findings"] == battery["details"]["malformed"]["findings"]


def _accept(tmp_path: Path, categories: set[str]) -> Path:
    path = tmp_path / "accepted.toml"
    path.write_text("".join(f'[[accept]]\ncategory = "{c}"\nstatus = 500\nreason = "stock runtime answers 500 (TICKET-1)"\n\n' for c in sorted(categories)))
    return path


def test_accepted_findings_list_known_500s_without_failing(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    server = fault_server("error-500")
    outcome = validate(server, model_dir, tmp_path / "all", accepted_findings=str(_accept(tmp_path, ERROR_500_CATEGORIES | {"unknown_model"})))
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_PASSED, check(outcome, "robustness.bad_inputs")["message"]
    assert result["robustness.bad_inputs"] == "passed"
    battery = check(outcome, "robustness.bad_inputs")
    assert _findings(battery) == []
    accepted = battery["details"]["accepted"]
    assert {f["category"] for f in accepted} == ERROR_500_CATEGORIES
    assert all(f["accepted"]["reason"] == "stock runtime answers 500 (TICKET-1)" for f in accepted)
    assert "accepted finding(s) in 13 categories" in battery["message"] and "nulls over V1 and V2 (HTTP 500)" in battery["message"]
    # the entry that matched nothing is stale: reported, not failed
    assert [e["category"] for e in battery["details"]["accepted_stale"]] == ["unknown_model"]
    assert "stale" in battery["message"] and "unknown_model" in battery["message"]
    report_dir = tmp_path / "all" / "report"
    saved = json.loads((report_dir / "robustness.json").read_text())
    assert saved["accepted_findings"]["stale"][0]["category"] == "unknown_model"
    assert {f["category"] for f in saved["checks"][1]["details"]["accepted"]} == ERROR_500_CATEGORIES
    for view in ("summary.md", "report.html", "junit.xml"):
        assert "accepted finding(s)" in (report_dir / view).read_text(), view

    missing = "ragged_rows"
    outcome = validate(server, model_dir, tmp_path / "one-missing", accepted_findings=str(_accept(tmp_path, ERROR_500_CATEGORIES - {missing})))
    assert outcome.exit_code == EXIT_FAILED
    battery = check(outcome, "robustness.bad_inputs")
    assert battery["status"] == "failed"
    assert {f["category"] for f in _findings(battery)} == {missing}
    assert f"{missing} over V1" in battery["message"] and "accepted finding(s) in 12 categories" in battery["message"]


def test_a_large_batch_answered_wrong_fails_bad_inputs(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("large-batch-wrong"), model_dir, tmp_path)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_FAILED, result
    assert result["robustness.bad_inputs"] == "failed"
    assert all(result[name] == "passed" for name in (*VERIFY, "robustness.parity")), result  # small batches are right
    battery = check(outcome, "robustness.bad_inputs")
    findings = battery["details"]["unusual"]["findings"]
    assert {(f["category"], f["protocol"]) for f in findings} == {(c, p) for c in ("large_batch", "large_body") for p in ("v1", "v2")}
    assert all("wrong predictions" in f["problem"] and f["status"] == 200 for f in findings)
    assert "20000 of 20000 predictions differ: row 0: expected 1, got 2" in battery["message"]
    assert battery["details"]["malformed"]["findings"] == []


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
    # quality and parity run over every protocol spoken too (issue 12): V2's answers fail them, named
    quality = check(outcome, "predict.quality")
    assert quality["status"] == "failed" and quality["details"]["protocol"] == "v2", quality
    assert quality["details"]["by_protocol"]["v1"]["accuracy"] >= 0.9


def test_v1_only_server_skips_v2_cleanly_and_passes(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("v1-only"), model_dir, tmp_path)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_PASSED, result
    assert result["predict.protocols"] == "skipped"
    assert result["robustness.bad_inputs"] == "passed"
    battery = check(outcome, "robustness.bad_inputs")["details"]
    assert battery["protocols"] == ["v1"]
    assert {p for kind in ("malformed", "unusual") for per in battery[kind]["requests"].values() for p in per} == {"v1"}
    assert check(outcome, "robustness.parity")["details"]["compared"] == ["V1 vs the artifact in-process"]


def test_v2_only_server_like_mlserver_passes_over_v2(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    """A healthy V2-only server: no V1 request is expected to succeed, none is a finding."""
    outcome = validate(fault_server("v2-only"), model_dir, tmp_path)
    result = statuses(outcome)
    expected = {"deploy.ready", "predict.golden", "predict.quality", "predict.parity", "robustness.parity", "robustness.bad_inputs"}
    assert {k: v for k, v in result.items() if k in expected} == dict.fromkeys(expected, "passed"), result
    assert outcome.exit_code == EXIT_PASSED
    assert result["predict.protocols"] == "skipped"
    battery = check(outcome, "robustness.bad_inputs")["details"]
    assert battery["protocols"] == ["v2"] and battery["seed_case"]["after"] == {"v2": [1, 1]}
    assert {p for kind in ("malformed", "unusual") for per in battery[kind]["requests"].values() for p in per} == {"v2"}
    assert "booleans" not in battery["malformed"]["requests"]  # a V1-only category
    assert battery["unusual"]["statuses"]["coercible_values"] == {"200": 2, "400": 1}
    assert check(outcome, "robustness.parity")["details"]["compared"] == ["V2 vs the artifact in-process"]


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
def test_slow_tail_fails_the_latency_gates(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("slow-tail"), model_dir, tmp_path, **LOAD, slo_p95_ms=200, slo_p99_ms=300, slo_error_rate=0.5)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_FAILED, result
    assert result["slo.p99"] == "failed", result
    assert result["slo.error_rate"] == "passed", result


@needs_load
@pytest.mark.load
def test_intermittent_5xx_fails_the_error_rate_gate(fault_server: Callable[[str], FaultServer], model_dir: Path, tmp_path: Path) -> None:
    outcome = validate(fault_server("flaky-5xx"), model_dir, tmp_path, **LOAD, slo_error_rate=0.01, slo_p95_ms=1000, slo_p99_ms=2000)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_FAILED, result
    assert result["slo.error_rate"] == "failed", result
