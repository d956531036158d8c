"""report.html, summary.md and junit.xml rendered from run records (the samples of test_render_samples)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main as cli
from harness.record import RunRecord
from harness.reports import plots
from harness.reports.junit import render_junit
from harness.reports.render import md_escape, render_all
from harness.reports.render import render_html as _render_html
from harness.reports.render import render_summary as _render_summary
from harness.reports.writer import ReportWriter
from tests.test_render_samples import (
    TIMELINE_SECONDS,
    as_schema_1,
    failing_report,
    interrupted_report,
    passing_report,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "harness" / "reports" / "templates"


class Page(HTMLParser):
    """What the tests look at in the HTML: tags, attributes, charts and their series."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.charts: dict[str, dict[str, dict[str, Any]]] = {}
        self.thresholds: dict[str, list[str]] = {}
        self._chart: str | None = None
        self._series: dict[str, Any] | None = None
        self._in_threshold_label = False
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "figure" and "chart" in a.get("class", ""):
            self._chart = a["id"]
            self.charts[self._chart] = {}
            self.thresholds[self._chart] = []
        elif tag == "g" and a.get("class") == "series" and self._chart:
            self._series = {"declared": int(a["data-points"]), "segments": [], "markers": 0}
            self.charts[self._chart][a["data-series"]] = self._series
        elif tag == "polyline" and self._series is not None:
            self._series["segments"].append(len(a["points"].split()))
        elif tag == "circle" and self._series is not None:
            self._series["markers"] += 1
        elif tag == "text" and a.get("class") == "threshold-label":
            self._in_threshold_label = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self._series = None
        elif tag == "figure":
            self._chart = None
        elif tag == "text":
            self._in_threshold_label = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_threshold_label and self._chart:
            self.thresholds[self._chart].append(data)

    @property
    def all_text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def render_html(report: dict[str, Any]) -> str:
    """The HTML of ``report.json`` data, read as ``render_all`` reads it."""
    return _render_html(RunRecord.from_dict(report), report.get("schema_version"))


def render_summary(report: dict[str, Any]) -> str:
    return _render_summary(RunRecord.from_dict(report))


def junit(report: dict[str, Any]) -> str:
    return render_junit(RunRecord.from_dict(report))


def points(series: dict[str, Any]) -> int:
    return sum(series["segments"])


def assert_self_contained(html: str) -> None:
    page = Page(html)
    tags = {t for t, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}, tags
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name != "src", f"<{tag} src={value!r}>"
            assert not re.match(r"\s*(https?:|//|javascript:)", value), f"<{tag} {name}={value!r}>"
    assert "url(" not in html and "@import" not in html
    assert "<script src=" not in html


# --- HTML ---------------------------------------------------------------------------------------
def test_passing_report_html() -> None:
    report = passing_report()
    html = render_html(report)
    page = Page(html)
    assert 'class="verdict verdict-passed"' in html
    assert "PASSED" in page.all_text and f"All {len(report['checks'])} checks that ran passed." in page.all_text
    for check in report["checks"]:
        assert f"<code>{check['name']}</code>" in html
        assert check["message"].replace(">", "&gt;") in html
    assert page.charts == {}, "no load, so no plots"
    assert "The load test did not run" in page.all_text
    for version in ("2.17.3", "0.21.0", "1.9.1", "3.11.7", "36f91e0c0ffee"):
        assert version in page.all_text
    assert_self_contained(html)


def test_failing_report_html_with_load_slo_and_baseline() -> None:
    report = failing_report()
    html = render_html(report)
    page = Page(html)
    text = page.all_text
    assert 'class="verdict verdict-failed"' in html
    assert "3 of 15 checks failed: predict.parity, slo.p95, baseline.p95." in text
    for check in report["checks"]:
        assert check["name"] in text
    assert text.count("failed") >= 3
    # SLO table, from the slo.* checks: observed against threshold, ratios as percentages
    assert re.search(r"slo\.p95\s*failed\s*110 ms\s*100 ms\s*p95 110 ms > 100 ms", text), text
    assert re.search(r"slo\.error_rate\s*passed\s*0\.0498 %\s*0\.1 %", text)
    # key figures and the load tables, formatted by harness.figures
    assert re.search(r"401\.7 req/s\s*throughput\s*110 ms\s*p95 latency\s*0\.0498 %\s*error rate", text)
    assert re.search(r"requests\s*12,050\s*failures\s*6\s*error rate\s*0\.0498 %\s*throughput\s*401\.7 req/s", text)
    assert re.search(r"min\s*1\.02 ms\s*mean\s*14\.2 ms\s*p50\s*8\.1 ms", text) and re.search(r"p99\.9\s*241 ms\s*max\s*312 ms", text)
    assert re.search(r"users\s*8\s*spawn rate \(users/s\)\s*50\s*duration\s*32\.0 s\s*warm-up\s*2\.00 s", text)
    # plots: series and their points, gaps where a value is missing
    assert set(page.charts) == {"latency-over-time", "throughput-over-time", "latency-percentiles",
                                "server-cpu", "server-rss", "capacity-latency", "capacity-throughput"}  # the last four: test_capacity_views.py
    latency = page.charts["latency-over-time"]
    assert set(latency) == {"p50", "p95"}
    for series in latency.values():
        assert points(series) == series["declared"] == TIMELINE_SECONDS - 1
        assert len(series["segments"]) == 2, "the None second splits the line"
        assert series["markers"] == TIMELINE_SECONDS - 1
    throughput = page.charts["throughput-over-time"]
    assert set(throughput) == {"requests/s", "failures/s"}
    assert all(points(s) == TIMELINE_SECONDS for s in throughput.values())
    percentiles = page.charts["latency-percentiles"]
    assert list(percentiles) == ["latency"] and points(percentiles["latency"]) == 6
    assert page.thresholds["latency-over-time"] == ["p95 SLO 100 ms"]
    assert sorted(page.thresholds["latency-percentiles"]) == ["p95 SLO 100 ms", "p99 SLO 250 ms"]
    for label in ("time since start (s)", "latency (ms)", "requests per second", "percentile"):
        assert label in text
    # the rest of the document
    assert re.search(r"v1\s*503\s*HTTP 503: upstream connect error\s*4", text)
    assert re.search(r"v2\s*no answer\s*ReadTimeout\s*2", text)
    assert re.search(r"v2\s*6,030\s*2\s*8\.2 ms\s*112 ms\s*182 ms", text), "by request kind"
    assert "against the run of 2026-11-20T09:12:00.000Z, commit 0a93065aaaab, target local" in text
    assert re.search(r"p95\s*80 ms\s*110 ms\s*\+38 %\s*\+20 %\s*regressed", text)
    assert re.search(r"error_rate\s*0\.04 %\s*0\.05 %\s*\+24\.5 %\s*\+20 %\s*within tolerance", text)
    assert re.search(r"p50\s*7\.9 ms\s*8\.1 ms\s*\+2\.53 %\s*—\s*not gated", text)
    assert re.search(r"rps\s*395 req/s\s*401\.7 req/s\s*\+1\.7 %", text)
    assert "A load worker's result file was missing" not in text
    assert "unpinned-image" in text and "base image python:3.11 is not pinned by digest" in text
    for task in ("load", "train", "evaluate"):
        assert f"<code>{task}</code>" in html
    assert re.search(r"load\s*32\.1 s\s*74\.7 %", text), "phase breakdown with its share"
    assert re.search(r"accuracy = 0\.9556", text) and "n_train = 105" in text, "task metrics"
    # the cleanup section: each step of the run's end, a failed one marked
    assert re.search(r"How the run ended\s*step\s*status\s*outcome\s*diagnostics\s*cut short\s*timed out after 60s\s*teardown\s*failed\s*failed: kind delete", text)
    assert '<tr class="row-failed"><td class="name"><code>teardown</code>' in html
    assert_self_contained(html)


def test_interrupted_early_report_html() -> None:
    html = render_html(interrupted_report())
    text = Page(html).all_text
    assert 'class="verdict verdict-interrupted"' in html
    assert "INTERRUPTED" in text and "the results below are partial" in text
    assert "exit code 130" in text and "not finished" in text
    assert "No pipeline ran" in text and "The load test did not run" in text
    assert "No SLO gate was evaluated" in text and "no endpoint was deployed" in text
    assert "unknown (not run from a git checkout)" in text
    assert "No cleanup was recorded" in text
    assert_self_contained(html)


@pytest.mark.parametrize(
    ("status", "label", "error"),
    # a status no writer emits is dropped when the record is read: the run shows as not finished
    [("error", "ERROR", "InfrastructureError: kind is not installed"), ("running", "INCOMPLETE", None), ("bogus", "INCOMPLETE", None)],
)
def test_other_statuses_show_their_verdict_and_error(status: str, label: str, error: str | None) -> None:
    report = interrupted_report()
    report.update(status=status, error=error)
    html = render_html(report)
    assert f"verdict-{label.lower() if label != 'INCOMPLETE' else 'running'}" in html
    assert f'<div class="verdict-label">{label}</div>' in html
    if error:
        assert f'<pre class="error-text">{error}</pre>' in html


def test_a_window_without_requests_shows_no_error_rate() -> None:
    """The error rate is not measured without requests: a dash, whatever an older writer stored (0.0)."""
    report = failing_report()
    report["load"].update(requests=0, failures=0, error_rate=0.0, rps=0.0)
    text = Page(render_html(report)).all_text
    assert re.search(r"requests\s*0\s*failures\s*0\s*error rate\s*—\s*throughput\s*0 req/s", text), text
    assert "0 requests, 0 failed (—), 0 req/s" in render_summary(report)


def test_entries_in_shapes_no_writer_emits_are_left_out() -> None:
    """Keys of a draft shape (``kind``, ``metric``/``change_pct``) no writer emits: the record drops those entries."""
    report = failing_report()
    report["load"]["failures_by_kind"] = [{"kind": "ConnectionError", "count": 7}, report["load"]["failures_by_kind"][0]]
    report["load"]["complete"] = False
    report["baseline"]["metrics"] = [{"metric": "p95", "baseline": 80, "current": 110.4, "change_pct": 38.0}, report["baseline"]["metrics"][2]]
    html = render_html(report)
    text = Page(html).all_text
    assert "ConnectionError" not in text and re.search(r"v1\s*503\s*HTTP 503: upstream connect error\s*4", text)
    assert re.findall(r'pill-\w+">(regressed|within tolerance|not gated)<', html) == ["within tolerance"]
    assert "A load worker's result file was missing" in text


def test_markup_in_a_check_message_is_escaped() -> None:
    html = render_html(failing_report())
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


ENUM_KEYS = ("status", "state", "severity")  # a poisoned value there is not a status: the record drops its entry


def _poison(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, key) for v in value]
    if isinstance(value, str) and key not in ENUM_KEYS:
        return value + '<i class="x">"&\'</i>'
    return value


def test_no_string_from_the_report_is_rendered_as_markup() -> None:
    report = _poison(failing_report())
    html = render_html(report)
    assert "<i" not in html
    assert html.count("&lt;i class=&#34;x&#34;&gt;") > 50
    assert_self_contained(html)


def test_templates_never_turn_escaping_off() -> None:
    for template in TEMPLATES.iterdir():
        source = template.read_text()
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", source), template.name


MANGLED = {
    "only a version": lambda r: {"schema_version": 2},
    "sections of the wrong type": lambda r: {
        **r, "checks": "oops", "phases": [], "environment": None, "lint": None, "pipeline": [], "load": "fast",
        "baseline": 3, "endpoint": "x", "cleanup": [1], "config": "x", "status": 7, "target": None, "duration_s": "long",
    },
    "figures of the wrong type": lambda r: {
        **r, "load": {**r["load"], "latency_ms": {"p50": "fast"}, "timeline": [{"t": "x"}, {"t": 1, "p50_ms": None}], "rps": None},
    },
    "a load section without required figures": lambda r: {**r, "load": {"timeline": [{"t": 0, "requests": 5}]}, "baseline": {"metrics": [None, {}]}},
    "entries of the wrong type": lambda r: {
        **r, "pipeline": {**r["pipeline"], "tasks": [None, {"metrics": {"a": "b"}}, *r["pipeline"]["tasks"]]}, "checks": [None, {"status": 3}, r["checks"][0]],
        "environment": {"packages": [1], "argv": "x", "cpus": "many"}, "phases": {"load": "slow", "deploy": 1.5},
        "cleanup": {"teardown": None, "diagnostics": "failed: boom"},
    },
    "an SLO check with odd details": lambda r: {**r, "checks": [{"name": "slo.p95", "status": "failed", "details": {"value": "x", "threshold": None}}]},
    "schema 1 with an odd slo list": lambda r: {**as_schema_1(r), "slo": "oops"},
}


@pytest.mark.parametrize("mangle", list(MANGLED))
def test_missing_or_wrong_typed_sections_still_render(mangle: str, tmp_path: Path) -> None:
    """render_all on a report.json with missing or wrong-typed sections writes all three views."""
    _write(tmp_path, MANGLED[mangle](failing_report()))
    html, md, xml = (p.read_text() for p in render_all(tmp_path))
    assert 'class="verdict-label"' in html and "</html>" in html
    assert_self_contained(html)
    assert md.startswith("## ") and "Full report: `report.html`" in md
    ET.fromstring(xml)


def test_what_fits_survives_beside_what_does_not() -> None:
    report = MANGLED["entries of the wrong type"](failing_report())
    record = RunRecord.from_dict(report)
    assert [c.name for c in record.checks] == ["pipeline.compile"]
    text = Page(render_html(report)).all_text
    assert re.search(r"deploy\s*1\.50 s\s*100 %", text), "the phase that is a number"
    assert re.search(r"diagnostics\s*failed\s*failed: boom", text)
    assert re.search(r"load\s*succeeded", text) and "evaluate" in text, "the tasks that are tasks"


def test_sample_reports_decode_completely() -> None:
    """The samples are real records: nothing in them is dropped (else the tests above would test little)."""
    for report in (passing_report(), failing_report(), interrupted_report()):
        assert RunRecord.from_dict(report).as_dict() == report


def test_schema_1_renders_like_schema_3() -> None:
    """A report from a schema-1 writer (its ``slo`` list, ``cleanup`` null) renders the same page."""
    new, old = failing_report(), as_schema_1(failing_report())
    old["cleanup"] = new["cleanup"]  # schema 1 had it too, at the end
    html_new, html_old = render_html(new), render_html(old)
    assert html_old.replace("(schema 1)", "(schema 3)") == html_new
    assert "(schema 1)" in html_old
    assert render_summary(old) == render_summary(new)


def test_the_slo_table_comes_from_the_checks_not_the_schema_1_list() -> None:
    old = as_schema_1(failing_report())
    old["slo"] = [{"name": "slo.bogus", "status": "failed", "message": "stale copy", "details": {}}]
    text = Page(render_html(old)).all_text
    assert "slo.bogus" not in text and "stale copy" not in text and re.search(r"slo\.p99\s*passed\s*180 ms\s*250 ms", text)


# --- plots --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("lo", "hi"), [(0, 430), (0, 400), (1, 30), (0, 0.003), (0, 1), (5, 5), (0, 123456)])
def test_nice_ticks_cover_the_data(lo: float, hi: float) -> None:
    ticks = plots.nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi and len(ticks) >= 2
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1 and len(ticks) <= 8


def test_chart_points_stay_inside_the_plot_area() -> None:
    chart = plots.line_chart("c", "t", "x", "y", [0, 1, 2, 3], [("a", [0.0, 7.0, None, 13.0])], thresholds=[(20.0, "limit")])
    (series,) = chart.series
    assert series.n_points == 3 and len(series.segments) == 2
    for p in series.points:
        assert chart.left <= p.x <= chart.right and chart.top <= p.y <= chart.bottom
    assert chart.top <= chart.thresholds[0].y <= chart.bottom
    assert chart.series[0].points[0].y == chart.bottom, "y axis starts at zero"


# --- Markdown -----------------------------------------------------------------------------------
def test_summary_of_a_failing_run() -> None:
    md = render_summary(failing_report())
    lines = md.splitlines()
    assert lines[0] == "## ❌ mlharness FAILED on local"
    assert "3 of 15 checks failed: predict.parity, slo.p95, baseline.p95." in md
    attention = md.index("### Needs attention")
    assert attention < md.index("### SLO gates") < md.index("### Load") < md.index("<details>")
    first_rows = [ln for ln in lines[lines.index("### Needs attention") :] if ln.startswith("| ")][2:6]
    assert [r.split("|")[1].strip() for r in first_rows] == ["predict.parity", "slo.p95", "baseline.p95", "robustness.malformed"]
    assert "| slo.p95 | ❌ failed | 110 ms | 100 ms |" in md
    assert "| slo.error\\_rate | ✅ passed | 0.0498 % | 0.1 % |" in md
    assert "12,050 requests, 6 failed (0.0498 %), 401.7 req/s" in md
    assert "p95 110 ms" in md and "p99 180 ms" in md and "p99.9 241 ms" in md
    assert "Settings: users 8, spawn rate (users/s) 50, duration 32.0 s, warm-up 2.00 s" in md
    assert "### Baseline (run of 2026-11-20T09:12:00.000Z, commit 0a93065aaaab, target local)" in md
    assert "| p95 | 80 ms | 110 ms | +38 % | ❌ regressed |" in md
    assert "| rps | 395 req/s | 401.7 req/s | +1.7 % |  not gated |" in md
    assert "### How the run ended\n\n- diagnostics: timed out after 60s\n- teardown: failed: kind delete cluster exited 1\n" in md
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_summary_of_passing_and_interrupted_runs() -> None:
    md = render_summary(passing_report())
    assert md.startswith("## ✅ mlharness PASSED on local\n\nAll 6 checks that ran passed.")
    assert "Needs attention" not in md and "### Load" not in md and "### SLO" not in md and "How the run ended" not in md
    md = render_summary(interrupted_report())
    assert md.startswith("## ⚠️ mlharness INTERRUPTED on local")
    assert "**Error:**\n\n```text\ninterrupted\n```\n" in md


def test_summary_shows_the_error_verbatim_in_a_fence_it_cannot_close() -> None:
    report = interrupted_report()
    report.update(status="error", error="Boom: ```\n<b>x</b> | " + "y" * 3000)
    md = render_summary(report)
    assert "````text\nBoom: ```\n<b>x</b> | yyy" in md
    assert "… (cut; the full text is in report.json)\n````" in md


def test_markdown_escape_keeps_tables_and_markup_intact() -> None:
    assert md_escape("a|b\nc <b>[x](y)</b> *z*") == "a\\|b c &lt;b&gt;\\[x\\](y)&lt;/b&gt; \\*z\\*"


# --- JUnit --------------------------------------------------------------------------------------
def test_junit_one_testcase_per_check() -> None:
    report = failing_report()
    root = ET.fromstring(junit(report))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c["name"] for c in report["checks"]]
    assert [c.get("classname") for c in cases][:2] == ["pipeline", "pipeline"]
    failed = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [c.get("name") for c in failed] == ["predict.parity", "slo.p95", "baseline.p95"]
    assert [c.get("name") for c in skipped] == ["robustness.oversized"]
    for element in (root, suite):
        assert (element.get("tests"), element.get("failures"), element.get("skipped")) == ("15", "3", "1")
    failure = failed[0].find("failure")
    assert failure is not None and failure.get("message") == report["checks"][6]["message"]
    assert failure.get("type") == "failed" and '"rows"' in (failure.text or "")
    error = failed[2].find("failure")
    assert error is not None and error.get("type") == "error"
    warned = next(c for c in cases if c.get("name") == "robustness.malformed")
    assert warned.find("failure") is None and (warned.findtext("system-out") or "").startswith("warned: ")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["status"] == "failed" and props["exit_code"] == "1"


def test_junit_survives_control_characters_and_reports_the_run_error() -> None:
    report = interrupted_report()
    report["checks"][0]["message"] = "bad \x00\x1b[31m bytes"
    root = ET.fromstring(junit(report))
    assert root.get("tests") == "1" and root.get("failures") == "0"
    assert "\x00" not in (root.find("testsuite/testcase/system-out").text or "")  # type: ignore[union-attr]
    assert root.findtext("testsuite/system-err") == "run interrupted: interrupted"


# --- the run command's final table ----------------------------------------------------------------
def test_the_run_commands_final_table_renders_from_the_record() -> None:
    from rich.console import Console

    from harness.cli.run import summary_table

    console = Console(record=True, width=160, color_system=None)
    console.print(summary_table(RunRecord.from_dict(failing_report())))
    text = console.export_text()
    assert "mlharness FAILED on local" in text
    assert re.search(r"pipeline\.compile\s*│\s*passed\s*│\s*0\.76 s\s*│\s*compiled builtin:iris", text), text
    assert re.search(r"load\.run\s*│\s*passed\s*│\s*32\.1 s", text) and re.search(r"slo\.p95\s*│\s*failed\s*│\s*0\.00 s\s*│\s*p95 110 ms > 100 ms", text)
    assert "<script>alert(1)</script>" in text, "text from the report is shown as sent, never read as markup"


# --- files and the command ----------------------------------------------------------------------
def _write(tmp_path: Path, report: dict[str, Any]) -> Path:
    (tmp_path / "report.json").write_text(json.dumps(report))
    return tmp_path


def test_render_all_writes_three_files_next_to_report_json(tmp_path: Path) -> None:
    files = render_all(_write(tmp_path, failing_report()))
    assert [f.name for f in files] == ["report.html", "summary.md", "junit.xml"]
    assert all(f.parent == tmp_path and f.stat().st_size > 500 for f in files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.json", "summary.md"]


def test_render_all_reads_what_the_writer_writes(tmp_path: Path) -> None:
    writer = ReportWriter(tmp_path, RunRecord("local", {"target": "local"}))
    writer.record.add_phase("provision", 0.5)
    writer.flush()
    files = render_all(tmp_path)
    assert "INCOMPLETE" in files[0].read_text()
    assert "⏳ mlharness INCOMPLETE on local" in files[1].read_text()


@pytest.mark.parametrize("schema", [1, 2, 3])
def test_report_command_rerenders_and_prints_the_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str], schema: int) -> None:
    report = failing_report() if schema > 1 else as_schema_1(failing_report())
    if schema == 2:  # a schema-2 writer: no diff section
        report = {k: v for k, v in report.items() if k != "diff"} | {"schema_version": 2}
    _write(tmp_path, report)
    assert cli.main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out.split()
    assert out == [str(tmp_path / n) for n in ("report.html", "summary.md", "junit.xml")]
    assert f"(schema {schema})" in (tmp_path / "report.html").read_text()
    assert "slo.p95 | ❌ failed | 110 ms | 100 ms" in (tmp_path / "summary.md").read_text()
    assert cli.main(["report", str(tmp_path / "report.json")]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no report.json in"),
        ('{"status": ', "is not valid JSON"),
        ('{"status": "passed"}', "not an mlharness report (no schema_version)"),
        ('{"schema_version": 99}', "this mlharness reads"),
    ],
)
def test_report_command_rejects_a_missing_or_invalid_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "report.json").write_text(content)
    assert cli.main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlharness report: error: ") and message in err
    assert not (tmp_path / "report.html").exists()
