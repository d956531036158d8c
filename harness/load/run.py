"""Drive load against an endpoint with locust in its own processes, and collect the figures.

The harness starts one locust master that forks its workers (``--processes``), or one
standalone locust process when a single one is asked for, watches ``live.json`` for the
status line, enforces a hard deadline by killing the process group, and merges the
workers' result files exactly. locust is never imported here: it monkey-patches whatever
process imports it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import procs
from harness.config import HarnessConfig
from harness.errors import InfrastructureError
from harness.load.plan import (
    GO_FILE_ENV,
    PARENT_ENV,
    WORKER_WAIT_S,
    LoadPlan,
    locust_argv,
    locust_env,
)
from harness.load.results import LoadResult, merge_worker_files, read_worker_files
from harness.load.worker.masking import header_secrets
from harness.redact import redact, register_secrets
from harness.results import Endpoint

Progress = Callable[[str], None]
STOP_GRACE_S = 15.0  # after the window: users stop, workers write their files, master exits
RESULT_WAIT_S = 5.0  # after the master exits: the forked workers finish writing
POLL_S = 0.05
GRPC_GENERATOR = "locust users calling grpcio on gevent"  # what produced a gRPC load (REST: LoadResult's default)


def run_load(endpoint: Endpoint, cfg: HarnessConfig, out_dir: Path, progress: Progress | None = None, via: str = "direct") -> LoadResult:
    """Drive ``cfg``'s load against ``endpoint`` from this host, and return what was measured.

    Locust's logs, the plan (header names only) and the workers' raw figures go to
    ``out_dir/load/``. The window ends by itself after ``cfg.load.duration`` seconds (start-up
    excluded); a hard deadline kills the process group if it does not. A run uses the target's
    :meth:`~harness.targets.base.Target.load_generator` instead, which also places the load.

    Raises:
        InfrastructureError: locust did not start, or no worker reported any figures.
        ConfigError: ``load_protocol`` names a protocol the endpoint does not speak.
    """
    return LocalLoad(LoadPlan.from_config(endpoint, cfg), out_dir / "load", via).run(progress)


def run_plan(plan: LoadPlan, load_dir: Path, progress: Progress | None = None, via: str = "direct") -> LoadResult:
    """Run ``plan`` locally (standalone, or master + forked workers, on this host) into ``load_dir``."""
    return LocalLoad(plan, load_dir, via).run(progress)


class LocalLoad:
    """One local locust run on this host: one standalone process, or a master that forks its workers.

    :meth:`prestart` starts locust early (its import takes about a second) and leaves it
    waiting, workers connected, for a go file; :meth:`run` releases it (or starts it, if it
    was not prestarted) and collects the figures. The load window is timed from the go.
    """

    def __init__(self, plan: LoadPlan, load_dir: Path, via: str = "direct") -> None:
        self.plan = plan
        self.load_dir = load_dir
        self.via = via
        self.proc: Any = None
        self.go_file = load_dir / "go"

    def _spawn(self, gated: bool) -> None:
        plan, load_dir = self.plan, self.load_dir
        # each header value, each cookie's value on its own, the token after "Bearer"
        register_secrets(header_secrets(plan.headers))
        shutil.rmtree(load_dir / "results", ignore_errors=True)
        for stale in (load_dir / "live.json", self.go_file):
            stale.unlink(missing_ok=True)
        load_dir.mkdir(parents=True, exist_ok=True)
        (load_dir / "plan.json").write_text(json.dumps(plan.describe(), indent=2) + "\n")
        argv = locust_argv(plan, "local", load_dir, master_port=procs.free_port())
        env = {**locust_env(plan, load_dir), PARENT_ENV: str(os.getpid())}
        if gated:
            env[GO_FILE_ENV] = str(self.go_file)
        # no orphan load: the kernel kills locust the moment this process dies, from its import on
        self.proc = procs.spawn(argv, log_path=load_dir / "locust-output.log", env=env, die_with_parent=True)

    def prestart(self) -> None:
        """Start locust now; it connects its workers and waits for :meth:`run`."""
        if self.proc is None:
            self._spawn(gated=True)

    def run(self, progress: Progress | None = None) -> LoadResult:
        """Run the load window and return the merged figures (locust is stopped in any case)."""
        say = progress or (lambda _m: None)
        plan, load_dir = self.plan, self.load_dir
        if self.proc is None:
            self._spawn(gated=False)
        else:
            self.go_file.write_text("go\n")
        proc = self.proc
        launched = time.time()
        deadline = time.monotonic() + WORKER_WAIT_S + plan.duration_s + plan.drain_s + STOP_GRACE_S
        timed_out = False
        try:
            last_said = 0.0
            # done when every worker has written its figures (each writes once, atomically, at
            # test stop): locust's own shutdown after that adds nothing but a second of waiting
            while proc.poll() is None and _result_count(load_dir) < plan.processes:
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                if time.monotonic() - last_said >= 0.5:
                    say(_live_line(load_dir, plan, launched))
                    last_said = time.monotonic()
                time.sleep(POLL_S)
            if not timed_out and proc.poll() is not None:
                _wait_for_results(load_dir, plan.processes)
        finally:
            # the figures are on disk by now: locust gets a moment for its summary, not its
            # whole shutdown (about a second of greenlet joins and interpreter teardown)
            self.stop(grace=0.3 if _result_count(load_dir) >= plan.processes else 3.0)
            _redact_logs(load_dir)
        docs = read_worker_files(load_dir / "results", rewrite=True)
        if not docs:
            tail = _tail(load_dir)
            why = "did not finish in time" if timed_out else f"exited with code {proc.returncode}"
            raise InfrastructureError(f"locust {why} and no worker reported figures; see {load_dir}/locust-local.log: {tail}")
        live = _read_json(load_dir / "live.json")
        startup = round(live["started_at"] - launched, 3) if live and "started_at" in live else None
        return result_from_docs(
            plan, docs, via=self.via, finished=not timed_out, startup_s=startup,
            files={"log": str(load_dir / "locust-local.log"), "results": str(load_dir / "results")},
        )

    def stop(self, grace: float = 3.0) -> None:
        """Stop locust (safe to call twice, and when never started)."""
        if self.proc is not None:
            procs.stop(self.proc, grace=grace)
            self.proc = None


def result_from_docs(
    plan: LoadPlan,
    docs: list[dict[str, Any]],
    *,
    via: str,
    finished: bool,
    startup_s: float | None,
    files: dict[str, str],
    locust_version: str | None = None,
) -> LoadResult:
    """The :class:`LoadResult` of ``plan`` from its workers' result documents.

    Shared by the local runner and the in-cluster Job (:mod:`harness.cluster.kubeflow.load_job`), so
    both report the same figures the same way. ``finished``: the run ended by itself (no
    deadline hit); the result is ``complete`` only if, in addition, every worker reported.
    """
    merged = merge_worker_files(docs)
    result = LoadResult(
        users=merged.users_started,
        users_configured=plan.users,
        duration_s=plan.duration_s,
        requests=merged.requests,
        failures=merged.failures,
        rps=merged.rps,
        latency_ms=merged.latency,
        failures_by_kind=merged.failures_by_kind,
        timeline=merged.timeline,
        warmup_s=plan.warmup_s,
        processes=plan.processes,
        rate=plan.rate,
        protocol=plan.protocol,
        batch_size=plan.batch_size,
        via=via,
        locust_version=locust_version or _version("locust"),
        spawn_rate=plan.spawn_rate,
        measured_s=merged.measured_s,
        startup_s=startup_s,
        latency_basis="intended-start" if plan.rate else "response",
        service_time_ms=merged.service,
        by_protocol=merged.by_protocol,
        warmup_requests=merged.warmup_requests,
        late_requests=merged.late_requests,
        workers=merged.workers,
        complete=finished and merged.workers >= plan.processes,
        histogram=merged.histogram,
        files=files,
        unfinished=merged.unfinished,
        unfinished_failed=merged.unfinished_failed,
        stalls=merged.stalls,
    )
    return dataclasses.replace(result, generator=GRPC_GENERATOR) if plan.protocol == "grpc" else result


def _result_count(load_dir: Path) -> int:
    return len(list((load_dir / "results").glob("worker-*.json")))


def _wait_for_results(load_dir: Path, expected: int) -> None:
    deadline = time.monotonic() + RESULT_WAIT_S
    while time.monotonic() < deadline:
        if _result_count(load_dir) >= expected:
            return
        time.sleep(0.05)


def _live_line(load_dir: Path, plan: LoadPlan, launched: float) -> str:
    live = _read_json(load_dir / "live.json")
    if not live:
        return f"load: starting locust (1 master, {plan.processes} workers) {time.time() - launched:.1f}s"
    p95 = live.get("p95_ms")
    return (
        f"load {min(live['elapsed'], plan.duration_s):.0f}/{plan.duration_s:g}s  "
        f"{live['rps']:,.0f} req/s  p95 ~{p95 if p95 is not None else '-'} ms  "
        f"errors {live['failures']}/{live['requests']}"
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _redact_logs(load_dir: Path) -> None:
    """Locust does not log headers, and the locustfile masks what it reports, but mask again
    with every secret the harness knows."""
    for log in load_dir.glob("*.log"):
        try:
            text = log.read_text(errors="replace")
            clean = redact(text)
            if clean != text:
                log.write_text(clean)
        except OSError:
            continue


def _tail(load_dir: Path, lines: int = 8) -> str:
    chunks = []
    for name in ("locust-local.log", "locust-output.log"):
        try:
            chunks += (load_dir / name).read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            continue
    return redact(" | ".join(chunks[-lines:]))


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
