"""``robustness.parity``: on generated valid inputs the served model answers what the artifact does.

Valid inputs are batches of finite floats, in the iris ranges and far beyond them. For each
batch, over every protocol the server speaks (V2 with FP64, so no rounding differs), the
served answer must equal the trained artifact's answer in-process, and V1 and V2 must agree
where both are spoken. Answers are compared as canonical labels (``client.reader``: 1, 1.0
and a class name mapped through ``labels`` are alike). Hypothesis shrinks a disagreement to
the smallest batch that still shows it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from harness import procs
from harness.contract.artifact import agree, expected_answers, load_model
from harness.errors import InferenceError
from harness.inference.client import REST_PROTOCOLS, InferenceClient
from harness.redact import redact
from harness.results import CheckResult, CheckStatus
from harness.robustness.profiles import Profile, hypothesis_settings
from harness.robustness.schema import IRIS_SCHEMA, FeatureSchema

# "beyond" the data's ranges reaches far outside in both directions
WIDE_VALUES = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _in_range(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False) if low < high else st.just(low)


def valid_batches(max_batch: int, schema: FeatureSchema = IRIS_SCHEMA) -> st.SearchStrategy[list[list[float]]]:
    """Batches of 1..``max_batch`` rows of finite floats: each value mostly within its
    feature's range in the data (iris: [0, 8] cm), sometimes far outside it."""
    row = st.tuples(*(st.one_of(_in_range(low, high), _in_range(low, high), WIDE_VALUES) for low, high in schema.ranges)).map(list)
    return st.lists(row, min_size=1, max_size=max_batch)


class _Mismatch(Exception):
    """Raised inside a hypothesis example to mark it failing."""


def run_parity(client: InferenceClient, profile: Profile, model_path: Path | None, failing: CheckStatus, seed: int | None,
               schema: FeatureSchema = IRIS_SCHEMA, tolerance: float | None = None) -> CheckResult:
    """The whole ``robustness.parity`` check. ``failing`` is FAILED or WARNED (severity);
    ``schema`` the feature ranges (the contract's); ``tolerance`` a regressor's (None: labels, exactly)."""
    protocols = tuple(p for p in client.endpoint.protocols if p in REST_PROTOCOLS)  # gRPC: predict.* checks
    both = {"v1", "v2"} <= set(protocols)
    try:
        if model_path is not None:
            load_model(model_path)
    except (OSError, RuntimeError, ValueError) as exc:
        return CheckResult("robustness.parity", CheckStatus.ERROR, f"cannot load the model artifact {model_path}: {exc}")
    if model_path is None and not both:
        only = " and ".join(p.upper() for p in protocols) or "no protocol"
        return CheckResult(
            "robustness.parity", CheckStatus.SKIPPED,
            f"no model artifact to compare with (give --model-artifact) and the server speaks only {only}: nothing to compare",
        )
    started = time.monotonic()
    counts = {"batches": 0, "rows": 0}
    found: dict[str, Any] = {}

    def compare(rows: list[list[float]]) -> str | None:
        try:
            served = {p: list((client.predict(rows) if p == "v1" else client.infer(rows, datatype="FP64")).outputs) for p in protocols}
        except InferenceError as exc:
            return f"a valid input was not answered: {exc}"
        if model_path is not None:
            expected = expected_answers(client, model_path, rows)
            for protocol, answer in served.items():
                if not agree(expected, answer, tolerance):
                    return f"served {protocol.upper()} {answer} != artifact in-process {expected}"
        if both and not agree(served["v1"], served["v2"], tolerance):
            return f"V2 {served['v2']} != V1 {served['v1']}"
        return None

    @hypothesis_settings(profile.parity_examples, seed)
    @given(valid_batches(profile.parity_max_batch, schema))
    def example(rows: list[list[float]]) -> None:
        procs.check_interrupted()
        if time.monotonic() - started > profile.budget_s:
            found.setdefault("stopped", f"time budget of {profile.budget_s:g}s spent")
            return
        counts["batches"] += 1
        counts["rows"] += len(rows)
        problem = compare(rows)
        if problem is not None:
            found.update(rows=rows, problem=problem)
            raise _Mismatch

    try:
        (example if seed is None else hypothesis_seed(seed)(example))()
    except (_Mismatch, HypothesisException, ExceptionGroup):
        pass  # the shrunk disagreement is in ``found``
    duration = time.monotonic() - started
    against = [f"{p.upper()} vs the artifact in-process" for p in protocols] if model_path is not None else []
    against += ["V1 vs V2"] if both else []
    details: dict[str, Any] = {
        "profile": profile.name,
        "seed": seed,
        **counts,
        "duration_s": round(duration, 3),
        "protocols": list(protocols),
        "compared": against,
        "model_artifact": str(model_path) if model_path else None,
        "stopped": found.get("stopped"),
    }
    skipped = "" if model_path is not None else " (no model artifact: give --model-artifact to compare with it)"
    if "problem" in found:
        details["counterexample"] = {"rows": found["rows"], "problem": redact(found["problem"])}
        message = redact(f"smallest disagreeing batch {found['rows']}: {found['problem']}{skipped}")
        return CheckResult("robustness.parity", failing, message, round(duration, 3), details)
    message = f"{counts['batches']} generated batches ({counts['rows']} rows) agree: {', '.join(against)}{skipped}"
    return CheckResult("robustness.parity", CheckStatus.PASSED, message, round(duration, 3), details)
