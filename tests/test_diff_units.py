"""The release diff's parts, in-process: the statistics on deterministic samples, the sides'
contradictions, the answers' comparison, the checks' verdicts, the record and its views."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from harness.checks import CheckContext, RunInputs
from harness.checks import diff as checks
from harness.config import load_config
from harness.diff import DiffResult, Thresholds
from harness.diff.answers import (
    Agreement,
    Disagreement,
    Quality,
    _confusion,
    _quality,
    generated_rows,
)
from harness.diff.sides import Side, contradictions, describe_side
from harness.diff.stats import compare_latency, hodges_lehmann, side_latency
from harness.record import RunRecord
from harness.results import CheckStatus
from harness.signature import Signature, TensorSpec

# deterministic samples: a 2 ms service with a little spread, repeated
BASE = [2.0 + 0.01 * (i % 17) + 0.05 * ((i * 7) % 5) for i in range(600)]


def test_the_same_samples_are_no_difference() -> None:
    result = compare_latency(BASE, list(reversed(BASE)), max_increase=0.2, alpha=0.01)
    assert result.p_value is not None and result.p_value > 0.4
    assert not result.significant and not result.regressed
    assert result.shift_ms == 0.0 and result.common_language == pytest.approx(0.5, abs=0.01)


def test_a_40ms_slowdown_is_a_regression_with_its_shift() -> None:
    result = compare_latency(BASE, [v + 40 for v in BASE[:60]], max_increase=0.2, alpha=0.01)
    assert result.regressed and result.beyond == ("p50", "p95", "p99")
    assert result.shift_ms == pytest.approx(40, abs=0.01)
    assert result.common_language == 1.0 and result.p_value < 1e-20


def test_a_2_percent_wobble_is_significant_but_no_regression() -> None:
    result = compare_latency(BASE, [v * 1.02 for v in BASE], max_increase=0.2, alpha=0.01)
    assert result.significant and not result.regressed
    assert result.changes["p50"] == pytest.approx(0.02, abs=1e-3)


def test_a_tail_grown_in_one_window_only_is_no_regression() -> None:
    """One burst of noise in one candidate window: pooled p99 far beyond +20 %, yet not in every window pair."""
    live = [BASE[:200], BASE[200:400], BASE[400:]]
    burst = [v + 30 if i % 10 == 0 else v for i, v in enumerate(BASE[:200])]
    candidate = [burst, BASE[200:400], BASE[400:]]
    flat = [v for w in candidate for v in w]
    pooled = compare_latency(BASE, flat, max_increase=0.2, alpha=0.01)
    windowed = compare_latency(BASE, flat, max_increase=0.2, alpha=0.01, live_windows=live, candidate_windows=candidate)
    assert pooled.changes["p99"] > 1 and pooled.beyond == ("p99",)  # pooled alone, its tail is beyond +20 %
    assert windowed.beyond == () and not windowed.regressed and windowed.window_changes["p99"][1] == 0.0


def test_a_tail_grown_in_every_window_is_a_regression() -> None:
    """Every 10th request 30 ms slower, in every window: p95 and p99 regress, the median does not move."""
    slow = [v + 30 if i % 10 == 0 else v for i, v in enumerate(BASE)]
    windows = [BASE[:200], BASE[200:400], BASE[400:]]
    result = compare_latency(BASE, slow, max_increase=0.2, alpha=0.05, live_windows=windows,
                             candidate_windows=[slow[:200], slow[200:400], slow[400:]])
    assert result.beyond == ("p95", "p99") and result.regressed


def test_too_few_samples_is_no_test() -> None:
    result = compare_latency(BASE, [], max_increase=0.2, alpha=0.01, candidate_errors=5)
    assert result.p_value is None and not result.regressed
    assert result.candidate.requests == 5 and result.candidate.error_rate == 1.0


def test_hodges_lehmann_of_a_shift_and_side_percentiles() -> None:
    assert hodges_lehmann([1, 2, 3], [11, 12, 13]) == 10
    side = side_latency([1.0, 2.0, 3.0, 4.0], errors=1)
    assert (side.requests, side.samples, side.p50_ms, side.error_rate) == (5, 4, 2.5, 0.2)


def _side(role: str, **kw: Any) -> Side:
    return Side(role, f"{role}-model at http://{role}", sources={k: "test" for k in kw}, **kw)


def test_contradictions_name_both_sides_and_skip_what_is_unknown() -> None:
    live = _side("live", width=4, task="classification", classes=(0, 1, 2))
    assert contradictions(live, _side("candidate", width=4)) == []
    found = contradictions(live, _side("candidate", width=5, task="regression", classes=None))
    assert len(found) == 2
    assert found[0].startswith("feature count: live live-model at http://live has 4") and "candidate candidate-model" in found[0]
    assert found[1].startswith("task:")


def test_a_side_from_its_signature_and_artifact(model_dir: Path) -> None:
    columns = Signature(tuple(TensorSpec(n, "FP64", (-1, 1)) for n in ("a", "b", "c", "d")), codec="columns",
                        sources={"inputs": "the server's metadata"})
    side = describe_side("candidate", "x", columns, model_dir)
    assert (side.width, side.feature_names, side.task, side.classes) == (4, ("a", "b", "c", "d"), "classification", (0, 1, 2))
    assert side.sources["width"] == "the server's metadata" and "artifact" in side.sources["classes"]


def test_generated_rows_are_distinct_and_the_same_every_time() -> None:
    from harness.contract import IRIS
    from harness.robustness.schema import FeatureSchema

    schema = FeatureSchema.from_contract(IRIS)
    first = generated_rows(schema, 12)
    assert len(first) == len(set(first)) == 12 and all(len(r) == 4 for r in first)
    assert generated_rows(schema, 12) == first
    assert generated_rows(schema, 0) == []


def test_confusion_and_quality() -> None:
    classes, matrix = _confusion([0, 1, 2, 2], [0, 2, 2, 7], (0, 1, 2))
    assert classes == (0, 1, 2, 7) and matrix[1] == (0, 0, 1, 0) and matrix[2] == (0, 0, 1, 1)
    q = _quality([0, 1, 2, 2], [0, 1, 2, 2], [0, 2, 2, 7], classifier=True)
    assert q.metrics["accuracy"] == {"live": 1.0, "candidate": 0.5, "change": -0.5}
    r = _quality([1.0, 2.0], [1.0, 2.0], [1.5, 2.5], classifier=False)
    assert r.metrics["mae"] == {"live": 0.0, "candidate": 0.5, "change": 0.5} and r.worse_when["mae"] == "higher"


def _result(disagreeing: int = 0, candidate_shift: float = 0.0, candidate_accuracy: float = 0.97) -> DiffResult:
    shown = (Disagreement(3, "labelled", "v1", (4.6, 3.1, 1.5, 0.2), 0, 1, 0),) if disagreeing else ()
    agreement = Agreement(100, 50, 50, ("v1", "v2"), 200, disagreeing, 8, 0, None, shown, (0, 1, 2), ((60, 0, 0), (0, 70, 0), (0, 0, 70)))
    quality = Quality("classification", 50, {"accuracy": {"live": 0.97, "candidate": candidate_accuracy,
                                                          "change": round(candidate_accuracy - 0.97, 4)}}, {"accuracy": "lower"})
    latency = compare_latency(BASE, [v + candidate_shift for v in BASE], max_increase=0.2, alpha=0.01)
    return DiffResult(_side("live", width=4), _side("candidate", width=4), Thresholds(), agreement, quality, latency, "v1", 3, 0.4,
                      tuple(BASE[:50]), tuple(v + candidate_shift for v in BASE[:50]), {"live": None, "candidate": None})


def _ctx(result: DiffResult) -> CheckContext:
    cfg = load_config(cli={"candidate_url": "http://candidate"})
    return CheckContext(cfg, RunInputs(), Path("."), lambda need: result)


def test_the_checks_pass_a_candidate_like_the_live_model() -> None:
    ctx = _ctx(_result())
    got = {fn.__name__: fn(ctx) for fn in (checks.agreement, checks.quality, checks.latency, checks.errors)}
    assert {k: v.status for k, v in got.items()} == dict.fromkeys(got, CheckStatus.PASSED)
    assert got["agreement"].evidence == {"rows": 100, "comparisons": 200}
    assert got["latency"].message.startswith("no significant difference") and "p=" in got["latency"].message


def test_the_checks_fail_what_regressed() -> None:
    ctx = _ctx(_result(disagreeing=20, candidate_shift=40.0, candidate_accuracy=0.9))
    assert checks.agreement(ctx).status is CheckStatus.FAILED
    assert "first: row 3 (labelled, V1): live 0, candidate 1, label 0" in checks.agreement(ctx).message
    assert checks.quality(ctx).status is CheckStatus.FAILED
    assert checks.latency(ctx).status is CheckStatus.FAILED
    assert checks.errors(ctx).status is CheckStatus.PASSED


def test_without_a_candidate_the_checks_say_why() -> None:
    assert "no candidate" in (checks.no_candidate(load_config()) or "")
    assert checks.no_candidate(load_config(cli={"candidate_artifact": "m.joblib"})) is None


def test_the_diff_section_reads_back_from_report_json() -> None:
    record = RunRecord("endpoint")
    record.diff = _result(disagreeing=20)
    data = record.as_dict()
    assert data["schema_version"] == 3 and data["diff"]["agreement"]["disagreeing"] == 20
    back = RunRecord.from_dict(data)
    assert back.diff is not None
    assert back.diff.as_dict() == data["diff"]
    assert dataclasses.replace(back, started_at=record.started_at).as_dict()["diff"] == data["diff"]


def test_the_views_show_the_diff(tmp_path: Path) -> None:
    from harness.reports.render import render_html, render_summary

    record = RunRecord("endpoint")
    record.diff = _result(disagreeing=20, candidate_shift=40.0)
    html, md = render_html(record), render_summary(record)
    assert 'id="diff-latency"' in html and "Disagreeing rows" in html and "Confusion matrix" in html
    assert "### Release diff: candidate vs live" in md and "| diff.latency | p50 |" in md


def test_the_thresholds_come_from_a_config_table(tmp_path: Path) -> None:
    from harness.config import read_config_file

    (tmp_path / "harness.toml").write_text('[diff]\nmax_disagreement = "1%"\nmax_latency_increase = "10%"\nwindows = 8\n')
    file, source = read_config_file(None, cwd=tmp_path)
    cfg = load_config(file=file, file_source=source)
    assert (cfg.diff.max_disagreement, cfg.diff.max_latency_increase, cfg.diff.windows) == (0.01, 0.1, 8)


def test_the_dry_run_plan_names_both_sides_and_a_clusters_candidate_inference_service() -> None:
    from harness.cli.diff import plan

    cluster = plan(load_config(cli={"target": "kind", "candidate_artifact": "s3://models/candidate"}))
    assert "kind: InferenceService" in cluster and "name: sklearn-iris-candidate" in cluster and "storageUri: s3://models/candidate" in cluster
    assert "unverified without a cluster" in cluster
    endpoint = plan(load_config(cli={"target": "endpoint", "url": "http://live:8080",
                                     "candidate_url": "http://user:hunter2-secret@canary:8080"}))
    assert "live:       the endpoint at http://live:8080" in endpoint and "hunter2-secret" not in endpoint
    assert "InferenceService" not in endpoint


def test_a_candidate_credential_is_masked_or_refused() -> None:
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match="candidate_token: the candidate's token cannot be masked safely"):
        load_config(cli={"candidate_token": "abc"})
    cfg = load_config(cli={"candidate_cookie": "session=candidate-cookie-value-1", "candidate_url": "http://u:pw-secret-9@h:1/"})
    assert cfg.as_dict()["candidate_cookie"] == "***" and cfg.as_dict()["candidate_url"] == "http://***:***@h:1/"


def test_quality_of_both_sides_uses_predict_qualitys_figures() -> None:
    from harness.diff.answers import _quality

    classes = _quality([0, 1, 1, 2], [0, 1, 1, 2], [0, 1, 0, 2], classifier=True)
    assert classes.metrics["accuracy"] == {"live": 1.0, "candidate": 0.75, "change": -0.25}
    numbers = _quality([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 6.0], classifier=False)
    assert numbers.metrics["mae"] == {"live": 0.0, "candidate": 1.0, "change": 1.0}
    assert numbers.metrics["rmse"] == {"live": 0.0, "candidate": pytest.approx(1.732051), "change": pytest.approx(1.732051)}
    errored = _quality([1.0, 2.0], [1.0, 2.0], [1.0, "error: HTTP 500"], classifier=False)  # no number, no figure
    assert errored.metrics["mae"] == {"live": 0.0, "candidate": None, "change": None}
