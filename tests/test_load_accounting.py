"""A load window accounts for every request it sent, judges every answer, and says when the load was not delivered.

Against the stub server (127.0.0.1, tests/helpers/load_server.py) in short windows (3-5 s): a server
that deadlocks mid-window, one frozen (SIGSTOP) for two seconds, a target rate the server
cannot carry, users that never start, and answers that carry no prediction. Each of these
passed before (error rate 0 %, the configured users reported); none may pass now.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.checks.slo import evaluate_slos
from harness.config import HarnessConfig
from harness.load import run_load
from harness.results import CheckStatus, Endpoint
from tests.helpers.servers import ChildServers

pytestmark = pytest.mark.load


@pytest.fixture
def stub_process(child_servers: ChildServers) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], Endpoint]]]:
    """``tests/helpers/load_server.py`` with the given flags: its process (to freeze it) and endpoint."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> tuple[subprocess.Popen[bytes], Endpoint]:
        server = child_servers.start("tests.helpers.load_server", *args, timeout=10)
        assert server.proc is not None
        started.append(server.proc)
        return server.proc, Endpoint(server.url, "stub")

    yield start
    for proc in started:  # a frozen server cannot act on the SIGTERM that stops it
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)


def _cfg(**changes: object) -> HarnessConfig:
    base: dict[str, object] = {"users": 4, "spawn_rate": 100, "duration": 4.0, "warmup": 0.5, "load_processes": 1,
                               "load_protocol": "v1", "request_timeout": 2.0}
    base.update(changes)
    return HarnessConfig().replace(**base)


def _gates(result: object) -> dict[str, object]:
    return {c.name: c for c in evaluate_slos(result, HarnessConfig().slo)}  # type: ignore[arg-type]


def test_a_server_that_deadlocks_mid_window_does_not_pass(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    """Inference hangs 2.5 s in (readiness still answers): the hung requests are waited for, then timeouts."""
    endpoint = stub("--delay-ms", "5", "--hang-after", "2.5")  # the hung requests time out after the window (old: dropped)
    result = run_load(endpoint, _cfg(), tmp_path)
    assert result.unfinished >= result.unfinished_failed >= 1, result
    assert result.failures >= result.unfinished and result.requests == result.answered + result.failures
    assert any("no complete answer within 2s" in f.message for f in result.failures_by_kind), result.failures_by_kind
    assert result.stalls and 1.0 <= result.stalls[0].t_s <= 3.0, result.stalls
    gate = _gates(result)["slo.error_rate"]
    assert gate.failed, gate.message  # type: ignore[attr-defined]
    assert "a stall" in gate.message and "at the window's end never answered" in gate.message, gate.message  # type: ignore[attr-defined]


def test_a_server_frozen_for_two_seconds_does_not_pass(stub_process: Callable[..., tuple], tmp_path: Path) -> None:
    """SIGSTOP 1.5 s into a closed-loop window, SIGCONT 2 s later: every request is answered, but the stall is a finding."""
    proc, endpoint = stub_process("--delay-ms", "5")
    freeze = threading.Timer(1.5 + 1.0, os.kill, (proc.pid, signal.SIGSTOP))  # about 1 s of locust start-up first
    thaw = threading.Timer(3.5 + 1.0, os.kill, (proc.pid, signal.SIGCONT))
    freeze.start()
    thaw.start()
    try:
        result = run_load(endpoint, _cfg(duration=6.0), tmp_path)
    finally:
        freeze.cancel()
        thaw.join(timeout=10)
        os.kill(proc.pid, signal.SIGCONT)
    assert result.stalls, result
    assert max(s.duration_s for s in result.stalls) >= 1.5, result.stalls
    gate = _gates(result)["slo.error_rate"]
    assert gate.failed and "no answer for" in gate.message, gate.message  # type: ignore[attr-defined]


def test_a_target_rate_the_server_cannot_carry_fails(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    """--rate 200 with one user and a 30 ms server achieves about 30 req/s: a shortfall, not a pass."""
    endpoint = stub("--delay-ms", "30")
    # no warm-up: a user that falls behind its schedule sends requests meant for the window's start
    result = run_load(endpoint, _cfg(users=1, rate=200.0, duration=3.0, warmup=0.0), tmp_path)
    assert result.rps < 100, result.rps
    gate = _gates(result)["slo.error_rate"]
    assert gate.failed and "of 200 req/s offered" in gate.message, gate.message  # type: ignore[attr-defined]
    assert gate.details["achieved_rps"] == result.rps and gate.details["offered_rps"] == 200.0  # type: ignore[attr-defined]


def test_users_that_never_started_are_reported_as_such(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    endpoint = stub("--delay-ms", "5")
    result = run_load(endpoint, _cfg(users=32, spawn_rate=0.01, duration=3.0), tmp_path)
    assert result.users_configured == 32
    assert 1 <= result.users <= 2, result.users  # the first user of each worker; the next would start 100 s later


def test_answers_without_a_prediction_are_failed_requests_with_their_reason(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    endpoint = stub("--delay-ms", "5", "--answer", '{"error": "overloaded"}')
    result = run_load(endpoint, _cfg(duration=3.0), tmp_path)
    assert result.requests > 0 and result.failures == result.requests, result
    (kind,) = result.failures_by_kind
    assert kind.status == 200 and "outside the contract: V1 answer has no 'predictions' list" in kind.message, kind
    checks = _gates(result)
    assert checks["slo.error_rate"].failed  # type: ignore[attr-defined]
    assert checks["slo.p95"].status is CheckStatus.ERROR  # type: ignore[attr-defined]
