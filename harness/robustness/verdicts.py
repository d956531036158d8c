"""The verdict on one answer: malformed requests and valid-but-unusual ones are judged apart.

- A **malformed** request must get a 4xx with an error body (a wrong method: any 4xx, 405
  expected). A 5xx, a 2xx, a redirect, silence or a hang is a finding.
- A **valid but unusual** request may be served or declined: a 2xx must carry the right
  predictions (from the model artifact, else the seed's predictions, else the server's own
  answer to the same rows sent plainly); any 4xx is a fair refusal. A 5xx, a redirect,
  silence, a hang or a wrong prediction is a finding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.config.accepted import AcceptedEntry
from harness.config.categories import CATEGORIES, MALFORMED
from harness.contract.artifact import agree, expected_answers, load_model
from harness.contract.golden import SEED_PREDICTIONS
from harness.errors import InferenceError
from harness.inference.client import Answer, InferenceClient
from harness.inference.encoder import Encoder
from harness.inference.outputs import OutputError
from harness.redact import preview
from harness.robustness.requests import Request
from harness.signature import exact

BODY_LIMIT = 300  # characters of an answer kept in a finding (redacted first, then cut)
DIFF_ROWS = 3


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What came back for one request: a status and a (redacted) body, or a transport failure."""

    status: int | None
    body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""
    timed_out: bool = False

    @classmethod
    def of(cls, answer: Answer) -> Outcome:
        if 300 <= answer.status_code < 400:
            return cls(answer.status_code, "redirect to " + (preview(answer.location, BODY_LIMIT) or "(no Location)"), answer.elapsed_ms)
        return cls(answer.status_code, answer.body_preview(BODY_LIMIT), answer.elapsed_ms)

    def transport_problem(self) -> str | None:
        """Why there is no answer to judge, or None if there is one."""
        if self.timed_out:
            return f"no answer within the per-request timeout ({self.error})"
        if self.status is None:
            return f"no HTTP answer: {self.error}"
        return None


def malformed_problem(request: Request, outcome: Outcome) -> str | None:
    """Why this answer to a malformed request breaks the contract, or None if it keeps it."""
    transport = outcome.transport_problem()
    if transport or outcome.status is None:
        return transport
    status = outcome.status
    expects = CATEGORIES[request.category].expects
    if status >= 500:
        return f"server error HTTP {status} (expected {expects})"
    if 200 <= status < 300:
        return f"accepted with HTTP {status} (expected {expects})"
    if status < 400:
        return f"HTTP {status} (expected {expects})"
    if request.category != "wrong_method" and not outcome.body.strip():
        return f"HTTP {status} without an error body"
    return None


def diff(expected: Sequence[Any], got: Sequence[Any]) -> str:
    """``2 of 20000 predictions differ: row 0 expected 1, got 2; ...``."""
    if len(expected) != len(got):
        return f"{len(got)} predictions for {len(expected)} rows"
    rows = [i for i, (e, g) in enumerate(zip(expected, got, strict=True)) if e != g]
    shown = "; ".join(f"row {i}: expected {expected[i]!r}, got {got[i]!r}" for i in rows[:DIFF_ROWS])
    return f"{len(rows)} of {len(expected)} predictions differ: {shown}" + (" ..." if len(rows) > DIFF_ROWS else "")


class Judge:
    """Judges answers; knows what a valid request's predictions must be.

    Args:
        client: reads answers (``client.reader``: canonical labels) and, without an artifact,
            asks the server for its plain answer to coerced rows.
        model_path: the trained artifact (None: seed predictions or the server's plain answer).
        seed_predictions: what the seed rows answer (None: unknown).
        tolerance: a regressor's answers agree within it (see :func:`harness.contract.artifact.agree`);
            None: labels, compared exactly.
    """

    def __init__(self, client: InferenceClient, model_path: Path | None, seed_predictions: tuple[Any, ...] | None = SEED_PREDICTIONS,
                 tolerance: float | None = None) -> None:
        self.client = client
        self.model_path = model_path
        self.seed_predictions = seed_predictions
        self.tolerance = tolerance
        self.reference = "the model artifact in-process" if model_path else "the seed's predictions"
        if model_path is not None:
            try:
                load_model(model_path)
            except (OSError, RuntimeError, ValueError) as exc:
                self.model_path = None
                self.reference = f"the seed's predictions (the artifact did not load: {exc})"

    def expected(self, request: Request) -> tuple[list[Any] | None, str]:
        """The canonical predictions ``request.rows`` must get, and where they come from."""
        rows = request.rows or ()
        if self.model_path is not None:
            try:
                return expected_answers(self.client, self.model_path, rows), "the model artifact"
            except ValueError as exc:  # e.g. a category the artifact's encoder refuses: nothing to hold the answer to
                return None, f"unchecked: the artifact in-process does not answer these rows ({str(exc)[:200]})"
        if request.seed_rows and self.seed_predictions is not None:
            seed = self.client.reader.canonical(self.seed_predictions)
            return [seed[i % len(seed)] for i in range(len(rows))], "the seed's predictions"
        plain = self.client.endpoint.primary_protocol
        try:
            answer = self.client.predict(rows) if plain == "v1" else self.client.infer(rows, Encoder(exact(self.client.encoder.signature)))
        except InferenceError as exc:
            return None, f"unchecked: the plain request failed too ({exc})"
        return list(answer.outputs), f"the server's own {plain.upper()} answer to the same rows sent plainly"

    def unusual(self, request: Request, outcome: Outcome, answer: Answer | None) -> tuple[str | None, str]:
        """(why the answer to a valid request is wrong, or None; how it passed: answered, declined
        or unchecked)."""
        transport = outcome.transport_problem()
        if transport or outcome.status is None or answer is None:
            return transport or "no answer", ""
        status = outcome.status
        if status >= 500:
            return f"server error HTTP {status} (a valid request may be declined with a 4xx, never a 5xx)", ""
        if 400 <= status < 500:
            return None, "declined"
        if not 200 <= status < 300:
            return f"HTTP {status} to a valid request (expected a 2xx with its predictions, or a 4xx)", ""
        if answer.truncated:
            return f"HTTP {status} with an answer longer than {len(answer.content)} bytes: cut off, its predictions unchecked (raise max_response_bytes if that size is expected)", ""
        rows = len(request.rows or ())
        try:
            data = answer.json()
            got = self.client.reader.v1(data, rows) if request.protocol == "v1" else self.client.reader.v2(data, rows)
        except (ValueError, OutputError, AttributeError) as exc:
            return f"HTTP {status}, but the answer is not {rows} predictions: {exc}", ""
        expected, source = self.expected(request)
        if expected is None:
            return None, "unchecked"  # neither an artifact, nor seed rows, nor a plain answer to compare with
        if not agree(expected, got, self.tolerance):
            return f"HTTP {status} with wrong predictions (expected from {source}): {diff(expected, got)}", ""
        return None, "answered"

    def judge(self, request: Request, outcome: Outcome, answer: Answer | None) -> tuple[str | None, str]:
        if request.kind == MALFORMED:
            problem = malformed_problem(request, outcome)
            return problem, "" if problem else "rejected"
        return self.unusual(request, outcome, answer)



@dataclasses.dataclass(frozen=True)
class Finding:
    """A request that broke the contract, what came back, and the entry that accepts it (if any)."""

    request: Request
    outcome: Outcome
    problem: str
    source: str  # "catalogue", "generated" or "generated (shrunk)"
    accepted: AcceptedEntry | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """One finding is kept per category, protocol and status (the smallest request)."""
        status = str(self.outcome.status) if self.outcome.status is not None else ("timeout" if self.outcome.timed_out else "no answer")
        return (self.request.category, self.request.protocol, status)

    def as_dict(self) -> dict[str, Any]:
        data = {
            "category": self.request.category,
            "kind": self.request.kind,
            "protocol": self.request.protocol,
            "source": self.source,
            "problem": self.problem,
            "status": self.outcome.status,
            "body": self.outcome.body,
            "elapsed_ms": round(self.outcome.elapsed_ms, 1),
            "request": self.request.describe(),
        }
        if self.accepted is not None:
            data["accepted"] = {"entry": self.accepted.index, "reason": self.accepted.reason}
        return data

    def summary(self) -> str:
        """One line: category, protocol, the request, what went wrong and what came back."""
        request = self.request
        size = f" ({request.note})" if request.large else ""
        line = f"{request.category} over {request.protocol.upper()}: {request.method} {request.path} {request.preview(80)!r}{size} -> {self.problem}"
        return line + (f"; body {self.outcome.body[:120]!r}" if self.outcome.body else "")
