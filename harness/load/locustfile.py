"""The locustfile: runs only inside locust's own processes, never in the harness process.

Importing this module imports locust, which monkey-patches the process with gevent, so
the harness only ever passes its *path* to ``locust -f`` (see :mod:`harness.load.plan`).

What it does, by role:

* **worker** (or a forked ``--processes`` child): ``KServeUser`` (a ``FastHttpUser``) posts
  V1 ``:predict`` and/or V2 ``/infer`` requests built from the plan's rows. A listener on
  locust's ``request`` event records every response time at microsecond resolution into
  HDR histograms (total, per kind, per second), skipping the warm-up and answers that arrive
  after the window's planned end (``t0 + duration_s``). With a target
  rate each user keeps a fixed schedule and latency counts from the *intended* start, so
  a stalled server cannot hide behind a stalled generator (no coordinated omission). At
  test stop the worker writes its figures to ``$MLH_LOAD_OUT/results/worker-<pid>.json``
  and, with ``MLH_LOAD_EMIT=stdout`` (a Kubernetes pod, whose files vanish with it), also
  prints them between marker lines (:func:`emit_stdout`) for ``kubectl logs`` to carry back.
* **master**: stops the test after exactly ``duration_s`` and writes ``live.json`` every
  second (elapsed, rps, p95, errors) for the harness's status line.
* **standalone** (one process, no master): both of the above.

Configuration comes from the environment: ``MLH_LOAD_PLAN`` (JSON, see
:meth:`harness.load.plan.LoadPlan.plan_json`) and ``MLH_LOAD_HEADERS`` (JSON object; it may
hold secrets and is never written anywhere). ``MLH_LOAD_OUT`` is the output directory.
With ``MLH_LOAD_GO`` set, the master (workers connected) or the standalone runner waits until
that file exists.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from hdrh.histogram import HdrHistogram
from locust import FastHttpUser, constant, events, task
from locust.runners import MasterRunner, WorkerRunner

PLAN: dict[str, Any] = json.loads(os.environ.get("MLH_LOAD_PLAN", "{}"))
HEADERS: dict[str, str] = json.loads(os.environ.get("MLH_LOAD_HEADERS", "{}"))
OUT = Path(os.environ.get("MLH_LOAD_OUT", "."))
LOWEST_US, HIGHEST_US, DIGITS = 1, 3_600_000_000, 3  # 1 µs .. 1 h, 3 significant digits
MESSAGE_LIMIT = 200
WORKER_WAIT_S = 10.0
GO_FILE = os.environ.get("MLH_LOAD_GO", "")  # see harness.load.plan.GO_FILE_ENV
GO_WAIT_S = 900.0
# stdout emission of a worker's result (read back by harness.cluster.load_job): one BEGIN
# line, the JSON in DATA lines of at most EMIT_CHUNK characters (well under the 16 KiB at
# which container runtimes split a log line), one END line.
RESULT_BEGIN, RESULT_DATA, RESULT_END = "MLH-LOAD-RESULT-BEGIN", "MLH-LOAD-RESULT-DATA", "MLH-LOAD-RESULT-END"
EMIT_CHUNK = 4000

# Workers report their stats to the master every second (default 3 s): the live line
# shown by the harness should move at least once a second.
locust.runners.WORKER_REPORT_INTERVAL = 1.0


def _new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def _slot(histograms: dict[Any, HdrHistogram], key: Any) -> HdrHistogram:
    """``histograms[key]``, created on first use.

    Not ``dict.setdefault(key, _new_histogram())``: that allocates a histogram (~45k counters)
    on every call, which cost ~270 µs a request, more than the request itself. (The harness's
    merge has the same helper; this file runs where the harness may not be installed.)
    """
    found = histograms.get(key)
    if found is None:
        found = histograms[key] = _new_histogram()
    return found


def _bodies() -> list[tuple[str, str, bytes]]:
    """(kind, path, body) triples, cycled through by every user."""
    rows: list[list[float]] = PLAN.get("rows") or [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
    batch = int(PLAN.get("batch_size", 1))
    name = PLAN.get("model_name", "sklearn-iris")
    kinds = {"v1": ["v1"], "v2": ["v2"], "mixed": ["v1", "v2"]}[PLAN.get("protocol", "mixed")]
    count = max(1, min(len(rows), 64))
    bodies = []
    for i in range(count):
        chunk = [rows[(i * batch + j) % len(rows)] for j in range(batch)]
        for kind in kinds:
            body: dict[str, Any]
            if kind == "v1":
                body = {"instances": chunk}
                path = f"/v1/models/{name}:predict"
            else:
                body = {"inputs": [{"name": "input-0", "shape": [batch, len(chunk[0])], "datatype": "FP32", "data": chunk}]}
                path = f"/v2/models/{name}/infer"
            bodies.append((kind, path, json.dumps(body).encode()))
    return bodies


class Recorder:
    """Everything one worker measures, excluding the warm-up."""

    def __init__(self) -> None:
        self.t0: float | None = None  # this worker's test start (epoch s)
        self.stopped: float | None = None
        self.warmup = float(PLAN.get("warmup_s", 0.0))
        self.duration = float(PLAN.get("duration_s", 0.0))  # 0: no planned end (stopped from outside)
        self.latency = _new_histogram()
        self.service = _new_histogram()
        self.kinds: dict[str, HdrHistogram] = {}
        self.kind_counts: Counter[str] = Counter()
        self.kind_failures: Counter[str] = Counter()
        self.seconds: dict[int, HdrHistogram] = {}
        self.second_counts: Counter[int] = Counter()
        self.second_failures: Counter[int] = Counter()
        self.failures: Counter[tuple[str, int, str]] = Counter()
        self.requests = 0
        self.failed = 0
        self.warmup_requests = 0
        self.late_requests = 0
        self.min_us: int | None = None
        self.max_us = 0
        self.written = False

    def start(self) -> None:
        if self.t0 is None:
            self.t0 = time.time()

    def on_request(self, name: str, response_time: float, response: Any, exception: Any, context: dict[str, Any], start_time: float | None = None, **_: Any) -> None:
        if self.t0 is None or self.stopped is not None:
            return
        started = start_time if start_time is not None else time.time() - response_time / 1000
        intended = context.get("intended")
        origin = intended if intended is not None else started
        if origin < self.t0 + self.warmup:
            self.warmup_requests += 1
            return
        finished = started + response_time / 1000
        if self.duration and finished > self.t0 + self.duration:
            # the window ends at its planned end, as wrk's does: an answer still in flight then
            # would carry the generator's own stop (the quit message, users being killed)
            self.late_requests += 1
            return
        service_us = max(LOWEST_US, int(response_time * 1000))
        latency_us = service_us + (max(0, int((started - intended) * 1_000_000)) if intended is not None else 0)
        second = int(finished - self.t0 - self.warmup)
        self.requests += 1
        self.kind_counts[name] += 1
        self.second_counts[second] += 1
        if exception is not None:
            self.failed += 1
            self.kind_failures[name] += 1
            self.second_failures[second] += 1
            self.failures[(name, _status(response), _message(exception, response))] += 1
            return
        self.latency.record_value(min(latency_us, HIGHEST_US))
        if intended is not None:
            self.service.record_value(min(service_us, HIGHEST_US))
        _slot(self.kinds, name).record_value(min(latency_us, HIGHEST_US))
        _slot(self.seconds, second).record_value(min(latency_us, HIGHEST_US))
        self.min_us = latency_us if self.min_us is None else min(self.min_us, latency_us)
        self.max_us = max(self.max_us, latency_us)

    def write(self) -> None:
        """Write this worker's figures once, atomically."""
        if self.written or self.t0 is None:
            return
        self.written = True
        self.stopped = self.stopped or time.time()
        if self.duration:
            self.stopped = min(self.stopped, self.t0 + self.duration)
        data = {
            "pid": os.getpid(),
            "t0": self.t0,
            "measure_from": self.t0 + self.warmup,
            "stopped": self.stopped,
            "requests": self.requests,
            "failures": self.failed,
            "warmup_requests": self.warmup_requests,
            "late_requests": self.late_requests,
            "min_us": self.min_us,
            "max_us": self.max_us,
            "latency": self.latency.encode().decode(),
            "service": self.service.encode().decode() if self.service.get_total_count() else None,
            "kinds": {
                k: {"requests": self.kind_counts[k], "failures": self.kind_failures[k], "histogram": self.kinds[k].encode().decode() if k in self.kinds else None}
                for k in self.kind_counts
            },
            "seconds": {
                str(s): {"requests": self.second_counts[s], "failures": self.second_failures[s], "histogram": self.seconds[s].encode().decode() if s in self.seconds else None}
                for s in sorted(self.second_counts)
            },
            "failures_by_kind": [
                {"name": n, "status": st, "message": m, "count": c} for (n, st, m), c in self.failures.most_common()
            ],
        }
        results = OUT / "results"
        results.mkdir(parents=True, exist_ok=True)
        tmp = results / f".worker-{os.getpid()}.json.tmp"
        text = json.dumps(data)
        tmp.write_text(text)
        os.replace(tmp, results / f"worker-{os.getpid()}.json")
        if os.environ.get("MLH_LOAD_EMIT") == "stdout":
            emit_stdout(text)


def emit_stdout(text: str, stream: Any = None) -> None:
    """Print one worker's result JSON between marker lines, in one write.

    Every payload line carries the DATA prefix, so a log line of locust's that lands in
    between cannot corrupt it; BEGIN names the length so a cut-off block is detected.
    """
    pid = os.getpid()
    lines = [f"{RESULT_BEGIN} pid={pid} chars={len(text)}"]
    lines += [f"{RESULT_DATA} {text[i:i + EMIT_CHUNK]}" for i in range(0, len(text), EMIT_CHUNK)]
    lines.append(f"{RESULT_END} pid={pid}")
    out = stream if stream is not None else sys.stdout
    out.write("\n".join(lines) + "\n")
    out.flush()


def _status(response: Any) -> int:
    try:
        return int(getattr(response, "status_code", 0) or 0)
    except (TypeError, ValueError):
        return 0


def _message(exception: Any, response: Any) -> str:
    text = f"{type(exception).__name__}: {exception}"
    try:
        body = (response.text or "") if _status(response) >= 400 else ""
    except Exception:  # noqa: BLE001 - a body that cannot be read is not worth a crash
        body = ""
    if body:
        text += f" | {body.strip()}"
    return text[:MESSAGE_LIMIT]


RECORDER = Recorder()


class KServeUser(FastHttpUser):
    """Posts inference requests; paced to a fixed schedule when the plan sets a rate."""

    wait_time = constant(0)
    network_timeout = float(PLAN.get("request_timeout_s", 10.0))
    connection_timeout = float(PLAN.get("request_timeout_s", 10.0))
    insecure = True
    _bodies = _bodies()

    def on_start(self) -> None:
        self._cycle = itertools.cycle(self._bodies[random.randrange(len(self._bodies)):] + self._bodies)
        self._interval = 1.0 / float(PLAN["rate_per_user"]) if PLAN.get("rate_per_user") else None
        # spread users over one interval so a constant rate does not arrive in bursts
        self._next = time.time() + (random.uniform(0, self._interval) if self._interval else 0.0)
        self._headers = {("Host" if k.lower() == "host" else k): v for k, v in HEADERS.items()}
        self._headers.setdefault("Content-Type", "application/json")

    @task
    def infer(self) -> None:
        kind, path, body = next(self._cycle)
        context: dict[str, Any] = {}
        if self._interval is not None:
            delay = self._next - time.time()
            if delay > 0:
                gevent.sleep(delay)
            context["intended"] = self._next
            self._next += self._interval
        self.client.request("POST", path, name=kind, data=body, headers=self._headers, context=context)  # type: ignore[arg-type]  # bytes are sent as is


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
        data = {
            "started_at": started,
            "elapsed": round(now - started, 2),
            "requests": total.num_requests,
            "failures": total.num_failures,
            "rps": round(rps, 1),
            "p95_ms": _current_p95(total),
        }
        tmp = live.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, live)
        gevent.sleep(1.0)


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
        deadline = time.monotonic() + WORKER_WAIT_S
        while len(runner.clients.ready) < expected and time.monotonic() < deadline:
            gevent.sleep(0.02)
    else:
        _listen(environment)
        if _is_worker(environment):
            return  # the master (or the harness, through it) decides when the test starts
    if GO_FILE:  # a master, or a standalone runner (one process)
        _wait_for_go(Path(GO_FILE))


def _wait_for_go(path: Path) -> None:
    """Hold the test until the harness says go (it prestarted locust); exit if it never does."""
    parent = os.getppid()
    deadline = time.monotonic() + GO_WAIT_S
    while not path.exists():
        if os.getppid() != parent:
            sys.exit("the harness that started this load run is gone")
        if time.monotonic() > deadline:
            sys.exit(f"no go from the harness within {GO_WAIT_S:g}s ({path})")
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
    if worker or not isinstance(runner, MasterRunner):
        _listen(environment)
        RECORDER.start()
    if not worker and runner is not None:
        started = time.time()
        OUT.mkdir(parents=True, exist_ok=True)
        gevent.spawn(_write_live, environment, started)
        duration = float(PLAN.get("duration_s", 0))
        if duration > 0:
            gevent.spawn_later(duration, runner.quit)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        RECORDER.stopped = RECORDER.stopped or time.time()
        RECORDER.write()


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        RECORDER.write()
