"""One release diff, from two ready endpoints to a :class:`~harness.diff.DiffResult`.

In order: both sides described and held against each other (a contradiction is exit 2 before
any request, :mod:`harness.diff.sides`); the same rows to both over every protocol both speak
(:mod:`harness.diff.answers`); interleaved latency windows over the first of them
(:mod:`harness.diff.latency`) and the rank test (:mod:`harness.diff.stats`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.config import HarnessConfig
from harness.contract import ModelContract
from harness.contract.artifact import artifact_labels
from harness.diff import DiffResult, Thresholds
from harness.diff.answers import compare_answers, generated_rows
from harness.diff.latency import interleaved
from harness.diff.sides import contradictions, describe_side
from harness.diff.stats import compare_latency
from harness.errors import ConfigError
from harness.inference.client import InferenceClient, client_for
from harness.results import Endpoint
from harness.robustness.schema import FeatureSchema

#: latency samples kept per side in report.json (evenly spaced, in measured order) for the report's distributions
KEPT_SAMPLES = 5_000


def thresholds(cfg: HarnessConfig) -> Thresholds:
    d = cfg.diff
    return Thresholds(d.max_disagreement, d.max_quality_drop, d.max_latency_increase, d.max_error_rate_increase)


def _kept(values: Sequence[float]) -> tuple[float, ...]:
    if len(values) <= KEPT_SAMPLES:
        return tuple(values)
    step = len(values) / KEPT_SAMPLES
    return tuple(values[int(i * step)] for i in range(KEPT_SAMPLES))


def run_diff(cfg: HarnessConfig, contract: ModelContract, live: Endpoint, candidate: Endpoint, live_client: InferenceClient,
             live_artifact: Path | None, progress: Callable[[str], None], *, candidate_artifact: Path | None = None) -> DiffResult:
    """The whole diff (see the module). ``candidate_artifact``: the candidate's model files where
    known (default: the ``candidate_artifact`` setting).

    Raises:
        ConfigError: the two sides' signatures contradict each other (exit 2; no request was sent).
    """
    d = cfg.diff
    if candidate_artifact is None and d.candidate_artifact:
        candidate_artifact = Path(d.candidate_artifact)
    live_side = describe_side("live", f"{live.model_name} at {live.base_url}", live.signature, live_artifact)
    candidate_side = describe_side("candidate", f"{candidate.model_name} at {candidate.base_url}", candidate.signature, candidate_artifact)
    contradicting = contradictions(live_side, candidate_side)
    if contradicting:
        raise ConfigError("the two models' signatures contradict each other: " + "; ".join(contradicting),
                          "candidate_url" if d.candidate_url else "candidate_pipeline" if d.candidate_pipeline else "candidate_artifact")
    labels = artifact_labels(candidate_artifact) or artifact_labels(live_artifact)
    protocols = [p for p in live.protocols if p in candidate.protocols]
    data = contract.labelled()
    generated = generated_rows(FeatureSchema.from_contract(contract), d.rows)
    tolerance = None if contract.is_classifier else cfg.model.parity_tolerance
    result = DiffResult(live_side, candidate_side, thresholds(cfg))
    with client_for(candidate, cfg, labels, contract.output, contract) as candidate_client:
        progress(f"diff: {len(data) + len(generated)} rows to both sides over {', '.join(protocols) or 'no common protocol'}")
        # labels and classes as the answers are read: canonical (a class name that is class 1 is 1), as predict.quality reads them
        canonical = live_client.reader.canonical if contract.is_classifier else list
        agreement, quality = compare_answers(
            live_client, candidate_client, data.rows, canonical(data.labels), generated, protocols, tolerance=tolerance, shown=d.shown,
            classes=canonical(contract.classes), classifier=contract.is_classifier,
        )
        if not protocols:
            return _replace(result, agreement=agreement, quality=quality)
        protocol = protocols[0]
        rows = [*data.rows, *generated] or list(contract.sample_rows(64))
        live_samples, candidate_samples = interleaved(live_client, candidate_client, rows, protocol, windows=d.windows, window_s=d.window,
                                                      progress=progress)
    latency = compare_latency(live_samples.latencies_ms, candidate_samples.latencies_ms, max_increase=d.max_latency_increase,
                              alpha=d.alpha, live_errors=live_samples.errors, candidate_errors=candidate_samples.errors,
                              live_windows=live_samples.windows, candidate_windows=candidate_samples.windows)
    return _replace(result, agreement=agreement, quality=quality, latency=latency, latency_protocol=protocol, windows=d.windows,
                    window_s=d.window, live_latencies_ms=_kept(live_samples.latencies_ms),
                    candidate_latencies_ms=_kept(candidate_samples.latencies_ms),
                    first_errors={"live": live_samples.first_error, "candidate": candidate_samples.first_error})


def _replace(result: DiffResult, **changes: Any) -> DiffResult:
    return dataclasses.replace(result, **changes)
