"""The harness's verdicts on software it did not write: a healthy foreign server passes what it
does right, fails what it does wrong, and each injected fault fails on its own check.

Each test runs the ``mlharness`` command (a child process, as a user would) with
``--target endpoint`` against a third-party server started on 127.0.0.1 by the fixtures in
``conftest.py``, and reads the verdicts from ``report.json``.
"""

from __future__ import annotations

import json
import random
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.reports.writer import load_report

from .servers import ForeignServer

VERIFY = ("deploy.ready", "predict.golden", "predict.quality", "predict.parity")


def run(server: ForeignServer, report_dir: Path, *extra: str, artifact: Path | None = None) -> tuple[int, dict[str, Any], str]:
    """``mlharness run --target endpoint`` against ``server``: exit code, report, console."""
    argv = [
        sys.executable, "-m", "harness", "run", "--target", "endpoint", "--url", server.base_url,
        "--model-name", server.model_name, "--model-artifact", str(artifact or server.model_artifact),
        "--report-dir", str(report_dir), "--ready-timeout", "30s", *extra,
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, load_report(report_dir), proc.stdout + proc.stderr


def checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def test_mlserver_passes_verification_and_the_slo_over_v2_alone(mlserver: ForeignServer, tmp_path: Path) -> None:
    """MLServer speaks only V2: every verification check and SLO gate passes over it, with no V1."""
    code, report, console = run(mlserver, tmp_path / "r", "--no-robustness", "--duration", "6s", "--warmup", "1s",
                                "--users", "4", "--slo-p95-ms", "500", "--slo-p99-ms", "1000")
    result = checks(report)
    for name in VERIFY:
        assert result[name]["status"] == "passed", (name, result[name]["message"], console[-2000:])
    assert result["deploy.ready"]["details"]["protocols"] == ["v2"]
    assert "ready over V2" in result["deploy.ready"]["message"] and "V1 not ready or not spoken" in result["deploy.ready"]["message"]
    assert "over V2" in result["predict.golden"]["message"]
    assert result["predict.protocols"]["status"] == "skipped" and "speaks only V2" in result["predict.protocols"]["message"]
    slo = {n: c["status"] for n, c in result.items() if n.startswith("slo.")}
    assert {slo["slo.p95"], slo["slo.p99"], slo["slo.error_rate"]} == {"passed"}, slo
    assert set(slo.values()) <= {"passed", "skipped"}, slo  # p50 and min_rps: no threshold set
    load = report["load"]
    assert load["requests"] > 0 and load["protocol"] == "v2" and set(load["by_protocol"]) == {"v2"}, load.get("by_protocol")
    assert code == 0, console[-2000:]


def test_mlserver_robustness_findings_are_its_real_500s_and_replayable(mlserver: ForeignServer, tmp_path: Path) -> None:
    code, report, _ = run(mlserver, tmp_path / "r", "--no-load")
    bad = checks(report)["robustness.bad_inputs"]
    assert code == 1 and bad["status"] == "failed"
    findings = bad["details"]["malformed"]["findings"]
    assert findings and all(f["protocol"] == "v2" for f in findings)
    assert any(f["status"] == 500 for f in findings), findings
    for finding in findings:  # the exact request, to replay with curl (or its hash, when large)
        request = finding["request"]
        assert "body_sha256" in request or ("curl" in request["replay"] and "/v2/models/sklearn-iris/" in request["replay"]), request
    # valid-but-unusual requests (a 20,000-row batch, coercible values) are not held against it
    assert not bad["details"]["unusual"]["findings"], bad["details"]["unusual"]["findings"]


def test_mlserver_with_its_500s_accepted_passes_and_lists_them(mlserver: ForeignServer, tmp_path: Path) -> None:
    _, first, _ = run(mlserver, tmp_path / "first", "--no-load")
    categories = sorted({f["category"] for f in checks(first)["robustness.bad_inputs"]["details"]["malformed"]["findings"]})
    accepted = tmp_path / "accepted.toml"
    accepted.write_text("".join(f'[[accept]]\ncategory = "{c}"\nreason = "MLServer 1.7.1 answers 500 (SeldonIO/MLServer)"\n\n' for c in categories))
    code, report, console = run(mlserver, tmp_path / "r", "--no-load", "--accepted-findings", str(accepted))
    bad = checks(report)["robustness.bad_inputs"]
    assert code == 0 and bad["status"] == "passed", (bad["message"], console[-2000:])
    assert "accepted" in bad["message"]
    # one category less: the finding left out fails again, by name
    accepted.write_text("".join(f'[[accept]]\ncategory = "{c}"\nreason = "known"\n\n' for c in categories[1:]))
    code, report, _ = run(mlserver, tmp_path / "r2", "--no-load", "--accepted-findings", str(accepted))
    bad = checks(report)["robustness.bad_inputs"]
    assert code == 1 and categories[0] in bad["message"]


def test_mlserver_serving_a_wrong_model_fails_golden_accuracy_and_parity(mlserver_faulty: ForeignServer, iris_model_dir: Path, tmp_path: Path) -> None:
    code, report, _ = run(mlserver_faulty, tmp_path / "r", "--no-load", "--no-robustness", artifact=iris_model_dir / "model.joblib")
    result = checks(report)
    assert code == 1 and result["deploy.ready"]["status"] == "passed"
    for name in ("predict.golden", "predict.quality", "predict.parity"):
        assert result[name]["status"] == "failed", (name, result[name]["message"])
    assert "expected 1, got 2" in result["predict.golden"]["message"]


def test_stock_kserve_passes_verification_over_v1_and_v2_and_its_500s_are_found(kserve_stock: ForeignServer, tmp_path: Path) -> None:
    code, report, _ = run(kserve_stock, tmp_path / "r", "--no-load")
    result = checks(report)
    for name in (*VERIFY, "predict.protocols"):
        assert result[name]["status"] == "passed", (name, result[name]["message"])
    assert result["deploy.ready"]["details"]["protocols"] == ["v1", "v2"]
    bad = result["robustness.bad_inputs"]
    assert code == 1 and bad["status"] == "failed"
    statuses = {f["status"] for f in bad["details"]["malformed"]["findings"]}
    assert 500 in statuses, statuses


def test_stock_kserve_serving_a_wrong_model_fails_over_both_protocols(kserve_stock_faulty: ForeignServer, iris_model_dir: Path, tmp_path: Path) -> None:
    _, report, _ = run(kserve_stock_faulty, tmp_path / "r", "--no-load", "--no-robustness", artifact=iris_model_dir / "model.joblib")
    golden = checks(report)["predict.golden"]
    assert golden["status"] == "failed"
    assert {f["protocol"] for f in golden["details"]["failures"]} == {"v1", "v2"}


def test_a_long_session_cookie_leaves_no_piece_in_any_file(mlserver: ForeignServer, tmp_path: Path) -> None:
    cookie = "".join(random.Random(3).choices(string.ascii_letters + string.digits, k=420))
    code, _, console = run(mlserver, tmp_path / "r", "--duration", "3s", "--warmup", "1s", "--users", "2",
                           "--cookie", f"oauth2_proxy_kubeflow={cookie}")
    assert code in (0, 1), console[-2000:]
    pieces = {cookie[i : i + 12] for i in range(len(cookie) - 11)}
    assert not [p for p in pieces if p in console]
    files = [p for p in (tmp_path / "r").rglob("*") if p.is_file()]
    assert any(p.name == "report.json" for p in files) and any("load" in p.parts for p in files)
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert not [p for p in pieces if p in text], f"a piece of the cookie in {path}"
    json.loads((tmp_path / "r" / "report.json").read_text())
