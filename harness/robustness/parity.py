"""``robustness.parity``: on generated valid inputs the served model answers what the artifact does.

Valid inputs are batches of finite floats, in the iris ranges and far beyond them. For each
batch, over every protocol the server speaks (V2 with FP64, so no rounding differs), the
served answer must equal the trained artifact's answer in-process, and V1 and V2 must agree
where both are spoken. Answers are compared as canonical labels (``client.reader``: 1, 1.0
and a class name mapped through ``labels`` are alike). Hypothesis shrinks a disagreement to
the smallest batch that still shows it.

No verdict without evidence: the valid control request (:mod:`harness.robustness.control`)
is sent over each protocol first; if it fails the check is an error, not a disagreement. It
runs again at the end and its answer is shown. A gRPC-only endpoint is skipped (the check
sends HTTP; ``predict.parity`` covers gRPC), and a run that compared no batch is an error.
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
from harness.inference.discovery import NAMES
from harness.inference.encoder import Encoder
from harness.redact import redact
from harness.results import CheckResult, CheckStatus
from harness.robustness.control import answers_text, controls, expected_seed, failed_text
from harness.robustness.profiles import Profile, hypothesis_settings
from harness.robustness.schema import IRIS_SCHEMA, FeatureSchema
from harness.signature import exact

# "beyond" the data's ranges reaches far outside in both directions
WIDE_VALUES = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _in_range(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False) if low < high else st.just(low)


def valid_batches(max_batch: int, schema: FeatureSchema = IRIS_SCHEMA) -> st.SearchStrategy[list[list[float]]]:
    """Batches of 1..``max_batch`` rows of finite floats: each value mostly within its
    feature's range in the data (iris: [0, 8] cm), sometimes far outside it; a text feature's
    value drawn from its allowed values."""
    texts = schema.values or (None,) * len(schema.ranges)
    row = st.tuples(*(st.sampled_from(allowed) if allowed else st.one_of(_in_range(low, high), _in_range(low, high), WIDE_VALUES)
                      for (low, high), allowed in zip(schema.ranges, texts, strict=True))).map(list)
    return st.lists(row, min_size=1, max_size=max_batch)


class _Mismatch(Exception):
    """Raised inside a hypothesis example to mark it failing."""


def run_parity(client: InferenceClient, profile: Profile, model_path: Path | None, failing: CheckStatus, seed: int | None,
               schema: FeatureSchema = IRIS_SCHEMA, tolerance: float | None = None) -> CheckResult:
    """The whole ``robustness.parity`` check. ``failing`` is FAILED or WARNED (severity);
    ``schema`` the feature ranges (the contract's); ``tolerance`` a regressor's (None: labels, exactly)."""
    protocols = tuple(p for p in client.endpoint.protocols if p in REST_PROTOCOLS)  # gRPC: predict.* checks
    both = {"v1", "v2"} <= set(protocols)
    if not protocols:
        spoken = " and ".join(NAMES.get(p, p.upper()) for p in client.endpoint.protocols) or "no protocol"
        return CheckResult("robustness.parity", CheckStatus.SKIPPED,
                           f"the check sends HTTP requests (V1, V2 REST) and the endpoint is tested over {spoken} only: 0 batches compared "
                           "(predict.parity compares gRPC with the artifact)", 0.0,
                           {"protocols": [], "spoken": list(client.endpoint.protocols), "batches": 0, "rows": 0, "compared": []})
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
    expected_control = expected_seed(client, schema, model_path)
    before = controls(client, protocols, schema, expected_control, tolerance)
    failed = failed_text(before)
    if failed:
        return CheckResult("robustness.parity", CheckStatus.ERROR, redact(f"cannot judge parity: {failed}; 0 batches compared"),
                           round(time.monotonic() - started, 3),
                           {"protocols": list(protocols), "batches": 0, "rows": 0, "compared": [],
                            "controls": {"before": {p: c.as_dict() for p, c in before.items()}}})
    counts = {"batches": 0, "rows": 0}
    found: dict[str, Any] = {}

    def compare(rows: list[list[float]]) -> str | None:
        try:
            served = {p: list((client.predict(rows) if p == "v1" else client.infer(rows, Encoder(exact(client.encoder.signature)))).outputs) for p in protocols}
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
    after = controls(client, protocols, schema, expected_control, tolerance)
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
        "controls": {"before": {p: c.as_dict() for p, c in before.items()}, "after": {p: c.as_dict() for p, c in after.items()}},
    }
    skipped = "" if model_path is not None else " (no model artifact: give --model-artifact to compare with it)"
    if "problem" in found:
        details["counterexample"] = {"rows": found["rows"], "problem": redact(found["problem"])}
        message = redact(f"smallest disagreeing batch {found['rows']}: {found['problem']}{skipped}")
        return CheckResult("robustness.parity", failing, message, round(duration, 3), details)
    if failed_text(after):
        return CheckResult("robustness.parity", failing, redact(f"after {counts['batches']} generated batches {failed_text(after)}"),
                           round(duration, 3), details)
    if counts["batches"] == 0:
        return CheckResult("robustness.parity", CheckStatus.ERROR, f"0 batches compared ({found.get('stopped') or 'no example ran'})",
                           round(duration, 3), details)
    message = (f"{counts['batches']} generated batches ({counts['rows']} rows) agree: {', '.join(against)}{skipped}; "
               f"the control answers before and after ({answers_text(after)})")
    return CheckResult("robustness.parity", CheckStatus.PASSED, message, round(duration, 3), details)
