"""The load plan as one locust process reads it from its environment.

Plain Python (standard library only), loaded by the locustfile from beside itself: the harness
may not be installed where it runs (a pod). The harness writes the environment
(:func:`harness.load.plan.locust_env`):

* ``MLH_LOAD_PLAN``: JSON, :meth:`harness.load.plan.LoadPlan.plan_json` (rows, model name,
  window, rate, bounds, and what a valid answer holds);
* ``MLH_LOAD_HEADERS``: JSON object of request headers; may hold secrets, never written anywhere;
* ``MLH_LOAD_QUERY``: the endpoint URL's query string (a gateway's key), added to every request;
  kept off locust's ``--host`` so that no command line shows it;
* ``MLH_LOAD_OUT``: the output directory (``results/worker-<pid>.json``, ``live.json``);
* ``MLH_LOAD_GO``: with it, the master (or standalone runner) waits until that file exists;
* ``MLH_LOAD_PARENT``: the harness's pid; every process exits as soon as it is gone;
* ``MLH_LOAD_EMIT=stdout``: also print the result between marker lines (a pod's files vanish).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

WORKER_WAIT_S = 10.0  # a master waits this long for its workers before it starts the test
GO_WAIT_S = 900.0  # a prestarted runner waits this long for the harness's go
DRAIN_MARGIN_S = 1.0  # past the request timeout: the last answers are read, the figures written


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one locust process was asked to do."""

    plan: Mapping[str, Any]
    headers: Mapping[str, str]
    out: Path
    query: str = ""
    parent: int = 0
    go_file: str = ""
    emit_stdout: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            plan=json.loads(env.get("MLH_LOAD_PLAN", "{}")),
            headers=json.loads(env.get("MLH_LOAD_HEADERS", "{}")),
            query=env.get("MLH_LOAD_QUERY", ""),
            out=Path(env.get("MLH_LOAD_OUT", ".")),
            parent=int(env.get("MLH_LOAD_PARENT") or 0),  # see harness.load.plan.PARENT_ENV
            go_file=env.get("MLH_LOAD_GO", ""),  # see harness.load.plan.GO_FILE_ENV
            emit_stdout=env.get("MLH_LOAD_EMIT") == "stdout",
        )

    @property
    def grpc(self) -> bool:
        return self.plan.get("protocol") == "grpc"

    @property
    def timeout_s(self) -> float:
        """The total deadline of one request (``request_timeout``)."""
        return float(self.plan.get("request_timeout_s", 10.0))

    @property
    def socket_timeout_s(self) -> float:
        """geventhttpclient's own timeouts are per socket operation: set past the total deadline, a
        backstop only, so that the deadline (and its message) is what ends a stalled request."""
        return self.timeout_s + 1.0

    @property
    def max_bytes(self) -> int:
        return int(self.plan.get("max_response_bytes", 16 * 1024 * 1024))

    @property
    def insecure(self) -> bool:
        return bool(self.plan.get("insecure", False))

    @property
    def warmup_s(self) -> float:
        return float(self.plan.get("warmup_s", 0.0))

    @property
    def duration_s(self) -> float:
        """The load window, warm-up included (0: none, the test is stopped from outside)."""
        return float(self.plan.get("duration_s", 0.0))

    @property
    def drain_s(self) -> float:
        """After the window closes: how long its unanswered requests are waited for."""
        return self.timeout_s + DRAIN_MARGIN_S

    @property
    def interval_s(self) -> float | None:
        """Each user's schedule (seconds between intended starts), None without a target rate."""
        rate = self.plan.get("rate_per_user")
        return 1.0 / float(rate) if rate else None
