"""The view of a ``report.json`` that the templates receive: plain, complete, tolerant data.

``report.json`` may come from a run that stopped anywhere (no pipeline, no load, status
``running``), from an older writer, or may have been edited by hand. Everything that can
be missing or of the wrong type is normalised here, once, so the templates can use
``StrictUndefined`` and stay free of defensive logic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.reports import plots

CHECK_STATUSES = ("passed", "failed", "error", "warned", "skipped")
FAILING = ("failed", "error")
ENV_PACKAGES = ("kfp", "kserve", "scikit-learn", "locust", "kubernetes", "numpy")
VERDICTS = {
    "passed": "PASSED",
    "failed": "FAILED",
    "error": "ERROR",
    "interrupted": "INTERRUPTED",
    "running": "INCOMPLETE",
}


def num(value: Any) -> float | None:
    """A finite number, or None for anything else (missing, text, NaN, bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: Any) -> str:
    """Any value as display text ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(text(v) for v in value)
    return str(value)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def checks_view(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The checks in run order, each with name, group, status, duration and message."""
    rows = []
    for check in _list(report.get("checks")):
        check = _map(check)
        name = text(check.get("name")) or "(unnamed)"
        status = text(check.get("status")).lower()
        rows.append(
            {
                "name": name,
                "group": name.split(".", 1)[0] if "." in name else "mlharness",
                "status": status if status in CHECK_STATUSES else "error",
                "duration_s": num(check.get("duration_s")),
                "message": text(check.get("message")),
            }
        )
    return rows


def counts(checks: list[dict[str, Any]]) -> dict[str, int]:
    """How many checks ended in each status, plus ``total``."""
    result = {status: sum(1 for c in checks if c["status"] == status) for status in CHECK_STATUSES}
    result["total"] = len(checks)
    return result


def verdict(report: Mapping[str, Any], checks: list[dict[str, Any]]) -> dict[str, Any]:
    """The banner: the run status, a one-line explanation and the error, if any."""
    status = text(report.get("status")).lower() or "running"
    if status not in VERDICTS:
        status = "error"
    n = counts(checks)
    failing = [c["name"] for c in checks if c["status"] in FAILING]
    if status == "passed":
        line = f"All {n['passed']} checks that ran passed" if n["passed"] else "No check ran"
        extras = [f"{n['warned']} with warnings" if n["warned"] else "", f"{n['skipped']} skipped" if n["skipped"] else ""]
        line += "".join(f", {e}" for e in extras if e) + "."
    elif status == "failed":
        line = f"{len(failing)} of {n['total']} checks failed: {', '.join(failing)}." if failing else "A gate failed."
    elif status == "error":
        line = "The run stopped with an error; the results below are what was measured before it."
    elif status == "interrupted":
        line = "The run was interrupted; the results below are partial."
    else:
        line = "The run had not finished when this report was rendered; the results below are partial."
    return {
        "status": status,
        "label": VERDICTS[status],
        "line": line,
        "error": text(report.get("error")),
        "failing": failing,
        "exit_code": report.get("exit_code") if isinstance(report.get("exit_code"), int) else None,
    }


def lint_view(report: Mapping[str, Any]) -> list[dict[str, str]]:
    order = {"error": 0, "warning": 1, "info": 2}
    rows = [
        {k: text(_map(f).get(k)) for k in ("severity", "rule", "location", "message")}
        for f in _list(report.get("lint"))
    ]
    return sorted(rows, key=lambda r: order.get(r["severity"], 3))


def pipeline_view(report: Mapping[str, Any]) -> dict[str, Any] | None:
    pipeline = report.get("pipeline")
    if not isinstance(pipeline, Mapping):
        return None
    tasks = []
    for task in _list(pipeline.get("tasks")):
        task = _map(task)
        tasks.append(
            {
                "name": text(task.get("name")),
                "state": text(task.get("state")) or "unknown",
                "duration_s": num(task.get("duration_s")),
                "metrics": [(text(k), v) for k, v in _map(task.get("metrics")).items()],
                "artifacts": [(text(k), text(v)) for k, v in _map(task.get("artifacts")).items()],
            }
        )
    return {
        "name": text(pipeline.get("pipeline_name")),
        "run_id": text(pipeline.get("run_id")),
        "succeeded": pipeline.get("succeeded") is True,
        "duration_s": num(pipeline.get("duration_s")),
        "message": text(pipeline.get("message")),
        "model_uri": text(pipeline.get("model_uri")),
        "metrics": [(text(k), v) for k, v in _map(pipeline.get("metrics")).items()],
        "tasks": tasks,
    }


def slo_view(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for gate in _list(report.get("slo")):
        gate = _map(gate)
        details = _map(gate.get("details"))
        status = text(gate.get("status")).lower()
        name = text(gate.get("name"))
        rows.append(
            {
                "name": name,
                "status": status if status in CHECK_STATUSES else "error",
                "observed": details.get("value", details.get("observed")),
                "threshold": details.get("threshold"),
                "unit": text(details.get("unit")) or metric_unit(name),
                "message": text(gate.get("message")),
            }
        )
    return rows


def metric_unit(name: str) -> str:
    """The unit of a load metric by its name: ``ratio`` for error rates, ``ms`` for percentiles."""
    key = name.rsplit(".", 1)[-1]
    if "error_rate" in key:
        return "ratio"
    if key == "rps" or key.endswith("_rps"):
        return "req/s"
    if key in ("min", "mean", "max") or (key.startswith("p") and key[1:].isdigit()):
        return "ms"
    return ""


def _gate_status(slo: list[dict[str, Any]], *words: str) -> str:
    """The worst status of the SLO gates whose name mentions any of ``words`` ('' if none)."""
    statuses = {g["status"] for g in slo if any(w in g["name"] for w in words)}
    return next((s for s in ("failed", "error", "warned", "passed") if s in statuses), "")


def load_view(report: Mapping[str, Any]) -> dict[str, Any] | None:
    """Headline load figures, the run's settings, failures by kind and the charts."""
    load = report.get("load")
    if not isinstance(load, Mapping):
        return None
    requests, failures = num(load.get("requests")), num(load.get("failures"))
    error_rate = num(load.get("error_rate"))
    if error_rate is None and requests and failures is not None:
        error_rate = failures / requests
    latency = _map(load.get("latency_ms"))
    slo = [_map(g) for g in _list(report.get("slo"))]
    charts = [plots.latency_over_time(load, slo), plots.throughput_over_time(load), plots.latency_percentiles(load, slo)]
    return {
        "requests": requests,
        "failures": failures,
        "error_rate": error_rate,
        "rps": num(load.get("rps")),
        "complete": load.get("complete") is not False,
        "latency": [
            (label, num(latency.get(key)))
            for key, label in (("min", "min"), ("mean", "mean"), *plots.PERCENTILES)
            if key in latency or key not in ("min", "mean")
        ],
        "p95_ms": num(latency.get("p95")),
        # colours of the headline figures follow the gates, not the raw numbers
        "p95_gate": _gate_status(slo_view(report), "p95"),
        "error_gate": _gate_status(slo_view(report), "error", "fail"),
        "rps_gate": _gate_status(slo_view(report), "rps", "throughput"),
        "settings": [
            (label, text(load.get(key)))
            for key, label in (
                ("users", "users"), ("spawn_rate", "spawn rate (users/s)"), ("rate", "target rate (req/s)"),
                ("duration_s", "duration (s)"), ("warmup_s", "warm-up (s)"), ("measured_s", "measured (s)"),
                ("processes", "processes"), ("protocol", "protocol"), ("batch_size", "batch size"),
                ("latency_basis", "latency measured from"), ("generator", "generator"),
                ("locust_version", "locust"), ("via", "via"),
            )
            if load.get(key) is not None
        ],
        "failures_by_kind": [
            {
                "request": text(_map(f).get("name")),
                "status": text(_map(f).get("status")),
                "message": text(_map(f).get("message") or _map(f).get("kind")),
                "count": num(_map(f).get("count")),
            }
            for f in _list(load.get("failures_by_kind"))
        ],
        "by_protocol": [
            {"protocol": text(k), **{f: num(_map(v).get(f)) for f in ("requests", "failures", "p50", "p95", "p99")}}
            for k, v in _map(load.get("by_protocol")).items()
        ],
        "charts": [c for c in charts if c is not None],
    }


def baseline_view(report: Mapping[str, Any]) -> dict[str, Any] | None:
    """The baseline comparison (``harness.slo.compare_baseline``): change and tolerance in percent."""
    baseline = report.get("baseline")
    if not isinstance(baseline, Mapping):
        return None
    tolerance = num(baseline.get("tolerance"))
    rows = []
    for row in _list(baseline.get("metrics")):
        row = _map(row)
        name = text(row.get("name") or row.get("metric"))
        change = num(row.get("change"))
        gated = row.get("gated", True) is not False
        row_tolerance = num(row.get("tolerance_pct"))
        if row.get("regressed") is True:
            status, label = "failed", "regressed"
        elif "regressed" in row:
            status, label = ("passed", "within tolerance") if gated else ("skipped", "not gated")
        else:
            label = text(row.get("status")).lower() or "passed"
            status = label if label in CHECK_STATUSES else "error"
        rows.append(
            {
                "metric": name,
                "unit": metric_unit(name),
                "baseline": row.get("baseline"),
                "current": row.get("current"),
                "change_pct": change * 100 if change is not None else num(row.get("change_pct")),
                "tolerance_pct": (tolerance * 100 if tolerance is not None else row_tolerance) if gated else None,
                "status": status,
                "label": label,
            }
        )
    source = _map(baseline.get("baseline"))
    described = [
        f"run of {text(source.get('started_at'))}" if source.get("started_at") else "",
        f"commit {text(source.get('git_commit'))[:12]}" if source.get("git_commit") else "",
        f"target {text(source.get('target'))}" if source.get("target") else "",
    ]
    return {"source": ", ".join(d for d in described if d) or text(baseline.get("source")), "metrics": rows}


def phases_view(report: Mapping[str, Any]) -> dict[str, Any]:
    phases = [(text(k), num(v)) for k, v in _map(report.get("phases")).items()]
    total = sum(v for _, v in phases if v is not None)
    return {
        "total_s": total,
        "rows": [
            {"name": name, "seconds": seconds, "pct": (seconds / total * 100) if seconds is not None and total else 0.0}
            for name, seconds in phases
        ],
    }


def environment_view(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    env = _map(report.get("environment"))
    packages = _map(env.get("packages"))
    rows = [
        ("target", text(report.get("target"))),
        ("mlharness", text(env.get("mlharness"))),
        ("python", text(env.get("python"))),
        *((name, text(packages.get(name)) or "not installed") for name in ENV_PACKAGES if name in packages),
        *((text(name), text(v) or "not installed") for name, v in packages.items() if name not in ENV_PACKAGES),
        ("git commit", text(env.get("git_commit")) or "unknown (not run from a git checkout)"),
        ("host", text(env.get("host"))),
        ("platform", text(env.get("platform"))),
        ("CPUs", text(env.get("cpus"))),
        ("command", text(env.get("argv"))),
    ]
    return [(k, v) for k, v in rows if v]


def endpoint_view(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    endpoint = _map(report.get("endpoint"))
    rows = [
        ("URL", text(endpoint.get("base_url"))),
        ("model", text(endpoint.get("model_name"))),
        ("protocols", ", ".join(text(p) for p in _list(endpoint.get("protocols")))),
        ("description", text(endpoint.get("description"))),
    ]
    return [(k, v) for k, v in rows if v]


def build_view(report: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the templates show, from one report dict (never raises on odd content)."""
    checks = checks_view(report)
    env = _map(report.get("environment"))
    return {
        "verdict": verdict(report, checks),
        "target": text(report.get("target")) or "unknown",
        "started_at": text(report.get("started_at")),
        "finished_at": text(report.get("finished_at")),
        "duration_s": num(report.get("duration_s")),
        "schema_version": text(report.get("schema_version")),
        "mlharness": text(env.get("mlharness")),
        "git_commit": text(env.get("git_commit")),
        "checks": checks,
        "failing": [c for c in checks if c["status"] in FAILING],
        "warned": [c for c in checks if c["status"] == "warned"],
        "counts": counts(checks),
        "lint": lint_view(report),
        "pipeline": pipeline_view(report),
        "slo": slo_view(report),
        "load": load_view(report),
        "baseline": baseline_view(report),
        "phases": phases_view(report),
        "environment": environment_view(report),
        "endpoint": endpoint_view(report),
        "config": [(text(k), text(v)) for k, v in _map(report.get("config")).items() if v not in (None, [], "")],
    }
