"""The locustfile: the entry locust loads (``locust -f``); runs only inside locust's processes.

Importing this module imports locust, which monkey-patches the process with gevent, so
the harness only ever passes its *path* to ``locust -f`` (see :mod:`harness.load.plan`).
It runs where the harness may not be installed (a pod), so it imports nothing of it and loads
the modules beside it by path (:func:`_sibling`), one role each:

* ``settings``: the plan and the rest of the environment (:class:`settings.Settings`);
* ``bodies``: the request bodies, from the plan's rows;
* ``http_sender`` / ``grpc_sender``: one user's requests (a total deadline, a bounded body, no
  redirect followed, certificates checked as the harness checks them, secrets masked), each
  answer judged by ``answers`` and ``predictions`` (one valid prediction per row);
* ``user``: the locust user class, paced to a fixed schedule when the plan sets a rate (latency
  then counts from the *intended* start: no coordinated omission);
* ``recording``: what a worker measures (HDR histograms, failures, every request accounted
  for, stalls) and the file it hands back; ``masking`` and ``guard``: secrets and orphans.

What each process does, by role:

* **worker** (or a forked ``--processes`` child): runs the users and records their requests,
  leaving out the warm-up. When the window closes (``duration_s`` after its test start) no
  request starts any more; those in flight are waited for up to the request timeout, then the
  worker writes its figures to ``$MLH_LOAD_OUT/results/worker-<pid>.json`` (and, with
  ``MLH_LOAD_EMIT=stdout``, prints them between marker lines for ``kubectl logs``).
* **master**: writes ``live.json`` every second (elapsed, rps, p95, errors) for the harness's
  status line, and stops the test once the window and the wait for its last answers are over.
* **standalone** (one process, no master): both of the above.

With ``MLH_LOAD_GO`` set, the master (workers connected) or the standalone runner waits until
that file exists. With ``MLH_LOAD_PARENT`` set (the harness's pid), every process exits as
soon as the harness is gone (``guard``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import gevent
import locust.runners
from locust import events
from locust.runners import MasterRunner, WorkerRunner


def _sibling(name: str) -> ModuleType:
    """A module file beside this one (plain Python: where this runs, the harness may not be installed)."""
    if f"mlh_load_{name}" in sys.modules:
        return sys.modules[f"mlh_load_{name}"]
    path = Path(__file__).resolve().with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"mlh_load_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:  # the same files, as mypy knows them
    from harness.load.worker import (
        answers,
        bodies,
        grpc_sender,
        guard,
        http_sender,
        masking,
        predictions,
        recording,
        settings,
        user,
    )
else:
    answers, bodies, guard, http_sender, masking, predictions, recording, settings, user = (
        _sibling(n) for n in ("answers", "bodies", "guard", "http_sender", "masking", "predictions", "recording", "settings", "user"))

SETTINGS = settings.Settings.from_env()
PLAN = SETTINGS.plan
OUT = SETTINGS.out
if SETTINGS.grpc and not TYPE_CHECKING:
    grpc_sender = _sibling("grpc_sender")  # grpcio itself is imported by each user's sender, after any fork
emit_stdout = recording.emit_stdout

# Workers report their stats to the master every second (default 3 s): the live line
# shown by the harness should move at least once a second.
locust.runners.WORKER_REPORT_INTERVAL = 1.0

MASK = masking.Masker(SETTINGS.headers, SETTINGS.query)
ERROR_WINDOW = MASK.span * 4  # bytes of an error body read: enough for its message in any UTF-8
GUARD = guard.ParentGuard(SETTINGS.parent)  # no orphan load: see guard.py
GUARD.install()
gevent.spawn(GUARD.watch)
TLS = http_sender.TlsContexts(SETTINGS.insecure, PLAN.get("ca_cert"))
RULES = predictions.AnswerRules.from_plan(PLAN)


class Recorder(recording.Recorder):
    """:class:`recording.Recorder` with this process's plan, output directory and masking."""

    def __init__(self) -> None:
        super().__init__(SETTINGS.warmup_s, SETTINGS.duration_s, OUT, MASK.cut)

    def write(self) -> None:
        self.out, self.emit = OUT, os.environ.get("MLH_LOAD_EMIT") == "stdout"
        super().write()


RECORDER = Recorder()


def _validate(kind: str) -> Any:
    return lambda answer: predictions.problem(RULES, kind, answer)


def _judge(response: Any, kind: str) -> tuple[int, Any]:
    return answers.judge(response, SETTINGS.max_bytes, MASK.cut, ERROR_WINDOW, _validate(kind))


def _make_sender(host: str, fire: Any) -> Any:
    if SETTINGS.grpc:
        return grpc_sender.GrpcSender(PLAN["grpc_url"], SETTINGS.headers, fire, timeout=SETTINGS.timeout_s,
                                      max_bytes=SETTINGS.max_bytes, ca_cert=PLAN.get("ca_cert"), mask=MASK.cut,
                                      failure=answers.LoadFailure, validate=_validate("grpc"))
    headers = {("Host" if k.lower() == "host" else k): v for k, v in SETTINGS.headers.items()}
    headers.setdefault("Content-Type", "application/json")
    query = f"?{SETTINGS.query}" if SETTINGS.query else ""
    return http_sender.Sender(host.partition("?")[0] + query, headers, fire, timeout_s=SETTINGS.timeout_s, socket_timeout_s=SETTINGS.socket_timeout_s,
                              tls=TLS, judge=_judge, failure=answers.LoadFailure, mask=MASK.cut)


def _bodies() -> list[tuple[str, str, bytes]]:
    if SETTINGS.grpc:
        return bodies.bodies(PLAN, grpc_sender.request_bytes, grpc_sender.METHOD)
    return bodies.bodies(PLAN)


KServeUser = user.user_class(SETTINGS, _bodies(), RECORDER, _make_sender, bodies.NO_BODIES, TLS)


def _current_p95(total: Any) -> float | None:
    """locust's p95 of the last seconds when its response-time cache is on, else since start."""
    try:
        value = total.get_current_response_time_percentile(0.95)
    except ValueError:
        value = total.get_response_time_percentile(0.95) if total.num_requests else None
    return float(value) if value is not None else None


def _write_live(environment: Any, started: float) -> None:
    """Master: live figures once a second, for the harness's status line.

    Counts include the warm-up and percentiles are locust's rounded ones: the line is a
    progress indicator; the report's figures come from the workers' histograms.
    """
    live = OUT / "live.json"
    last_time, last_count = started, 0
    while True:
        total = environment.runner.stats.total
        now = time.time()
        rps = (total.num_requests - last_count) / (now - last_time) if now > last_time else 0.0
        last_time, last_count = now, total.num_requests
        data = {"started_at": started, "elapsed": round(now - started, 2), "requests": total.num_requests,
                "failures": total.num_failures, "rps": round(rps, 1), "p95_ms": _current_p95(total)}
        tmp = live.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, live)
        gevent.sleep(1.0)


def _close_window() -> None:
    """The window's end: no request starts; the unanswered are waited for (each ends by its deadline), then written."""
    RECORDER.close()
    deadline = time.monotonic() + SETTINGS.drain_s
    while RECORDER.inflight and time.monotonic() < deadline:
        gevent.sleep(0.01)
    RECORDER.finish(SETTINGS.timeout_s)
    RECORDER.write()


def _listen(environment: Any) -> None:
    """Record this process's requests (once, whichever of init and test_start comes first)."""
    if not getattr(environment, "_mlh_listening", False):
        environment.events.request.add_listener(RECORDER.on_request)
        environment._mlh_listening = True


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        # locust's headless master polls for its workers once a second; they connect within
        # tens of milliseconds, so waiting for them here takes about a second off start-up.
        expected = int(getattr(environment.parsed_options, "expect_workers", 1) or 1)
        deadline = time.monotonic() + settings.WORKER_WAIT_S
        while len(runner.clients.ready) < expected and time.monotonic() < deadline:
            gevent.sleep(0.02)
    else:
        _listen(environment)
        if _is_worker(environment):
            return  # the master (or the harness, through it) decides when the test starts
    if SETTINGS.go_file:  # a master, or a standalone runner (one process)
        _wait_for_go(Path(SETTINGS.go_file))


def _wait_for_go(path: Path) -> None:
    """Hold the test until the harness says go (it prestarted locust); exit if it never does."""
    deadline = time.monotonic() + settings.GO_WAIT_S
    while not path.exists():
        GUARD.check()
        if time.monotonic() > deadline:
            sys.exit(f"no go from the harness within {settings.GO_WAIT_S:g}s ({path})")
        gevent.sleep(0.01)


def _is_worker(environment: Any) -> bool:
    """Whether this process is a worker, also before ``environment.runner`` is set.

    A worker announces itself to the master from inside its runner's constructor, so the
    master's spawn message (and test_start) can arrive before locust has assigned
    ``environment.runner``; the parsed options already say which role this process has.
    """
    options = environment.parsed_options
    return isinstance(environment.runner, WorkerRunner) or bool(getattr(options, "worker", False))


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    worker = _is_worker(environment)
    duration = SETTINGS.duration_s
    if worker or not isinstance(runner, MasterRunner):
        _listen(environment)
        RECORDER.start()
        if duration > 0:
            gevent.spawn_later(duration, _close_window)
    if not worker and runner is not None:
        started = time.time()
        OUT.mkdir(parents=True, exist_ok=True)
        gevent.spawn(_write_live, environment, started)
        if duration > 0:  # the workers close their windows themselves; the last answers get their time
            gevent.spawn_later(duration + SETTINGS.drain_s, runner.quit)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, MasterRunner) and not RECORDER.written:
        RECORDER.finish(0.0)  # stopped from outside before the window closed: the unanswered are failures
        RECORDER.write()


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        RECORDER.write()
