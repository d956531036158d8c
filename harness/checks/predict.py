"""Verification checks against a served model, cheapest first.

Each function returns a :class:`~harness.results.CheckResult` named after the check
(``predict.golden``...). A failure message reads like a diff: what was expected, what came.
Checks run over the protocols the endpoint was found to speak (``Endpoint.protocols``: V1,
V2 REST, V2 gRPC): golden cases, accuracy and parity over each of them, and
``predict.protocols`` compares every protocol spoken with the first (V1 where spoken). Answers are compared as
canonical labels (:class:`harness.inference.outputs.OutputReader`): ``1``, ``1.0`` and a class name
that maps to index 1 are the same answer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.contract.artifact import (
    agree,
    expected_answers,
    within_tolerance,
)
from harness.contract.golden import SEED_CASE, SEED_PREDICTIONS, GoldenCase, iris_rows
from harness.errors import InferenceError
from harness.inference.client import InferenceClient
from harness.inference.discovery import NAMES
from harness.results import CheckResult, CheckStatus


def _timed(name: str, fn: Any) -> CheckResult:
    started = time.perf_counter()
    try:
        status, message, details = fn()
    except InferenceError as exc:
        status, message, details = CheckStatus.FAILED, str(exc), {"http_status": exc.status}
    return CheckResult(name, status, message, round(time.perf_counter() - started, 3), details)


def _diff(expected: Sequence[Any], got: Sequence[Any], limit: int = 5) -> str:
    if len(expected) != len(got):
        return f"expected {len(expected)} predictions, got {len(got)}: expected {list(expected)}, got {list(got)}"
    rows = [f"row {i}: expected {e!r}, got {g!r}" for i, (e, g) in enumerate(zip(expected, got, strict=True)) if e != g]
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return "; ".join(rows[:limit]) + more


def _diff_within(expected: Sequence[Any], got: Sequence[Any], tolerance: float | None, limit: int = 5) -> str:
    if tolerance is None or len(expected) != len(got):
        return _diff(expected, got, limit)
    rows = [f"row {i}: expected {e!r}, got {g!r}" for i, (e, g) in enumerate(zip(expected, got, strict=True)) if not within_tolerance(e, g, tolerance)]
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return "; ".join(rows[:limit]) + more + f" (tolerance {tolerance:g})"


def _protocol_names(protocols: Sequence[str]) -> str:
    names = [NAMES.get(p, p.upper()) for p in protocols]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]




def check_golden(client: InferenceClient, cases: Sequence[GoldenCase], tolerance: float | None = None) -> CheckResult:
    """``predict.golden``: every golden case gets exactly its predictions (a regressor's within
    ``tolerance``), over every protocol spoken."""

    def run() -> tuple[CheckStatus, str, dict[str, Any]]:
        protocols = client.endpoint.protocols
        failures: list[dict[str, Any]] = []
        for protocol in protocols:
            for case in cases:
                got = list(client.classify(case.instances, protocol).outputs)
                expected = client.reader.canonical(case.predictions)
                if not agree(expected, got, tolerance):
                    failures.append({"case": case.source, "protocol": protocol, "expected": expected, "got": got,
                                     "diff": _diff_within(expected, got, tolerance)})
        details: dict[str, Any] = {"cases": len(cases), "protocols": list(protocols)}
        if not cases:
            return CheckStatus.SKIPPED, "the contract has no golden cases (add [[model.golden]] to it, or --golden-file)", details
        if failures:
            first = failures[0]
            return (
                CheckStatus.FAILED,
                f"{len(failures)} of {len(cases) * len(protocols)} golden answer(s) differ; {first['case']} over {NAMES.get(first['protocol'], first['protocol'])}: {first['diff']}",
                {**details, "failures": failures},
            )
        seed = f" (seed: {list(SEED_PREDICTIONS)})" if SEED_CASE in cases else ""
        return CheckStatus.PASSED, f"{len(cases)} golden case(s) answer as expected over {_protocol_names(protocols)}{seed}", details

    return _timed("predict.golden", run)


def served(client: InferenceClient, rows: Sequence[Sequence[float]], protocol: str | None = None) -> list[Any]:
    """The served model's canonical answers for ``rows``, in batches of :data:`harness.inference.client.MAX_BATCH` (:meth:`~harness.inference.client.InferenceClient.batches`)."""
    answers: list[Any] = []
    for batch in client.batches(rows):
        try:
            answers.extend(client.classify(batch, protocol).outputs)
        except InferenceError as exc:  # name the data's rows: an error's "row 3" is the batch's
            first = len(answers)
            raise InferenceError(f"{exc} (the request held rows {first}-{first + len(batch) - 1} of the data)", exc.status, exc.body,
                                 timed_out=exc.timed_out) from exc
    return answers


def check_parity(client: InferenceClient, model_path: Path | None, rows: Sequence[Sequence[float]] | None = None,
                 tolerance: float | None = None, what: str = "iris rows") -> CheckResult:
    """``predict.parity``: the served model answers what the trained artifact answers in-process
    on ``rows`` (default: the iris rows), exactly for labels, within ``tolerance`` for a
    regressor, over every protocol spoken (the first that differs fails it, named)."""
    if model_path is None:
        return CheckResult("predict.parity", CheckStatus.SKIPPED, "no model artifact to compare with (give --model-artifact)")

    def run() -> tuple[CheckStatus, str, dict[str, Any]]:
        data = rows if rows is not None else iris_rows()[0]
        expected = expected_answers(client, model_path, data)
        protocols = client.endpoint.protocols or (client.endpoint.primary_protocol,)
        details: dict[str, Any] = {"rows": len(data), "protocols": list(protocols), "tolerance": tolerance}
        for protocol in protocols:
            answers = served(client, data, protocol)
            if not agree(expected, answers, tolerance):
                return (CheckStatus.FAILED, f"served model ({NAMES.get(protocol, protocol)}) differs from the artifact at {model_path}: "
                        f"{_diff_within(expected, answers, tolerance)}", {**details, "protocol": protocol})
        same = "==" if tolerance is None else "≈"
        return CheckStatus.PASSED, f"served ({_protocol_names(protocols)}) {same} in-process artifact on all {len(data)} {what}", details

    return _timed("predict.parity", run)


def check_protocols(client: InferenceClient, rows: Sequence[Sequence[float]] | None = None, tolerance: float | None = None,
                    what: str = "iris rows") -> CheckResult:
    """``predict.protocols``: every protocol spoken (V1, V2 REST, V2 gRPC) gives the first one's
    answers on ``rows`` (default: the iris rows), a regressor's within ``tolerance``."""
    protocols = client.endpoint.protocols
    if len(protocols) < 2:
        only = _protocol_names(protocols) or "no protocol"
        return CheckResult(
            "predict.protocols", CheckStatus.SKIPPED, f"the server speaks only {only}: nothing to compare", 0.0, {"protocols": list(protocols)}
        )

    def run() -> tuple[CheckStatus, str, dict[str, Any]]:
        data = rows if rows is not None else iris_rows()[0]
        reference, others = protocols[0], protocols[1:]
        mismatches: dict[str, list[str]] = {}
        for batch in client.batches(data):
            expected = list(client.classify(batch, reference).outputs)
            for other in others:
                got = list(client.classify(batch, other).outputs)
                if not agree(expected, got, tolerance):
                    mismatches.setdefault(other, []).append(_diff_within(expected, got, tolerance))
        details: dict[str, Any] = {"rows": len(data), "protocols": list(protocols)}
        if mismatches:
            other, diffs = next(iter(mismatches.items()))
            want, got_name = NAMES.get(reference, reference), NAMES.get(other, other)
            return (
                CheckStatus.FAILED,
                f"{got_name} disagrees with {want} (expected = {want}, got = {got_name}): {diffs[0]}",
                {**details, "mismatched_batches": {p: len(d) for p, d in mismatches.items()}},
            )
        return CheckStatus.PASSED, f"{_protocol_names(protocols)} agree on all {len(data)} {what}", details

    return _timed("predict.protocols", run)
