"""No verdict without evidence: every check declares what it counts, a pass without it is an error,
enforced once where the run records results (built-in checks, steps and users' checks alike)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.checks import REGISTRY, CheckContext, Registry, check, vouch
from harness.checks.builtin import register_builtins
from harness.config import load_config
from harness.load.results import LatencySummary, LoadResult
from harness.results import EVIDENCE, CheckResult, CheckStatus, Endpoint
from harness.run.preflight import read_inputs
from harness.run.runner import ValidationRun

register_builtins()


def _all_checks() -> list[str]:
    return REGISTRY.names()


@pytest.mark.parametrize("name", _all_checks())
def test_every_registered_check_declares_its_evidence_and_a_pass_without_it_is_an_error(name: str) -> None:
    declared = REGISTRY.get(name).evidence
    assert declared, f"{name} declares no evidence (Check(..., evidence=(...)))"
    bare = CheckResult(name, CheckStatus.PASSED, "all good")
    assert vouch(bare, declared).status is CheckStatus.ERROR
    full = bare.with_evidence(dict.fromkeys(declared, 3))
    assert vouch(full, declared) == full
    for what in declared:  # any declared count at zero, or missing, is no evidence
        zero = bare.with_evidence({**dict.fromkeys(declared, 3), what: 0})
        assert vouch(zero, declared).status is CheckStatus.ERROR
        missing = bare.with_evidence({w: 3 for w in declared if w != what})
        assert vouch(missing, declared).status is CheckStatus.ERROR


def test_vouch_says_what_was_missing_and_keeps_the_message() -> None:
    result = vouch(CheckResult("robustness.parity", CheckStatus.PASSED, "20 generated batches agree: "), ("rows", "comparisons"))
    assert result.status is CheckStatus.ERROR
    assert result.message.startswith("passed with no evidence: it recorded nothing")
    assert "it said: 20 generated batches agree" in result.message
    zero = vouch(CheckResult("x.y", CheckStatus.PASSED, "ok").with_evidence({"rows": 101, "comparisons": 0}), ("rows", "comparisons"))
    assert zero.status is CheckStatus.ERROR and "0 comparisons" in zero.message


@pytest.mark.parametrize("status", [CheckStatus.FAILED, CheckStatus.SKIPPED, CheckStatus.WARNED, CheckStatus.ERROR])
def test_other_outcomes_are_left_alone(status: CheckStatus) -> None:
    result = CheckResult("predict.golden", status, "why")
    assert vouch(result, ("cases",)) is result


def test_with_evidence_merges_counts_and_says_them() -> None:
    result = CheckResult("slo.p95", CheckStatus.PASSED, "p95 12 ms <= 100 ms").with_evidence({"samples": 1200, "none": None}, say=True)
    assert result.evidence == {"samples": 1200}
    assert result.details[EVIDENCE] == {"samples": 1200}
    assert result.message == "p95 12 ms <= 100 ms (1,200 samples)"
    assert result.as_dict()["details"]["evidence"] == {"samples": 1200}
    assert result.with_evidence({"requests": 3}).evidence == {"samples": 1200, "requests": 3}
    one = CheckResult("pipeline.compile", CheckStatus.PASSED, "compiled").with_evidence({"packages": 1, "tasks": 3}, say=True)
    assert one.message == "compiled (1 package, 3 tasks)"


def _load(requests: int, failures: int, samples: int) -> LoadResult:
    latency = LatencySummary(count=samples, p50=5.0, p95=9.0, p99=12.0) if samples else LatencySummary()
    return LoadResult(requests=requests, failures=failures, rps=requests / 2.0, latency_ms=latency, duration_s=2.0)


def _context(tmp_path: Path, load: LoadResult, **settings: Any) -> CheckContext:
    cfg = load_config(cli={"target": "endpoint", "url": "http://127.0.0.1:9", **settings}, env={})
    return CheckContext(cfg, read_inputs(cfg), tmp_path, {"load": load}.__getitem__)


@pytest.mark.parametrize("gate", ["slo.p50", "slo.p95", "slo.p99", "slo.error_rate", "slo.min_rps"])
def test_load_gates_count_what_they_judged(gate: str, tmp_path: Path) -> None:
    settings = {"slo_p50_ms": 100, "slo_p95_ms": 100, "slo_p99_ms": 100, "slo_error_rate": 0.5, "slo_min_rps": 1}
    ctx = _context(tmp_path, _load(1000, 10, 990), **settings)
    entry = REGISTRY.get(gate)
    assert entry.run is not None
    result = entry.run(ctx)
    assert result.status is CheckStatus.PASSED, result.message
    assert vouch(result, entry.evidence) == result
    latency = gate != "slo.error_rate"  # latency and throughput count the successful requests
    assert result.evidence == ({"samples": 990} if latency else {"requests": 1000})
    assert ("990" if latency else "1,000") in result.message


def test_a_run_records_a_users_pass_without_evidence_as_an_error(tmp_path: Path) -> None:
    registry = Registry()

    @check("custom.nothing", registry=registry)
    def nothing(ctx: CheckContext) -> CheckResult:
        return CheckResult("custom.nothing", CheckStatus.PASSED, "looks fine")

    @check("custom.counted", registry=registry, evidence=("rows",))
    def counted(ctx: CheckContext) -> CheckResult:
        return CheckResult("custom.counted", CheckStatus.PASSED, "2 rows answered").with_evidence({"rows": 2})

    @check("custom.short", registry=registry, evidence=("rows", "requests"))
    def short(ctx: CheckContext) -> CheckResult:
        return CheckResult("custom.short", CheckStatus.PASSED, "answered").with_evidence({"rows": 2})

    cfg = load_config(cli={"target": "endpoint", "url": "http://127.0.0.1:9", "load": False, "robustness": False}, env={})
    outcome = ValidationRun(cfg, tmp_path / "report", registry=registry).execute()
    checks = {c.name: c for c in outcome.record.checks}
    assert checks["custom.nothing"].status is CheckStatus.ERROR
    assert checks["custom.nothing"].message == "passed with no evidence: it recorded nothing it sent, compared or measured; it said: looks fine"
    assert checks["custom.counted"].status is CheckStatus.PASSED
    assert checks["custom.short"].status is CheckStatus.ERROR and "no count of requests" in checks["custom.short"].message
    assert outcome.exit_code == 1 and outcome.report["status"] == "failed"


@pytest.mark.e2e  # a whole validation run with a load window
def test_against_a_healthy_server_every_check_passes_with_its_evidence_shown(served: Endpoint, model_dir: Path, tmp_path: Path) -> None:
    """The healthy local server: every check that runs passes, carries each count it declares, and
    its message says a count."""
    cli = {"target": "endpoint", "url": served.base_url, "model_artifact": str(model_dir), "duration": "2s", "warmup": "0.5s",
           "users": 2, "slo_p95_ms": 2000, "slo_p50_ms": 2000, "slo_p99_ms": 5000, "slo_error_rate": 0.01, "slo_min_rps": 1}
    cfg = load_config(cli=cli, env={})
    outcome = ValidationRun(cfg, tmp_path / "report").execute()
    ran = [c for c in outcome.record.checks if c.status is not CheckStatus.SKIPPED]
    assert outcome.exit_code == 0, [(c.name, c.status.value, c.message) for c in ran if c.status is not CheckStatus.PASSED]
    assert {c.name for c in ran} >= {"deploy.ready", "predict.golden", "predict.quality", "predict.parity", "robustness.parity",
                                     "robustness.bad_inputs", "slo.p95", "slo.error_rate", "slo.min_rps"}
    for result in ran:
        declared = REGISTRY.get(result.name).evidence
        assert set(declared) <= set(result.evidence) and all(n > 0 for n in result.evidence.values()), (result.name, result.details)
        said = [n for n in result.evidence.values() if re.search(rf"(?<![\d.:,]){n:,}(?![\d.,])", result.message)]
        assert said, (result.name, result.message, result.evidence)
