"""The locustfile: runs only inside locust's own processes, never in the harness process.

Importing this module imports locust, which monkey-patches the process with gevent, so
the harness only ever passes its *path* to ``locust -f`` (see :mod:`harness.load.plan`).
It runs where the harness may not be installed (a pod), so it imports nothing of it.

What it does, by role:

* **worker** (or a forked ``--processes`` child): ``KServeUser`` posts V1 ``:predict`` and/or
  V2 ``/infer`` requests built from the plan's rows, or calls V2 gRPC ``ModelInfer`` with them
  (protocol ``grpc``: ``grpc_sender.GrpcSender``, the same deadline, bounds and masking) (:class:`Sender`: a total
  deadline, a bounded body, no redirect followed, certificates checked as the harness
  checks them, secrets masked). A listener on locust's ``request`` event records
  every response time at microsecond resolution into HDR histograms (total, per kind, per
  second), skipping the warm-up and answers that arrive after the window's planned end
  (``t0 + duration_s``). With a target rate each user keeps a fixed schedule and latency
  counts from the *intended* start, so a stalled server cannot hide behind a stalled
  generator (no coordinated omission). At test stop the worker writes its figures to
  ``$MLH_LOAD_OUT/results/worker-<pid>.json`` and, with ``MLH_LOAD_EMIT=stdout`` (a
  Kubernetes pod, whose files vanish with it), also prints them between marker lines
  (:func:`emit_stdout`) for ``kubectl logs`` to carry back.
* **master**: stops the test after exactly ``duration_s`` and writes ``live.json`` every
  second (elapsed, rps, p95, errors) for the harness's status line.
* **standalone** (one process, no master): both of the above.

Configuration comes from the environment: ``MLH_LOAD_PLAN`` (JSON, see
:meth:`harness.load.plan.LoadPlan.plan_json`) and ``MLH_LOAD_HEADERS`` (JSON object; it may
hold secrets and is never written anywhere). ``MLH_LOAD_OUT`` is the output directory.
With ``MLH_LOAD_GO`` set, the master (workers connected) or the standalone runner waits until
that file exists. With ``MLH_LOAD_PARENT`` set (the harness's pid), every process exits as
soon as the harness is gone: the kernel's parent-death signal (set by the harness before
``exec``, and here for each forked worker) and, as a backstop, a watch on ``getppid()``.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import gevent
import gevent.ssl
import locust.runners
from geventhttpclient.client import HTTPClient
from geventhttpclient.url import URL
from locust import FastHttpUser, constant, events, task
from locust.runners import MasterRunner, WorkerRunner


def _sibling(name: str) -> ModuleType:
    """A module file beside this one (plain Python: where this runs, the harness may not be installed)."""
    path = Path(__file__).resolve().with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"mlh_load_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:  # the same files, as mypy knows them
    from harness.load.worker import answers, grpc_sender, guard, masking, recording
else:
    answers, guard, masking, recording = (_sibling(n) for n in ("answers", "guard", "masking", "recording"))

PLAN: dict[str, Any] = json.loads(os.environ.get("MLH_LOAD_PLAN", "{}"))
GRPC = PLAN.get("protocol") == "grpc"
if GRPC and not TYPE_CHECKING:
    grpc_sender = _sibling("grpc_sender")  # grpcio itself is imported by each user's sender, after any fork
HEADERS: dict[str, str] = json.loads(os.environ.get("MLH_LOAD_HEADERS", "{}"))
OUT = Path(os.environ.get("MLH_LOAD_OUT", "."))
PARENT = int(os.environ.get("MLH_LOAD_PARENT") or 0)  # see harness.load.plan.PARENT_ENV
WORKER_WAIT_S = 10.0
GO_FILE = os.environ.get("MLH_LOAD_GO", "")  # see harness.load.plan.GO_FILE_ENV
GO_WAIT_S = 900.0
TIMEOUT_S = float(PLAN.get("request_timeout_s", 10.0))
MAX_BYTES = int(PLAN.get("max_response_bytes", 16 * 1024 * 1024))
INSECURE = bool(PLAN.get("insecure", False))
# geventhttpclient's own timeouts are per socket operation: set past the total deadline, a
# backstop only, so that the deadline (and its message) is what ends a stalled request
SOCKET_TIMEOUT_S = TIMEOUT_S + 1.0
emit_stdout = recording.emit_stdout

# Workers report their stats to the master every second (default 3 s): the live line
# shown by the harness should move at least once a second.
locust.runners.WORKER_REPORT_INTERVAL = 1.0

MASK = masking.Masker(HEADERS)
ERROR_WINDOW = MASK.span * 4  # bytes of an error body read: enough for its message in any UTF-8
GUARD = guard.ParentGuard(PARENT)  # no orphan load: see guard.py
GUARD.install()
gevent.spawn(GUARD.watch)


_SSL_CONTEXT: list[gevent.ssl.SSLContext] = []


def ssl_context(**_: Any) -> gevent.ssl.SSLContext:
    """The one TLS context of this process, built as the harness decided (:mod:`harness.inference.tls`).

    ``insecure``: no verification. Else the plan's CA bundle, or certifi's (what the harness's
    own client trusts), never the locust default of no verification at all.
    """
    if not _SSL_CONTEXT:
        if INSECURE:
            context = gevent.ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = gevent.ssl.CERT_NONE
        else:
            context = gevent.ssl.create_default_context(cafile=PLAN.get("ca_cert") or _certifi())
        _SSL_CONTEXT.append(context)
    return _SSL_CONTEXT[0]


def _certifi() -> str | None:
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


class Sender:
    """Sends one user's requests and reports each to locust's ``request`` event.

    Each request has one total deadline (connect, send, answer and body: ``request_timeout``;
    geventhttpclient's own timeouts are per socket operation), reads at most
    ``max_response_bytes`` of a body, and never follows a redirect: a 3xx is a failure
    naming its status and target. A 2xx counts only with a JSON body; a failure's text is
    masked before it is cut. A connection whose answer was not read whole is closed, and
    after a deadline or a transport error, which may leave one half-used, the client with
    its connection pool is replaced.
    """

    def __init__(self, base_url: str, headers: Mapping[str, str], fire: Callable[..., Any]) -> None:
        # the query string (a gateway's key) goes on every request as the user gave it
        base_url, sep, query = base_url.partition("?")
        self.base_url = base_url
        self.prefix = URL(base_url).path.rstrip("/")
        self.query = sep + query
        self.headers = dict(headers)
        self.fire = fire
        self.http: HTTPClient | None = None  # made by the first request: a bad CA file is its failure

    def _client(self) -> HTTPClient:
        return HTTPClient.from_url(
            self.base_url, concurrency=1, connection_timeout=SOCKET_TIMEOUT_S, network_timeout=SOCKET_TIMEOUT_S,
            ssl_context_factory=ssl_context, insecure=INSECURE,
        )

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def post(self, kind: str, path: str, body: bytes, context: dict[str, Any]) -> None:
        failure: Any = None
        length = 0
        start = time.time()
        began = time.perf_counter()
        # a new Timeout per request: a gevent.Timeout restarted after cancel() keeps its first
        # expiry (gevent 26.9), so one reused deadline failed every request after the first 10 s
        deadline = gevent.Timeout(TIMEOUT_S)
        deadline.start()
        try:
            if self.http is None:
                self.http = self._client()
            response = self.http.request("POST", self.prefix + path + self.query, body=body, headers=self.headers)
            try:
                length, failure = answers.judge(response, MAX_BYTES, MASK.cut, ERROR_WINDOW)
            finally:
                response.release()  # closes the connection unless the answer was read whole
        except gevent.Timeout as exc:
            if exc is not deadline:
                raise
            failure = answers.LoadFailure(0, f"no complete answer within {TIMEOUT_S:g}s (request_timeout)")
            self._renew()
        except answers.LoadFailure as exc:  # an answer too long to read (its connection is closed)
            # without its traceback: the frames would hold the body read so far in a cycle
            # (exception, frame, local) that only the garbage collector frees, megabytes each
            failure = exc.with_traceback(None)
        except Exception as exc:  # noqa: BLE001 - any transport error is a failed request
            failure = answers.LoadFailure(0, MASK.cut(f"{type(exc).__name__}: {exc}"))
            self._renew()
        finally:
            deadline.close()
        self.fire(request_type="POST", name=kind, response_time=(time.perf_counter() - began) * 1000,
                  response_length=length, response=None, exception=failure, context=context,
                  start_time=start, url=path)

    def _renew(self) -> None:
        self.close()
        self.http = None


class Recorder(recording.Recorder):
    """:class:`recording.Recorder` with this process's plan, output directory and masking."""

    def __init__(self) -> None:
        super().__init__(float(PLAN.get("warmup_s", 0.0)), float(PLAN.get("duration_s", 0.0)), OUT, MASK.cut)

    def write(self) -> None:
        self.out, self.emit = OUT, os.environ.get("MLH_LOAD_EMIT") == "stdout"
        super().write()


def _bodies() -> list[tuple[str, str, bytes]]:
    """(kind, path, body) triples, cycled through by every user.

    V2 data go flat in row-major order with their shape, the form every Open Inference
    Protocol server accepts (the spec allows nested data too; MLServer and Triton's
    clients send flat). The rows and the model name come from the plan (the model contract's
    rows, the endpoint's name); a plan without them gives no bodies, and every user stops at
    its start saying so.
    """
    rows: list[list[float]] = PLAN.get("rows") or []
    name = PLAN.get("model_name")
    if not rows or not name:  # no iris fallback: iris rows sent to another model are only errors
        return []
    batch = int(PLAN.get("batch_size", 1))
    kinds = {"v1": ["v1"], "v2": ["v2"], "mixed": ["v1", "v2"], "grpc": ["grpc"]}[PLAN.get("protocol", "mixed")]
    count = max(1, min(len(rows), 64))
    bodies = []
    for i in range(count):
        chunk = [rows[(i * batch + j) % len(rows)] for j in range(batch)]
        for kind in kinds:
            body: dict[str, Any]
            if kind == "grpc":
                bodies.append((kind, grpc_sender.METHOD, grpc_sender.request_bytes(name, chunk)))
                continue
            if kind == "v1":
                body = {"instances": chunk}
                path = f"/v1/models/{name}:predict"
            else:
                flat = [x for row in chunk for x in row]
                body = {"inputs": [{"name": "input-0", "shape": [batch, len(chunk[0])], "datatype": "FP32", "data": flat}]}
                path = f"/v2/models/{name}/infer"
            bodies.append((kind, path, json.dumps(body).encode()))
    return bodies


RECORDER = Recorder()


class KServeUser(FastHttpUser):
    """Posts inference requests; paced to a fixed schedule when the plan sets a rate.

    Requests go through :class:`Sender` (geventhttpclient's ``HTTPClient``, the client
    FastHttpUser wraps) rather than ``self.client``, which in locust 2.46.6 skips certificate
    checks by default (``insecure = True``), follows redirects with our headers (its
    ``allow_redirects=False`` sets ``redirect_resonse_codes``, a name geventhttpclient 2.6
    no longer reads) and reads bodies without bound (locust/contrib/fasthttp.py).
    ``self.client`` is configured safely all the same, for anyone who uses it.
    """

    wait_time = constant(0)
    network_timeout = SOCKET_TIMEOUT_S
    connection_timeout = SOCKET_TIMEOUT_S
    insecure = INSECURE
    ssl_context_factory = staticmethod(ssl_context)
    max_redirects = 0
    max_retries = 0
    _bodies = _bodies()

    def on_start(self) -> None:
        if not self._bodies:
            raise RuntimeError("the load plan (MLH_LOAD_PLAN) has no rows or no model_name: the harness writes both "
                               "from the model contract and the endpoint (harness/load/plan.py)")
        self._cycle = itertools.cycle(self._bodies[random.randrange(len(self._bodies)):] + self._bodies)
        self._interval = 1.0 / float(PLAN["rate_per_user"]) if PLAN.get("rate_per_user") else None
        # spread users over one interval so a constant rate does not arrive in bursts
        self._next = time.time() + (random.uniform(0, self._interval) if self._interval else 0.0)
        headers = {("Host" if k.lower() == "host" else k): v for k, v in HEADERS.items()}
        headers.setdefault("Content-Type", "application/json")
        fire = self.environment.events.request.fire
        self._sender: Any = Sender(self.host or "", headers, fire) if not GRPC else grpc_sender.GrpcSender(
            PLAN["grpc_url"], HEADERS, fire, timeout=TIMEOUT_S, max_bytes=MAX_BYTES, ca_cert=PLAN.get("ca_cert"),
            mask=MASK.cut, failure=answers.LoadFailure)

    def on_stop(self) -> None:
        self._sender.close()

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
        self._sender.post(kind, path, body, context)


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
    deadline = time.monotonic() + GO_WAIT_S
    while not path.exists():
        GUARD.check()
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
