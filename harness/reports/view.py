"""What the templates show, made from a run's :class:`~harness.record.RunRecord`.

The record is complete and well typed (``RunRecord.from_dict`` is where a partial, older or
hand-edited ``report.json`` is made whole), so this module only turns typed objects into
what a page shows: the verdict line, counts, the SLO table from the ``slo.*`` checks, the
load figures with their charts, the baseline rows, the phases' shares, and the label/value
rows of the environment, endpoint, configuration and cleanup. Numbers stay numbers here;
the templates format them with :mod:`harness.figures` (as Jinja filters, see
:mod:`harness.reports.render`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from harness import figures
from harness.checks.slo import gate_figures
from harness.load.baseline import BaselineComparison
from harness.load.results import LoadResult
from harness.pipelines.lint import Finding, Severity
from harness.record import VERSIONED_PACKAGES, RunRecord
from harness.reports import plots
from harness.reports.capacity_view import capacity_view, resources_view
from harness.reports.diff_view import diff_view
from harness.results import CheckResult, CheckStatus, RunStatus

FAILING = (CheckStatus.FAILED, CheckStatus.ERROR)
VERDICTS = {
    RunStatus.PASSED: "PASSED",
    RunStatus.FAILED: "FAILED",
    RunStatus.ERROR: "ERROR",
    RunStatus.INTERRUPTED: "INTERRUPTED",
    RunStatus.RUNNING: "INCOMPLETE",
}
_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def text(value: Any) -> str:
    """Any value as display text ('' for None; a list as its items separated by spaces)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(text(v) for v in value)
    return str(value)


def group(check: CheckResult) -> str:
    """The check's group: its name before the first dot (``slo`` for ``slo.p95``)."""
    return check.name.split(".", 1)[0] if "." in check.name else "mlharness"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The banner: the run status, a one-line explanation, the error and the exit code."""

    status: str
    label: str
    line: str
    error: str
    failing: tuple[str, ...]
    exit_code: int | None


def counts(record: RunRecord) -> dict[str, int]:
    """How many checks ended in each status (by value), plus ``total``."""
    result = {status.value: record.count(status) for status in CheckStatus}
    result["total"] = len(record.checks)
    return result


def verdict(record: RunRecord) -> Verdict:
    """The headline of a run: its status and the one line that says why.

    A run that failed with no failed check failed for what its error says (a pytest session's
    own tests): that is the line, not an error block.
    """
    n = counts(record)
    failing = tuple(c.name for c in record.checks if c.failed)
    status = record.status
    error = record.error or ""
    if status is RunStatus.PASSED:
        line = f"All {n['passed']} checks that ran passed" if n["passed"] else "No check ran"
        extras = [f"{n['warned']} with warnings" if n["warned"] else "", f"{n['skipped']} skipped" if n["skipped"] else ""]
        line += "".join(f", {e}" for e in extras if e) + "."
    elif status is RunStatus.FAILED and failing:
        line = f"{len(failing)} of {n['total']} checks failed: {', '.join(failing)}."
    elif status is RunStatus.FAILED:
        line, error = (f"No check failed; {error.rstrip('.')}.", "") if error else ("A gate failed.", "")
    elif status is RunStatus.ERROR:
        line = "The run stopped with an error; the results below are what was measured before it."
    elif status is RunStatus.INTERRUPTED:
        line = "The run was interrupted; the results below are partial."
    else:
        line = "The run had not finished when this report was rendered; the results below are partial."
    return Verdict(status.value, VERDICTS[status], line, error, failing, record.exit_code)


@dataclasses.dataclass(frozen=True)
class GateRow:
    """One SLO gate: its check and the figures it compared."""

    name: str
    status: CheckStatus
    observed: float | None
    threshold: float | None
    unit: str
    message: str


def slo_rows(record: RunRecord) -> list[GateRow]:
    """The SLO table: the ``slo.*`` checks, in run order."""
    rows = []
    for check in record.checks_in("slo"):
        gate = gate_figures(check)
        rows.append(GateRow(check.name, check.status, gate.observed, gate.threshold, gate.unit, check.message))
    return rows


@dataclasses.dataclass(frozen=True)
class LoadView:
    """The load result with what the page adds: latency rows, settings, gate colours, charts."""

    result: LoadResult
    latency: tuple[tuple[str, float | None], ...]
    settings: tuple[tuple[str, str], ...]
    p95_gate: str  # the status of the gate behind each headline figure ('' without one)
    error_gate: str
    rps_gate: str
    charts: tuple[plots.Chart, ...]
    accounting: str = ""  # every request sent: answered, failed, unfinished at the window's end
    stalls: tuple[str, ...] = ()  # when the server answered nothing while requests were in flight


def accounting(load: LoadResult) -> str:
    """"1,000 sent: 960 answered, 40 failed (40 unfinished at the window's end, then timed out or answered)"."""
    text = f"{figures.count(load.requests)} sent: {figures.count(load.answered)} answered, {figures.count(load.failures)} failed"
    if load.unfinished:
        text += (f" ({figures.count(load.unfinished)} unfinished at the window's end, waited for up to the request timeout: "
                 f"{figures.count(load.unfinished - load.unfinished_failed)} answered, {figures.count(load.unfinished_failed)} failed)")
    return text


def stall_lines(load: LoadResult) -> tuple[str, ...]:
    return tuple(f"t={s.t_s:.1f}s: no answer for {figures.duration(s.duration_s)} with {figures.count(s.in_flight)} requests in flight"
                 for s in load.stalls)


def _users(load: LoadResult) -> str:
    if load.users_configured and load.users != load.users_configured:
        return f"{figures.count(load.users)} of {figures.count(load.users_configured)} started"
    return figures.count(load.users)


def _settings(load: LoadResult) -> Iterable[tuple[str, str]]:
    """How the load was made; a figure a real run never has as 0 (users, duration...) is left out at 0."""
    rows: list[tuple[str, Any, Any, bool]] = [  # label, value, format, whether 0 is a real value
        ("users", load.users or load.users_configured, lambda _v: _users(load), False),
        ("spawn rate (users/s)", load.spawn_rate, figures.number, False),
        ("target rate", load.rate, figures.per_second_text, False),
        ("duration", load.duration_s, figures.duration, False),
        ("warm-up", load.warmup_s, figures.duration, load.duration_s > 0),
        ("measured", load.measured_s, figures.duration, False),
        ("processes", load.processes, figures.count, False),
        ("protocol", load.protocol, text, False),
        ("batch size", load.batch_size, figures.count, False),
        ("latency measured from", load.latency_basis, text, False),
        ("generator", load.generator, text, False),
        ("locust", load.locust_version, text, False),
        ("via", load.via, text, False),
    ]
    return [(label, show(value)) for label, value, show, zero_ok in rows if value not in (None, "") and (value != 0 or zero_ok)]


def load_view(record: RunRecord) -> LoadView | None:
    load = record.load
    if load is None:
        return None
    gates = [gate_figures(c) for c in record.checks_in("slo")]

    def gate(name: str) -> str:
        check = record.check(name)
        return check.status.value if check else ""

    latency = load.latency_ms
    charts = (plots.latency_over_time(load, gates), plots.throughput_over_time(load), plots.latency_percentiles(load, gates))
    return LoadView(
        result=load,
        latency=(("min", latency.min), ("mean", latency.mean), *((label, getattr(latency, key)) for key, label in plots.PERCENTILES)),
        settings=tuple(_settings(load)),
        p95_gate=gate("slo.p95"),
        error_gate=gate("slo.error_rate"),
        rps_gate=gate("slo.min_rps"),
        charts=tuple(c for c in charts if c is not None),
        accounting=accounting(load),
        stalls=stall_lines(load),
    )


@dataclasses.dataclass(frozen=True)
class BaselineRow:
    """One compared figure, with its status: regressed, within tolerance, or not gated."""

    metric: str
    unit: str
    baseline: float | None
    current: float | None
    change: float | None
    tolerance: float | None  # None: not gated
    status: str
    label: str


@dataclasses.dataclass(frozen=True)
class BaselineView:
    source: str
    rows: tuple[BaselineRow, ...]


def baseline_view(comparison: BaselineComparison | None) -> BaselineView | None:
    if comparison is None:
        return None
    rows = []
    for m in comparison.metrics:
        if m.regressed:
            status, label = "failed", "regressed"
        elif m.gated:
            status, label = "passed", "within tolerance"
        else:
            status, label = "skipped", "not gated"
        rows.append(BaselineRow(m.name, m.unit, m.baseline, m.current, m.change, comparison.tolerance if m.gated else None, status, label))
    return BaselineView(comparison.baseline.describe(), tuple(rows))


@dataclasses.dataclass(frozen=True)
class PhaseRow:
    name: str
    seconds: float
    share: float  # of the phases' total, 0..1


def phase_rows(record: RunRecord) -> tuple[list[PhaseRow], float]:
    """Each phase with its share of the phases' total, and that total."""
    total = sum(record.phases.values())
    return [PhaseRow(name, s, s / total if total else 0.0) for name, s in record.phases.items()], total


def environment_rows(record: RunRecord) -> list[tuple[str, str]]:
    env = record.environment
    packages = env.packages
    rows = [
        ("target", record.target),
        ("mlharness", env.mlharness),
        ("python", env.python),
        *((name, packages[name] or "not installed") for name in VERSIONED_PACKAGES if name in packages),
        *((name, v or "not installed") for name, v in packages.items() if name not in VERSIONED_PACKAGES),
        ("git commit", env.git_commit or "unknown (not run from a git checkout)"),
        ("host", env.host),
        ("platform", env.platform),
        ("CPUs", text(env.cpus)),
        ("command", text(env.argv)),
    ]
    return [(k, v) for k, v in rows if v]


def endpoint_rows(record: RunRecord) -> list[tuple[str, str]]:
    endpoint = record.endpoint
    if endpoint is None:
        return []
    rows = [
        ("URL", endpoint.base_url),
        ("model", endpoint.model_name),
        ("protocols", ", ".join(endpoint.protocols)),
        ("readiness", endpoint.readiness),
        ("description", endpoint.description),
    ]
    return [(k, v) for k, v in rows if v]


@dataclasses.dataclass(frozen=True)
class CleanupRow:
    """One step of the run's end (``diagnostics``, ``teardown``, ``load``) and how it went."""

    step: str
    outcome: str
    status: str  # the row's colour: passed, warned, failed or skipped
    label: str


_CLEANUP_LABELS = {"passed": "done", "warned": "cut short", "failed": "failed", "skipped": "skipped"}


def contract_rows(record: RunRecord) -> list[tuple[str, str]]:
    """The model contract the checks followed: what it is, where it came from, what it demands."""
    contract = record.contract
    if contract is None:
        return []
    names = [f.name for f in contract.features]
    shown = ", ".join(names[:6]) + (f", … ({len(names)} in all)" if len(names) > 6 else "")
    limits = ", ".join(f"{k} {text(v)}" for k, v in contract.thresholds.as_dict().items() if v is not None)
    rows = [
        ("model", f"{contract.name} ({contract.task})"),
        ("from", contract.source),
        ("features", shown),
        ("classes", ", ".join(text(c) for c in contract.classes)),
        ("golden cases", text(contract.golden_cases)),
        ("data", contract.data),
        ("thresholds", limits),
    ]
    return [(k, v) for k, v in rows if v]


def _cleanup_status(outcome: str) -> str:
    if outcome.startswith("failed"):
        return "failed"
    if outcome.startswith("skipped"):
        return "skipped"
    if any(word in outcome for word in ("timed out", "cut short", "hurried")):
        return "warned"
    return "passed"


def cleanup_rows(record: RunRecord) -> list[CleanupRow]:
    """How the run's end went, one row per step, in the order the run wrote them."""
    rows = []
    for step, outcome in record.cleanup.items():
        status = _cleanup_status(outcome)
        rows.append(CleanupRow(step, outcome, status, _CLEANUP_LABELS[status]))
    return rows


def lint_rows(findings: Iterable[Finding]) -> list[Finding]:
    """Findings, errors first."""
    return sorted(findings, key=lambda f: _SEVERITY_ORDER.get(f.severity, 3))


def build_view(record: RunRecord, schema_version: int | None = None) -> dict[str, Any]:
    """Everything the templates show. ``schema_version``: of the file read (default: the record's)."""
    phases, total = phase_rows(record)
    return {
        "verdict": verdict(record),
        "target": record.target,
        "started_at": record.started_at,
        "finished_at": record.finished_at or "",
        "duration_s": record.duration_s,
        "schema_version": schema_version if schema_version is not None else record.schema_version,
        "mlharness": record.environment.mlharness,
        "git_commit": record.environment.git_commit or "",
        "checks": record.checks,
        "failing": [c for c in record.checks if c.failed],
        "warned": [c for c in record.checks if c.status is CheckStatus.WARNED],
        "counts": counts(record),
        "lint": lint_rows(record.lint),
        "pipeline": record.pipeline,
        "slo": slo_rows(record),
        "load": load_view(record),
        "baseline": baseline_view(record.baseline),
        "capacity": capacity_view(record),
        "diff": diff_view(record),
        "resources": resources_view(record),
        "phases": phases,
        "phases_total_s": total,
        "cleanup": cleanup_rows(record),
        "environment": environment_rows(record),
        "endpoint": endpoint_rows(record),
        "contract": contract_rows(record),
        "config": [(k, text(v)) for k, v in record.config.items() if v not in (None, [], "")],
    }
