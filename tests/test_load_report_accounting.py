"""The report shows what a load window accounted for: sent, answered, failed, unfinished; stalls; the users that started."""

from __future__ import annotations

import dataclasses

from harness.load.results import LatencySummary, LoadResult, Stall
from harness.record import RunRecord
from harness.reports.render import render_html, render_summary


def _record() -> RunRecord:
    load = LoadResult(requests=1000, failures=40, rps=50.0, latency_ms=LatencySummary(960, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0),
                      users=1, users_configured=32, duration_s=22.0, measured_s=20.0, unfinished=12, unfinished_failed=5,
                      stalls=(Stall(3.0, 4.004, 32),))
    record = RunRecord.from_dict({"schema_version": 1})
    return dataclasses.replace(record, load=load)


def test_summary_and_html_show_the_accounting_the_stalls_and_the_users_that_started() -> None:
    record = _record()
    summary, html = render_summary(record), render_html(record)
    accounting = "1,000 sent: 960 answered, 40 failed (12 unfinished at the window's end, waited for up to the request timeout: 7 answered, 5 failed)"
    for page in (summary, html):
        assert accounting in page.replace("&#39;", "'"), page
        assert "t=3.0s: no answer for 4.00 s with 32 requests in flight" in page
        assert "1 of 32 started" in page
