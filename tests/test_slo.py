"""SLO gates and baseline comparison: they fail when they should and pass when they should."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main as cli_main
from harness.config import HarnessConfig, SloSettings
from harness.models import CheckStatus
from harness.slo import compare_baseline, evaluate_slos


def _load(p50: float = 5.0, p95: float = 20.0, p99: float = 40.0, requests: int = 10_000, failures: int = 0, rps: float = 500.0) -> dict[str, Any]:
    return {
        "requests": requests, "failures": failures, "rps": rps, "error_rate": failures / requests if requests else 0.0,
        "latency_ms": {"count": requests - failures, "p50": p50, "p90": p95 * 0.8, "p95": p95, "p99": p99, "p999": p99 * 2, "max": p99 * 3},
        "failures_by_kind": [{"name": "v1", "status": 500, "message": "HTTPError: 500", "count": failures}] if failures else [],
    }


def _report(**load: Any) -> dict[str, Any]:
    return {"schema_version": 1, "started_at": "2026-11-28T10:00:00Z", "target": "local", "environment": {"git_commit": "abc"}, "load": _load(**load)}


def _by_name(checks: list[Any]) -> dict[str, Any]:
    return {c.name: c for c in checks}


def test_default_gates_pass_a_healthy_run() -> None:
    checks = _by_name(evaluate_slos(_load(), HarnessConfig().slo))
    assert set(checks) == {"slo.p95", "slo.p99", "slo.error_rate"}  # defaults: p95, p99, error rate
    assert all(c.status is CheckStatus.PASSED for c in checks.values()), checks
    assert checks["slo.p95"].message == "p95 20.0 ms <= 100 ms"


def test_a_slow_run_fails_p95_with_a_readable_message() -> None:
    checks = _by_name(evaluate_slos(_load(p95=312.4, p99=400.0), HarnessConfig().slo))
    assert checks["slo.p95"].failed and checks["slo.p95"].message == "p95 312.4 ms > 100 ms"
    assert checks["slo.p99"].failed and checks["slo.p99"].message == "p99 400.0 ms > 250 ms"


def test_error_rate_gate_names_the_most_frequent_failure() -> None:
    checks = _by_name(evaluate_slos(_load(failures=20), HarnessConfig().slo))
    message = checks["slo.error_rate"].message
    assert checks["slo.error_rate"].failed
    assert message.startswith("error rate 0.2 % (20/10000) > 0.1 %") and "HTTP 500" in message


def test_optional_gates_only_when_configured() -> None:
    cfg = HarnessConfig(slo=SloSettings(p50_ms=4.0, min_rps=600.0, p99_ms=None))
    checks = _by_name(evaluate_slos(_load(), cfg.slo))
    assert "slo.p99" not in checks
    assert checks["slo.p50"].failed and checks["slo.p50"].message == "p50 5.0 ms > 4 ms"
    assert checks["slo.min_rps"].failed and checks["slo.min_rps"].message == "throughput 500.0 req/s < 600 req/s"
    ok = _by_name(evaluate_slos(_load(rps=700.0, p50=3.0), cfg.slo))
    assert not ok["slo.min_rps"].failed and not ok["slo.p50"].failed


def test_nothing_measured_fails_rather_than_passes() -> None:
    load = _load(requests=0)
    load["latency_ms"] = {k: None for k in load["latency_ms"]}
    checks = _by_name(evaluate_slos(load, HarnessConfig().slo))
    assert checks["slo.p95"].failed and checks["slo.error_rate"].failed


def test_baseline_regression_past_tolerance_fails() -> None:
    comparison, checks = compare_baseline(_report(p95=26.0, p99=44.0), _report(p95=20.0, p99=40.0), 0.2)
    by = _by_name(checks)
    assert by["baseline.p95"].failed and "+30.0%" in by["baseline.p95"].message
    assert not by["baseline.p99"].failed  # +10 % is within 20 %
    assert not by["baseline.error_rate"].failed
    assert comparison.regressed == ["p95"] and comparison.tolerance == 0.2
    p95 = next(m for m in comparison.metrics if m.name == "p95")
    assert dataclasses.asdict(p95) == {"name": "p95", "baseline": 20.0, "current": 26.0, "change": 0.3, "gated": True, "regressed": True}


def test_baseline_error_rate_from_zero() -> None:
    _, small = compare_baseline(_report(failures=5), _report(), 0.2)  # 0.05 %: tolerated
    _, large = compare_baseline(_report(failures=50), _report(), 0.2)  # 0.5 %: regression
    assert not _by_name(small)["baseline.error_rate"].failed
    assert _by_name(large)["baseline.error_rate"].failed


def test_faster_run_passes_the_baseline() -> None:
    comparison, checks = compare_baseline(_report(p95=10.0, p99=20.0), _report(), 0.2)
    assert not any(c.failed for c in checks) and comparison.regressed == []


def test_compare_command_exits_1_on_regression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, good, bad = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    base.write_text(json.dumps(_report()))
    good.write_text(json.dumps(_report(p95=21.0)))
    bad.write_text(json.dumps(_report(p99=80.0)))
    assert cli_main(["compare", str(base), str(good)]) == 0
    assert "no regression" in capsys.readouterr().out
    assert cli_main(["compare", str(base), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED" in out and "regression: p99" in out
    assert cli_main(["compare", str(base), str(bad), "--tolerance", "150%"]) == 0


def test_compare_command_rejects_a_report_without_load(tmp_path: Path) -> None:
    empty = tmp_path / "e.json"
    empty.write_text(json.dumps({"schema_version": 1, "load": None}))
    assert cli_main(["compare", str(empty), str(empty)]) == 2
