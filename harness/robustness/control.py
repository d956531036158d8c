"""Controls before judgement: a rejection means something only when the valid request is answered.

A server that answers 400 to every inference request "rejects" every malformed one too; a
server that rejects a request because of its input's *name* rejects a NaN for the wrong
reason. So before judging anything the robustness checks send the **control**, the valid
request built from the model's contract (its seed rows, sent as the checks send them: V1
``instances``, a V2 FP32 ``[N, F]`` tensor named ``input-0``) over every protocol they test, and
require a right answer (the artifact's, else the seed's predictions, else any answer the
output reader accepts). If it fails, the check is ``error``: "cannot judge rejections: the
valid request fails with ...". Each malformed request of the battery is the control with one
thing changed (its body, content type, path, method or tensor), so the control is its valid
twin: a rejection counts only when the twin, sent again after it, is answered. The control
runs once more at the end, and its answer is shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from harness.contract.artifact import agree, expected_answers
from harness.errors import InferenceError
from harness.inference.client import InferenceClient
from harness.inference.discovery import NAMES
from harness.redact import redact
from harness.robustness.schema import FeatureSchema

PROBLEM_LIMIT = 300  # characters of a failed control's error kept


@dataclasses.dataclass(frozen=True)
class Control:
    """The control over one protocol: its canonical answer, or why it is not a right one."""

    protocol: str
    answer: list[Any] | None
    problem: str | None = None
    reference: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    def text(self) -> str:
        """``V1 [1, 1]`` or ``V2 fails: V2 infer answered HTTP 400 ...``."""
        name = NAMES.get(self.protocol, self.protocol.upper())
        return f"{name} {self.answer}" if self.ok else f"{name} fails: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "ok": self.ok, "answer": self.answer, "problem": self.problem, "expected_from": self.reference}


def expected_seed(client: InferenceClient, schema: FeatureSchema, model_path: Any) -> tuple[list[Any] | None, str]:
    """What the seed rows must get: the artifact's answers, else the seed's predictions, else
    nothing to compare with (any answer the reader accepts)."""
    if model_path is not None:
        try:
            return expected_answers(client, model_path, schema.seed), "the model artifact"
        except (OSError, RuntimeError, ValueError):
            pass  # an artifact that does not load: the seed's predictions, as the judge does
    if schema.seed_predictions is not None:
        return client.reader.canonical(schema.seed_predictions), "the seed's predictions"
    return None, "an answer the output reader accepts"


def send_control(client: InferenceClient, protocol: str, schema: FeatureSchema, expected: tuple[list[Any] | None, str],
                 tolerance: float | None = None) -> Control:
    """Send the valid seed request over ``protocol`` and judge its answer."""
    want, reference = expected
    try:
        got = list(client.classify(schema.seed, protocol).outputs)
    except InferenceError as exc:
        return Control(protocol, None, redact(str(exc))[:PROBLEM_LIMIT], reference)
    if want is not None and not agree(want, got, tolerance):
        return Control(protocol, got, f"answered {got}, expected {want} (from {reference})", reference)
    return Control(protocol, got, None, reference)


def controls(client: InferenceClient, protocols: Sequence[str], schema: FeatureSchema, expected: tuple[list[Any] | None, str],
             tolerance: float | None = None) -> dict[str, Control]:
    """The control over each of ``protocols``."""
    return {p: send_control(client, p, schema, expected, tolerance) for p in protocols}


def failed_text(results: dict[str, Control]) -> str | None:
    """``the valid request fails with ... over V2`` for the failed controls, or None."""
    failed = [c for c in results.values() if not c.ok]
    if not failed:
        return None
    return "; ".join(f"the valid request fails over {NAMES.get(c.protocol, c.protocol.upper())} with {c.problem}" for c in failed)


def answers_text(results: dict[str, Control]) -> str:
    """``V1 [1, 1], V2 [1, 1]``."""
    return ", ".join(c.text() for c in results.values())
