"""``robustness.bad_inputs``: malformed requests get a 4xx, valid unusual ones a right answer or a 4xx.

Over the protocols the server speaks (``Endpoint.protocols``: a V2-only server such as
MLServer gets no V1 request), the battery sends the fixed catalogue (malformed, then valid
but unusual), then hypothesis-generated malformed requests per category, each with a
per-request timeout (the large valid ones get the run's ``request_timeout``). It stops early
when the server is gone (a transport error and no readiness) or hangs (``max_timeouts``
unanswered requests), and when the profile's time budget is spent, so a broken server never
hangs the harness. Findings matched by an accepted-findings entry are listed, not failed.

Controls before judgement (:mod:`harness.robustness.control`): the valid seed request is sent
over every protocol first and must be answered right, or nothing is judged. A rejection (a
malformed request's 4xx, a valid-but-unusual one declined) counts only when its valid twin,
the control, is answered when sent after it: once per category, protocol and phase
(catalogue, generated); otherwise the rejection is not evidence and is listed as such.
Afterwards the server must still be ready and answer the control right, as before.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisException

from harness import procs
from harness.config.accepted import AcceptedFindings
from harness.config.categories import CATEGORIES, MALFORMED
from harness.contract.artifact import agree
from harness.errors import InferenceError, WaitTimeout
from harness.inference.client import REST_PROTOCOLS, Answer, InferenceClient
from harness.inference.encoder import Encoder
from harness.procs.waiting import wait_until
from harness.robustness.columns import malformed_column_cases, unusual_column_cases
from harness.robustness.control import Control, controls, expected_seed, failed_text, send_control
from harness.robustness.malformed import malformed_cases
from harness.robustness.profiles import Profile, hypothesis_settings
from harness.robustness.requests import Request
from harness.robustness.schema import IRIS_SCHEMA, FeatureSchema
from harness.robustness.strategies import strategies
from harness.robustness.unusual import unusual_cases
from harness.robustness.verdicts import Finding, Judge, Outcome

PROBE_TIMEOUT = 2.0


class _Stop(Exception):
    """Raised inside a hypothesis example to mark it failing."""


class Battery:
    """State of one battery run against one client.

    Args:
        client: the inference client (its headers carry Host, cookie and token).
        profile: example counts, sizes and time bounds.
        timeout: per-request timeout in seconds.
        large_timeout: timeout of the large valid requests (batch, body).
        judge: the verdict on each answer.
        accepted: findings that are listed but do not fail.
    """

    def __init__(self, client: InferenceClient, profile: Profile, timeout: float, large_timeout: float, judge: Judge, accepted: AcceptedFindings) -> None:
        self.client = client
        self.profile = profile
        self.timeout = timeout
        self.large_timeout = large_timeout
        self.judge = judge
        self.accepted = accepted
        self.protocols = tuple(p for p in client.endpoint.protocols if p in REST_PROTOCOLS)  # malformed bodies are HTTP's
        self.started = time.monotonic()
        self.tried: dict[str, dict[str, int]] = {}  # category -> protocol -> requests
        self.statuses: dict[str, dict[str, int]] = {}  # category -> HTTP status (or "timeout"...) -> count
        self.passed_as: dict[str, dict[str, int]] = {}  # category -> "rejected"/"answered"/"declined" -> count
        self.timeouts = 0
        self.stopped: str | None = None
        self.first: Finding | None = None  # the first finding not accepted
        self.findings: dict[tuple[str, str, str], Finding] = {}
        self.twin: Callable[[str], Control] | None = None  # sends the valid twin over a protocol
        self.twins: dict[tuple[str, str, str], Control] = {}  # (protocol, category, phase) -> its twin's result
        self.unjudged: list[dict[str, Any]] = []  # rejections whose valid twin failed too: not evidence
        self.before: dict[str, Control] = {}
        self.after: dict[str, Control] = {}

    # --- one request -------------------------------------------------------------------------
    def send(self, request: Request) -> tuple[Outcome, Answer | None]:
        timeout = self.large_timeout if request.large else self.timeout
        started = time.perf_counter()
        try:
            answer = self.client.request(request.method, request.path, content=request.body, headers=request.headers(), timeout=timeout)
        except InferenceError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            kind = type(exc.__cause__).__name__ if exc.__cause__ else "error"
            return Outcome(None, "", elapsed, f"{kind} after {elapsed / 1000:.1f}s", exc.timed_out), None
        return Outcome.of(answer), answer

    def _ready(self, path: str) -> bool:
        try:
            answer = self.client.request("GET", path, timeout=PROBE_TIMEOUT)
        except InferenceError:
            return False
        if answer.status_code != 200:
            return False
        try:
            data = answer.json()
        except ValueError:
            return True  # 200 with an empty or plain body: KServe's V2 ready paths may answer so
        return not (isinstance(data, dict) and data.get("ready") is False)

    def alive(self) -> bool:
        """Model readiness over every protocol spoken, each with a short timeout."""
        name = self.client.endpoint.model_name
        paths = {"v1": Encoder.model_path(name, protocol="v1"), "v2": Encoder.model_path(name) + "/ready"}
        return all(self._ready(paths[p]) for p in self.protocols if p in paths)

    def try_one(self, request: Request, source: str) -> Finding | None:
        """Send ``request`` unless the battery has stopped; a finding if the answer is wrong."""
        procs.check_interrupted()
        if self.stopped is None and time.monotonic() - self.started > self.profile.budget_s:
            self.stopped = f"time budget of {self.profile.budget_s:g}s spent"
        if self.stopped is not None:
            return None
        _count(self.tried, request.category, request.protocol)
        outcome, answer = self.send(request)
        status = str(outcome.status) if outcome.status is not None else ("timeout" if outcome.timed_out else "no answer")
        _count(self.statuses, request.category, status)
        problem, how = self.judge.judge(request, outcome, answer)
        if problem is None:
            if how in ("rejected", "declined"):
                how = self._evidence(request, outcome, source)
            _count(self.passed_as, request.category, how)
            return None
        accepted = self.accepted.match(request.category, request.protocol, outcome.status)
        finding = Finding(request, outcome, problem, source, accepted)
        self._keep(finding)
        if accepted is None and self.first is None:
            self.first = finding
        if outcome.timed_out:
            self.timeouts += 1
            if self.timeouts >= self.profile.max_timeouts:
                self.stopped = f"stopped after {self.timeouts} unanswered requests (the server hangs)"
        elif outcome.status is None and not self.alive():
            self.stopped = f"the server stopped answering after a {request.category} request over {request.protocol.upper()}: {request.preview(80)!r}"
        return finding

    def _evidence(self, request: Request, outcome: Outcome, source: str) -> str:
        """``rejected``/``declined`` when the valid twin is answered right, else ``not evidence``
        (the rejection is listed in :attr:`unjudged` with the twin's answer)."""
        how = "rejected" if request.kind == MALFORMED else "declined"
        if self.twin is None:
            return how
        key = (request.protocol, request.category, source.split(" ")[0])
        twin = self.twins.get(key)
        if twin is None:
            twin = self.twins[key] = self.twin(request.protocol)
        if twin.ok:
            return how
        self.unjudged.append({
            "category": request.category, "protocol": request.protocol, "status": outcome.status, "body": outcome.body,
            "request": request.describe(), "twin": twin.as_dict(),
        })
        return "not evidence"

    def _keep(self, finding: Finding) -> None:
        """Keep the smallest request per category, protocol and status (hypothesis shrinks toward it)."""
        kept = self.findings.get(finding.key)
        if kept is None or finding.request.size < kept.request.size or finding.source == "generated (shrunk)":
            self.findings[finding.key] = finding

    # --- phases ------------------------------------------------------------------------------
    def run_catalogue(self, cases: list[Request]) -> None:
        for case in cases:
            self.try_one(case, "catalogue")

    def run_generated(self, strategy: Any, seed: int | None) -> None:
        """Generate ``bad_examples`` requests; shrink the first one that fails and is not accepted.

        Accepted findings do not stop generation: it goes on looking for findings that are not.
        """

        @hypothesis_settings(self.profile.bad_examples, seed)
        @given(strategy)
        def example(request: Request) -> None:
            finding = self.try_one(request, "generated")
            if finding is not None and finding.accepted is None:
                self._keep(dataclasses.replace(finding, source="generated (shrunk)"))
                raise _Stop

        run: Callable[[], None] = example if seed is None else hypothesis_seed(seed)(example)
        try:
            run()
        except (_Stop, HypothesisException, ExceptionGroup):
            pass  # the smallest failing request is in self.findings; Flaky after a stop is expected

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _count(table: dict[str, dict[str, int]], row: str, column: str) -> None:
    cells = table.setdefault(row, {})
    cells[column] = cells.get(column, 0) + 1


def seed_answers(results: dict[str, Control]) -> dict[str, Any]:
    """The control's canonical answer over each protocol (or why it failed, as text)."""
    return {p: c.answer if c.ok else c.problem for p, c in results.items()}


def run_battery(
    client: InferenceClient,
    profile: Profile,
    timeouts: tuple[float, float],
    ready_timeout: float,
    model_path: Path | None,
    accepted: AcceptedFindings,
    seed: int | None,
    schema: FeatureSchema = IRIS_SCHEMA,
    tolerance: float | None = None,
) -> tuple[Battery, dict[str, Any], str | None]:
    """Run the whole battery: (its state, the control's answers before and after, a problem afterwards).
    ``schema``: the model's row width and seed rows (the contract's).

    Nothing is sent but the control when the battery has no protocol to test or the control
    fails (:attr:`Battery.before` says which); the caller reports that instead of a verdict."""
    judge = Judge(client, model_path, schema.seed_predictions, tolerance)
    battery = Battery(client, profile, timeouts[0], timeouts[1], judge, accepted)
    expected = expected_seed(client, schema, judge.model_path)
    battery.before = controls(client, battery.protocols, schema, expected, tolerance)
    before = seed_answers(battery.before)
    if not battery.protocols or failed_text(battery.before):
        return battery, {"before": before, "after": None}, None
    battery.twin = lambda protocol: send_control(client, protocol, schema, expected, tolerance)
    model = client.endpoint.model_name
    if client.encoder.is_columns:  # a per-column model: its own catalogue (the generated strategies build tensors)
        battery.run_catalogue(malformed_column_cases(model, battery.protocols, schema, client.encoder))
        battery.run_catalogue(unusual_column_cases(model, profile, battery.protocols, schema, client.encoder))
    else:
        battery.run_catalogue(malformed_cases(model, profile, battery.protocols, schema.seed_row, client.encoder))
        battery.run_catalogue(unusual_cases(model, profile, battery.protocols, schema.seed, client.encoder))
    for protocol in battery.protocols if not client.encoder.is_columns else ():
        for strategy in strategies(model, protocol, schema.width, client.encoder).values():
            if battery.stopped:
                break
            battery.run_generated(strategy, seed)
    after_problem = None
    after: dict[str, Any] | None = None
    try:
        wait_until(battery.alive, what="the server to be ready after the battery", timeout=min(ready_timeout, 10.0), interval=0.2)
    except WaitTimeout as exc:
        after_problem = f"the server is not ready after the battery: {exc}"
    else:
        battery.after = controls(client, battery.protocols, schema, expected, tolerance)
        after = seed_answers(battery.after)
        failed = failed_text(battery.after)
        changed = [p for p, c in battery.after.items() if c.ok and not agree(battery.before[p].answer or [], c.answer or [], tolerance)]
        if failed:
            after_problem = f"after the battery {failed}"
        elif changed:
            after_problem = f"after the battery the valid request answers {after!r}, before it answered {before!r}"
    return battery, {"before": before, "after": after}, after_problem


def category_order(finding: Finding) -> tuple[int, str, str]:
    key = finding.key
    return (list(CATEGORIES).index(key[0]), key[1], key[2])
