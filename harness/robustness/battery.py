"""``robustness.bad_inputs``: malformed requests get a 4xx with an error body, and the server lives.

The battery sends the fixed catalogue, then hypothesis-generated requests per category,
each with a per-request timeout. It stops early when the server is gone (a transport
error and no readiness) or hangs (``max_timeouts`` unanswered requests), and when the
profile's time budget is spent, so a broken server never hangs the harness. Afterwards the
server must still be ready and answer the seed case as it did before the battery.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisException

from harness import procs
from harness.client import InferenceClient
from harness.errors import InferenceError, WaitTimeout
from harness.models import CheckResult, CheckStatus
from harness.redact import redact
from harness.robustness.malformed import (
    CATEGORIES,
    BadRequest,
    explicit_cases,
    speaks_v2,
    strategies,
)
from harness.robustness.profiles import Profile, hypothesis_settings
from harness.verify import SEED_INSTANCES
from harness.waiting import wait_until

BODY_LIMIT = 300
PROBE_TIMEOUT = 2.0
MESSAGE_FINDINGS = 3  # findings spelled out in the message; all are in the details


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What came back for one request: a status and body, or a transport failure."""

    status: int | None
    body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""
    timed_out: bool = False

    def problem(self, request: BadRequest) -> str | None:
        """Why this answer breaks the contract, or None if it keeps it."""
        if self.timed_out:
            return f"no answer within the per-request timeout ({self.error})"
        if self.status is None:
            return f"no HTTP answer: {self.error}"
        if self.status >= 500:
            return f"server error HTTP {self.status} (expected a 4xx)"
        if self.status < 400:
            if request.tolerate_ok and self.status < 300:
                return None
            return f"accepted with HTTP {self.status} (expected a 4xx)"
        if not self.body.strip():
            return f"HTTP {self.status} without an error body"
        return None


@dataclasses.dataclass(frozen=True)
class Finding:
    """A request that broke the contract, and what came back."""

    request: BadRequest
    outcome: Outcome
    problem: str
    source: str  # "catalogue" or "generated (shrunk)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.request.category,
            "source": self.source,
            "problem": self.problem,
            "request": self.request.describe(),
            "status": self.outcome.status,
            "body": self.outcome.body,
        }

    def summary(self) -> str:
        req = self.request.describe(80)
        return f"{self.request.category}: {req['method']} {req['path']} {req['body']!r} -> {self.problem}; body {self.outcome.body[:120]!r}"


class _Stop(Exception):
    """Raised inside a hypothesis example to mark it failing."""


class Battery:
    """State of one battery run against one client.

    Args:
        client: the inference client (its headers carry Host, cookie and token).
        profile: example counts, sizes and time bounds.
        timeout: per-request timeout in seconds.
    """

    def __init__(self, client: InferenceClient, profile: Profile, timeout: float) -> None:
        self.client = client
        self.profile = profile
        self.timeout = timeout
        self.started = time.monotonic()
        self.tried: dict[str, int] = {c: 0 for c in CATEGORIES}
        self.tolerated: dict[str, int] = {}
        self.timeouts = 0
        self.stopped: str | None = None
        self.first: Finding | None = None
        self.findings: dict[str, Finding] = {}  # category -> smallest finding so far

    # --- one request -------------------------------------------------------------------------
    def send(self, request: BadRequest) -> Outcome:
        headers = {"Content-Type": request.content_type} if request.content_type else {}
        started = time.perf_counter()
        try:
            response = self.client.request(request.method, request.path, content=request.body, headers=headers, timeout=self.timeout)
        except InferenceError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            timed_out = exc.timed_out
            kind = type(exc.__cause__).__name__ if exc.__cause__ else "error"
            return Outcome(None, "", elapsed, f"{kind} after {elapsed / 1000:.1f}s", timed_out)
        elapsed = (time.perf_counter() - started) * 1000
        text = response.text
        body = redact(text[:BODY_LIMIT] + ("..." if len(text) > BODY_LIMIT else ""))
        return Outcome(response.status_code, body, elapsed)

    def alive(self) -> bool:
        """V1 model readiness with a short timeout (a hung server answers nothing)."""
        try:
            response = self.client.request("GET", f"/v1/models/{self.client.endpoint.model_name}", timeout=PROBE_TIMEOUT)
        except InferenceError:
            return False
        return response.status_code == 200

    def try_one(self, request: BadRequest, source: str) -> Finding | None:
        """Send ``request`` unless the battery has stopped; a finding if the answer is wrong."""
        procs.check_interrupted()
        if self.stopped is None and time.monotonic() - self.started > self.profile.budget_s:
            self.stopped = f"time budget of {self.profile.budget_s:g}s spent"
        if self.stopped is not None:
            return None
        self.tried[request.category] += 1
        outcome = self.send(request)
        problem = outcome.problem(request)
        if problem is None:
            if request.tolerate_ok and outcome.status is not None and outcome.status < 300:
                self.tolerated[request.category] = self.tolerated.get(request.category, 0) + 1
            return None
        finding = Finding(request, outcome, problem, source)
        self.first = self.first or finding
        self.findings[request.category] = finding
        if outcome.timed_out:
            self.timeouts += 1
            if self.timeouts >= self.profile.max_timeouts:
                self.stopped = f"stopped after {self.timeouts} unanswered requests (the server hangs)"
        elif outcome.status is None and not self.alive():
            self.stopped = f"the server stopped answering after {request.category} request: {request.describe(80)['body']!r}"
        return finding

    # --- phases ------------------------------------------------------------------------------
    def run_catalogue(self, cases: list[BadRequest]) -> None:
        for case in cases:
            self.try_one(case, "catalogue")

    def run_generated(self, category: str, strategy: Any, seed: int | None) -> None:
        """Generate ``bad_examples`` requests of ``category``; keep the shrunk failing one."""

        @hypothesis_settings(self.profile.bad_examples, seed)
        @given(strategy)
        def example(request: BadRequest) -> None:
            if self.try_one(request, "generated (shrunk)") is not None:
                raise _Stop

        run: Callable[[], None] = example if seed is None else hypothesis_seed(seed)(example)
        try:
            run()
        except (_Stop, HypothesisException, ExceptionGroup):
            pass  # the smallest failing request is in self.findings; Flaky after a stop is expected

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _seed_answer(client: InferenceClient) -> list[Any] | str:
    try:
        return list(client.predict(SEED_INSTANCES).outputs)
    except InferenceError as exc:
        return str(exc)


def run_bad_inputs(client: InferenceClient, profile: Profile, timeout: float, ready_timeout: float, failing: CheckStatus, seed: int | None) -> CheckResult:
    """The whole ``robustness.bad_inputs`` check. ``failing`` is FAILED or WARNED (severity)."""
    battery = Battery(client, profile, timeout)
    before = _seed_answer(client)
    v2 = speaks_v2(client)
    battery.run_catalogue(explicit_cases(client.endpoint.model_name, profile, v2))
    generated = strategies(client.endpoint.model_name)
    if not v2:
        generated.pop("v2_malformed")
    for category, strategy in generated.items():
        if battery.stopped:
            break
        battery.run_generated(category, strategy, seed)
    duration = battery.elapsed()
    # afterwards: still ready, still the same answer to the seed case
    after_problem = None
    try:
        wait_until(battery.alive, what="the server to be ready after the battery", timeout=min(ready_timeout, 10.0), interval=0.2)
        after = _seed_answer(client)
        if after != before:
            after_problem = f"after the battery the seed case answers {after!r}, before it answered {before!r}"
    except WaitTimeout as exc:
        after, after_problem = None, f"the server is not ready after the battery: {exc}"
    tried = {c: n for c, n in battery.tried.items() if n}
    findings = sorted(battery.findings.values(), key=lambda f: list(CATEGORIES).index(f.request.category))
    details: dict[str, Any] = {
        "profile": profile.name,
        "seed": seed,
        "requests": tried,
        "total_requests": sum(tried.values()),
        "duration_s": round(duration, 3),
        "per_request_timeout_s": timeout,
        "tolerated_2xx": battery.tolerated,
        "v2_tried": v2,
        "stopped": battery.stopped,
        "seed_case": {"before": before, "after": after},
        "findings": [f.as_dict() for f in findings],
        "first_failure": battery.first.as_dict() if battery.first else None,
    }
    problems = [f.summary() for f in findings]
    total = details["total_requests"]
    if problems or after_problem:
        parts = [f"{len(findings)} of {len(tried)} categories broke the contract in {total} requests"]
        if battery.stopped:
            parts.append(f"battery {battery.stopped}")
        if battery.first and battery.first is not battery.findings.get(battery.first.request.category):
            parts.append(f"first failure {battery.first.summary()}")
        if after_problem:
            parts.append(after_problem)
        more = len(problems) - MESSAGE_FINDINGS
        parts += problems[:MESSAGE_FINDINGS] + ([f"+{more} more in details.findings"] if more > 0 else [])
        message = redact("; ".join(parts))
        return CheckResult("robustness.bad_inputs", failing, message, round(duration, 3), details)
    stopped = f" (battery {battery.stopped})" if battery.stopped else ""
    message = f"{total} malformed requests in {len(tried)} categories all got a 4xx with an error body in {duration:.1f}s{stopped}; the server still answers the seed case"
    return CheckResult("robustness.bad_inputs", CheckStatus.PASSED, message, round(duration, 3), details)
