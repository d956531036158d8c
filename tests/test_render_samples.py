"""Report dicts for the rendering tests: a passing run, a failing run with load, an early stop.

Shaped like ``report.json`` schema 3 (``RunRecord.as_dict()``); :func:`as_schema_1` turns one
into what a schema-1 writer wrote (the ``slo`` list, ``cleanup`` null). No tests here; the
render tests import these.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from harness.load.capacity import CapacityResult, Step
from harness.load.resources import Series

TIMELINE_SECONDS = 30


#: the built-in iris contract as report.json keeps it (issue 13)
IRIS_CONTRACT = {
    "name": "iris", "task": "classification", "source": "built-in iris",
    "features": [{"name": n, "dtype": "float", "low": lo, "high": hi} for n, lo, hi in
                 (("sepal_length", 4.3, 7.9), ("sepal_width", 2.0, 4.4), ("petal_length", 1.0, 6.9), ("petal_width", 0.1, 2.5))],
    "classes": [0, 1, 2], "golden_cases": 1, "data": "scikit-learn's iris", "rows": 150,
    "thresholds": {"min_accuracy": 0.9, "min_recall": None, "max_mae": None, "max_rmse": None, "min_r2": None},
}


def _check(name: str, status: str, message: str, duration: float = 0.1, **details: Any) -> dict[str, Any]:
    return {"name": name, "status": status, "message": message, "duration_s": duration, "details": details}


def _base(status: str, exit_code: int | None, error: str | None = None) -> dict[str, Any]:
    return {
        "schema_version": 3,
        "tool": "mlharness",
        "diff": None,  # the release diff (issue 21): null without a candidate
        "status": status,
        "exit_code": exit_code,
        "target": "local",
        "started_at": "2026-11-28T11:40:29.121Z",
        "finished_at": "2026-11-28T11:41:21.500Z",
        "duration_s": 52.379,
        "error": error,
        "config": {"target": "local", "users": 8, "duration": 30.0, "token": "***", "load": True},
        "environment": {
            "mlharness": "0.1.0",
            "python": "3.11.7",
            "platform": "Linux-6.1-x86_64-with-glibc2.36",
            "host": "ci-runner-7",
            "cpus": 2,
            "packages": {"kfp": "2.17.3", "kserve": "0.21.0", "scikit-learn": "1.9.1", "locust": "2.46.6", "kubernetes": "30.1.0", "numpy": "2.4.6"},
            "git_commit": "36f91e0c0ffee1234567890abcdef1234567890a",
            "argv": ["mlharness", "run"],
        },
        "phases": {"provision": 0.0, "compile": 0.757, "lint": 0.027, "pipeline": 5.602, "deploy": 2.384, "verify": 1.396, "load": 32.1, "teardown": 0.717},
        "pipeline": {
            "pipeline_name": "iris",
            "run_id": "iris-2026-11-28-11-40-30-673101",
            "succeeded": True,
            "tasks": [
                {"name": "load", "state": "succeeded", "artifacts": {"data": "/tmp/r/pipeline-root/load/data"}, "metrics": {}, "duration_s": 1.2, "log_path": None},
                {"name": "train", "state": "succeeded", "artifacts": {"model": "/tmp/r/pipeline-root/train/model"}, "metrics": {"n_train": 105.0}, "duration_s": 2.1, "log_path": None},
                {"name": "evaluate", "state": "succeeded", "artifacts": {}, "metrics": {"accuracy": 0.9555555555555556}, "duration_s": None, "log_path": None},
            ],
            "model_uri": "/tmp/r/pipeline-root/train/model",
            "metrics": {"accuracy": 0.9555555555555556},
            "duration_s": 5.525,
            "message": "",
        },
        "lint": [],
        "endpoint": {"base_url": "http://127.0.0.1:40645", "model_name": "sklearn-iris", "headers": {}, "protocols": ["v1", "v2"], "description": "local KServe model server",
                     "tls_verify": True, "readiness": "ready over V1 and V2", "grpc_url": None,
                     "signature": {"codec": "tensor", "inputs": [{"name": "input-0", "datatype": "FP32", "shape": [-1, 4]}], "outputs": [],
                                   "version": None, "max_batch_size": None,
                                   "sources": {"metadata": "the server's metadata (GET /v2/models/sklearn-iris) lists no inputs",
                                               "width": "the contract (built-in iris)"}}},
        "contract": IRIS_CONTRACT,
        "checks": [
            _check("pipeline.compile", "passed", "compiled builtin:iris to pipeline.yaml", 0.755),
            _check("pipeline.lint", "passed", "no findings", 0.0),
            _check("pipeline.run", "passed", "3 tasks succeeded in 5.5s", 5.525),
            _check("deploy.ready", "passed", "sklearn-iris ready at http://127.0.0.1:40645", 2.382),
            _check("predict.golden", "passed", "1 golden case(s) answer as expected", 0.009),
            _check("predict.quality", "passed", "accuracy 0.9667 >= 0.9 on 150 labelled rows", 1.252),
        ],
        "load": None,
        "baseline": None,
        "capacity": None,
        "resources": None,
        "cleanup": {"teardown": "done"},
        "artifacts": {},
    }


def passing_report() -> dict[str, Any]:
    """A clean run without load (``--no-load``)."""
    return _base("passed", 0)


def _timeline() -> list[dict[str, Any]]:
    rows = []
    for t in range(1, TIMELINE_SECONDS + 1):
        wave = math.sin(t / 4)
        failures = 3 if t in (17, 18) else 0
        rows.append(
            {"t": t, "requests": 400 + int(30 * wave), "failures": failures,
             "p50_ms": round(8 + 2 * wave, 2), "p95_ms": round(40 + 25 * wave + (70 if t in (17, 18) else 0), 2)}
        )
    rows[9]["p50_ms"] = rows[9]["p95_ms"] = None  # a second without a successful request: a gap
    return rows


def failing_report() -> dict[str, Any]:
    """A finished run with load, SLO gates and a baseline: one SLO and one prediction fail."""
    report = _base("failed", 1)
    report["lint"] = [
        {"rule": "unpinned-image", "severity": "warning", "message": "base image python:3.11 is not pinned by digest", "location": "train"},
        {"rule": "no-cache-key", "severity": "info", "message": "task caching is on but no cache key is set", "location": "load"},
    ]
    report["checks"] += [
        _check("predict.parity", "failed", "served != in-process on 3 of 150 rows: <script>alert(1)</script> row 7", 0.07, rows=[7, 9, 12]),
        _check("predict.protocols", "passed", "V1 and V2 agree on all 150 iris rows", 0.03),
        _check("robustness.malformed", "warned", "2 payloads answered 500 instead of 4xx", 3.2),
        _check("robustness.oversized", "skipped", "profile ci skips oversized payloads", 0.0),
        _check("load.run", "passed", "12,050 requests in 30 s", 32.1),
        _check("slo.p95", "failed", "p95 110 ms > 100 ms", 0.0, value=110.4, threshold=100.0, unit="ms", basis="response"),
        _check("slo.p99", "passed", "p99 180 ms <= 250 ms", 0.0, value=180.2, threshold=250.0, unit="ms", basis="response"),
        _check("slo.error_rate", "passed", "error rate 0.0498 % (6/12,050) <= 0.1 %", 0.0, value=0.000498, threshold=0.001, unit="ratio", requests=12050, failures=6),
        _check("baseline.p95", "error", "baseline file has no p95", 0.0),
    ]
    report["cleanup"] = {"diagnostics": "timed out after 60s", "teardown": "failed: kind delete cluster exited 1"}
    timeline = _timeline()
    report["load"] = {
        "generator": "locust FastHttpUser", "locust_version": "2.46.6", "via": "direct", "protocol": "mixed",
        "batch_size": 1, "users": 8, "spawn_rate": 50.0, "rate": None, "processes": 2, "duration_s": 32.0,
        "warmup_s": 2.0, "measured_s": 30.0, "startup_s": 1.4, "requests": 12050, "failures": 6,
        "error_rate": 0.000498, "rps": 401.7, "latency_basis": "response",
        "latency_ms": {"count": 12044, "min": 1.02, "mean": 14.2, "p50": 8.1, "p90": 61.0, "p95": 110.4, "p99": 180.2, "p999": 240.9, "max": 312.5},
        "service_time_ms": None,
        "by_protocol": {
            "v1": {"requests": 6020, "failures": 4, "p50": 8.0, "p95": 108.0, "p99": 179.0},
            "v2": {"requests": 6030, "failures": 2, "p50": 8.2, "p95": 112.1, "p99": 181.5},
        },
        "failures_by_kind": [
            {"name": "v1", "status": 503, "message": "HTTP 503: upstream connect error", "count": 4},
            {"name": "v2", "status": 0, "message": "ReadTimeout", "count": 2},
        ],
        "timeline": timeline, "warmup_requests": 812, "late_requests": 0, "workers": 2, "complete": True,
        "histogram": "HISTFAAAAB54nJNpmSzMwMDAxQABzFCaEUzOmNZg/wEi0AwAOpwDgw==",
        "files": {"master_log": "load/locust-master.log", "results": "load/results"},
        "answered": 12044, "unfinished": 8, "unfinished_failed": 0, "users_configured": 8, "stalls": [],
    }
    report["baseline"] = {
        "baseline": {"started_at": "2026-11-20T09:12:00.000Z", "git_commit": "0a93065aaaabbbbccccddddeeeeffff000011112", "target": "local"},
        "tolerance": 0.2,
        "metrics": [
            {"name": "p50", "baseline": 7.9, "current": 8.1, "change": 0.0253, "gated": False, "regressed": False},
            {"name": "p95", "baseline": 80.0, "current": 110.4, "change": 0.38, "gated": True, "regressed": True},
            {"name": "error_rate", "baseline": 0.0004, "current": 0.0005, "change": 0.245, "gated": True, "regressed": False},
            {"name": "rps", "baseline": 395.0, "current": 401.7, "change": 0.017, "gated": False, "regressed": False},
        ],
        "regressed": ["p95"],
    }
    report["capacity"] = capacity_sample()
    report["config"].update(slo_p95_ms=100.0, slo_p99_ms=250.0, capacity=True)  # the limits the capacity curve draws
    report["resources"] = Series(
        tuple(float(t) for t in range(1, 31)), tuple(80.0 + (t % 5) for t in range(30)), tuple(210.0 + 0.5 * t for t in range(30)),
        (2,) * 30, busiest_cpu_percent=tuple(60.0 + (t % 5) for t in range(30)),
    ).as_dict()
    return report


def capacity_sample() -> dict[str, Any]:
    """A capacity search that found 396 req/s, broken above by p95 and by not keeping up."""
    steps = (
        Step(200.0, 199.5, 3.1, 6.2, 9.5, 0.0, 1396, 7.0, generator_cpu_percent=31.0, users=100),
        Step(300.0, 299.1, 3.4, 8.8, 14.1, 0.0, 2094, 7.0, generator_cpu_percent=44.0, users=150),
        Step(450.0, 401.2, 80.2, 412.5, 530.9, 0.002, 2808, 7.0, generator_cpu_percent=58.0, users=225,
             broken_by=("p95 412.5 ms > 100 ms", "p99 530.9 ms > 250 ms", "achieved 401.2 req/s < 95% of 450 offered")),
        Step(375.0, 373.9, 4.9, 31.0, 66.2, 0.0, 2617, 7.0, generator_cpu_percent=51.0, users=188),
        Step(412.5, 396.0, 7.7, 95.1, 180.4, 0.0, 2772, 7.0, generator_cpu_percent=55.0, users=207),
    )
    return CapacityResult(396.0, 412.5, 375.0, "slo", steps, 401.0, 52.4,
                          "396 req/s at SLO (offered 412.5); 450 req/s breaks it: p95 412.5 ms > 100 ms").as_dict()


def interrupted_report() -> dict[str, Any]:
    """Ctrl-C during provisioning: no pipeline, no endpoint, no load, one check."""
    report = _base("interrupted", 130, "interrupted")
    report.update(pipeline=None, endpoint=None, load=None, baseline=None, lint=[], finished_at=None, cleanup={})
    report["phases"] = {"provision": 1.5}
    report["checks"] = [_check("pipeline.compile", "passed", "compiled builtin:iris to pipeline.yaml", 0.7)]
    report["environment"]["git_commit"] = None
    return report


def as_schema_1(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` as a schema-1 writer wrote it: the ``slo.*`` checks copied into ``slo``, no cleanup yet."""
    old = copy.deepcopy(report)
    old["schema_version"] = 1
    old["slo"] = [{k: c[k] for k in ("name", "status", "message", "details")} for c in old["checks"] if c["name"].startswith("slo.")]
    old["cleanup"] = None
    return old


def all_samples() -> dict[str, dict[str, Any]]:
    return {"passing": passing_report(), "failing": failing_report(), "interrupted": interrupted_report()}


def copy_of(report: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(report)
