"""The capacity and resource sections: the record round trip, the gates' verdicts and messages, the views."""

from __future__ import annotations

import re

from harness.checks.capacity import baseline_capacity, capacity_gate, rss_gate
from harness.checks.slo import read_baseline
from harness.load.capacity import CapacityResult, Gates, Step
from harness.load.resources import Series
from harness.record import RunRecord
from harness.results import CheckStatus
from tests.test_render import Page, points, render_html, render_summary
from tests.test_render_samples import capacity_sample, failing_report, passing_report


def _result(capacity: float | None, limited_by: str = "slo") -> CapacityResult:
    step = Step(100.0, 99.0, 2.0, 5.0, 9.0, 0.0, 700)
    return CapacityResult(capacity, 100.0 if capacity else None, 100.0, limited_by, (step,), None, 30.0, "the search's own message")


def test_capacity_gate() -> None:
    assert capacity_gate(_result(420.0), 400).status is CheckStatus.PASSED
    failed = capacity_gate(_result(380.0), 400)
    assert failed.status is CheckStatus.FAILED and failed.message.startswith("capacity at SLO 380 req/s < 400 req/s")
    assert failed.details == {"value": 380.0, "threshold": 400, "unit": "req/s", "limited_by": "slo", "steps": 1, "requests": 700}
    assert capacity_gate(_result(None, "no holding step"), 400).status is CheckStatus.FAILED
    # the generator was the limit: a lower bound that reaches the gate passes, one that does not cannot judge the server
    bound = capacity_gate(_result(420.0, "generator"), 400)
    assert bound.status is CheckStatus.PASSED and "at least 420 req/s" in bound.message
    assert capacity_gate(_result(380.0, "generator"), 400).status is CheckStatus.ERROR


def test_baseline_capacity() -> None:
    reference = read_baseline({"capacity": {"capacity_rps": 500.0}})
    assert baseline_capacity(_result(420.0), reference, 0.2).status is CheckStatus.PASSED  # floor 400
    regressed = baseline_capacity(_result(390.0), reference, 0.2)
    assert regressed.status is CheckStatus.FAILED and "below the floor 400 req/s" in regressed.message and "-22 %" in regressed.message
    assert baseline_capacity(_result(390.0, "generator"), reference, 0.2).status is CheckStatus.ERROR
    assert baseline_capacity(_result(None), reference, 0.2).status is CheckStatus.FAILED
    skipped = baseline_capacity(_result(420.0), read_baseline({"capacity": None}), 0.2)
    assert skipped.status is CheckStatus.SKIPPED and "did not search" in skipped.message


def _series(rss: list[float]) -> Series:
    return Series(tuple(float(t) for t in range(len(rss))), (50.0,) * len(rss), tuple(rss), (1,) * len(rss))


def test_rss_gate_slope_and_warm_up() -> None:
    flat = rss_gate(_series([200.0] * 4 + [210.0 + (t % 2) for t in range(20)]), 10.0, skip_s=4)  # the warm-up step is left out
    assert flat.status is CheckStatus.PASSED and flat.details["value"] < 1.0, flat
    leak = rss_gate(_series([200.0 + 0.5 * t for t in range(24)]), 10.0, skip_s=4)  # 0.5 MB/s = 30 MB/min
    assert leak.status is CheckStatus.FAILED, leak
    assert re.match(r"RSS grows 30(\.0+)? MB/min > 10 MB/min over 19\.0 s \(20 samples", leak.message), leak.message
    assert rss_gate(_series([200.0, 201.0]), 10.0, skip_s=0).status is CheckStatus.SKIPPED


def test_record_round_trip() -> None:
    report = failing_report()
    record = RunRecord.from_dict(report)
    assert record.capacity is not None and record.capacity.capacity_rps == 396.0 and len(record.capacity.steps) == 5
    assert record.resources is not None and len(record.resources.rss_mb) == 30
    assert record.as_dict()["capacity"] == capacity_sample()


def test_html_shows_the_curve_the_table_and_the_resources() -> None:
    html = render_html(failing_report())
    page = Page(html)
    text = page.all_text
    assert set(page.charts["capacity-latency"]) == {"p50", "p95", "p99"}
    assert all(points(s) == 5 for s in page.charts["capacity-latency"].values())
    assert page.thresholds["capacity-latency"] == ["p95 SLO 100 ms", "p99 SLO 250 ms"]
    assert set(page.charts["capacity-throughput"]) == {"achieved", "offered"}
    assert re.search(r"396 req/s\s*at SLO · knee 375 req/s · limited by\s*slo\s*· 5 steps", text), text
    # the table by offered rate, the broken step with its reasons
    rows = re.findall(r"(\d+(?:\.\d)?) req/s\s*(\d+(?:\.\d)?) req/s", text[text.index("Capacity at SLO"):])
    assert [r[0] for r in rows][:5] == ["200", "300", "375", "412.5", "450"]
    assert "achieved 401.2 req/s < 95% of 450 offered" in text  # the sample's text, as a report holds it
    assert set(page.charts["server-cpu"]) == {"CPU"} and points(page.charts["server-rss"]["RSS"]) == 30
    assert "RSS 210 MB at the start, 224.5 MB at most" in text


def test_no_capacity_section_says_how_to_get_one() -> None:
    text = Page(render_html(passing_report())).all_text
    assert "No capacity search (mlharness capacity, or --capacity with mlharness run)" in text


def test_summary_md_has_the_capacity_table() -> None:
    md = render_summary(failing_report())
    assert "### Capacity at SLO" in md and "**396 req/s** at SLO, knee 375 req/s, limited by slo" in md
    assert "| 450 req/s | 401.2 req/s | 80.2 ms | 412 ms | 531 ms | 0.2 % | p95 412.5 ms &gt; 100 ms; p99 530.9 ms &gt; 250 ms;" in md
    assert "### Capacity at SLO" not in render_summary(passing_report())


def test_keep_up_allows_for_the_users_phases_only() -> None:
    gates = Gates(p95_ms=None, p99_ms=None, error_rate=None)
    # 20 users over 2 s: +-2.7 req/s of counting noise; 93 of 100 is within it, 90 is not
    assert gates.judge(Step(100.0, 93.0, 1.0, 1.0, 1.0, 0.0, 186, 2.0, users=20)) == ()
    assert gates.judge(Step(100.0, 90.0, 1.0, 1.0, 1.0, 0.0, 180, 2.0, users=20)) != ()
    # 50 users over 6 s: +-1.4 req/s; without users (a simulated step) no allowance at all
    assert gates.judge(Step(100.0, 93.0, 1.0, 1.0, 1.0, 0.0, 558, 6.0, users=50)) != ()
    assert gates.judge(Step(100.0, 94.9, 1.0, 1.0, 1.0, 0.0, 569, 6.0)) != ()


def test_run_and_capacity_take_the_new_settings_as_flags() -> None:
    from harness.cli.common import config_from_args
    from harness.cli.main import build_parser

    parser = build_parser()
    run = config_from_args(parser.parse_args(["run", "--capacity", "--capacity-step", "4", "--slo-rss-growth", "5",
                                              "--no-server-resources", "--slo-capacity-rps", "300"]))
    assert run.capacity.enabled and run.capacity.step == 4 and run.capacity.min_rps == 300
    assert run.resources.rss_growth == 5 and not run.resources.sample
    capacity = parser.parse_args(["capacity", "--capacity-budget", "60s", "--slo-p95-ms", "50"])
    assert config_from_args(capacity).capacity.budget == 60
