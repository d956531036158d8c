"""The release diff: the candidate model judged against the live one, on the same requests.

``mlharness diff`` (and the ``harness_diff`` fixture) sends the same rows to both sides over
every protocol both speak (:mod:`harness.diff.answers`), measures both sides' latency in
interleaved windows (:mod:`harness.diff.latency`) and compares them with a rank test
(:mod:`harness.diff.stats`); the two signatures are compared first (:mod:`harness.diff.sides`).
:class:`DiffResult` is what the run records (``report.json``'s ``diff`` section); the
``diff.*`` checks judge it against the change thresholds (:mod:`harness.checks.diff`).
See docs/diff.md.
"""

from __future__ import annotations

from harness.diff.records import Agreement, DiffResult, Disagreement, Quality, Side, Thresholds
from harness.diff.stats import LatencyComparison, SideLatency

__all__ = ["Agreement", "DiffResult", "Disagreement", "LatencyComparison", "Quality", "Side", "SideLatency", "Thresholds"]
