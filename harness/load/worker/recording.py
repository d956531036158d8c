"""What one locust worker measures, and the file it hands back: exact, bounded, masked.

Loaded by the locustfile from beside itself (it runs where the harness may not be
installed, so this module needs only the standard library and ``hdrh``), and imported by
the harness's merge (:mod:`harness.load.results`) for the histogram settings both share.

:class:`Recorder` listens to locust's ``request`` event and records every response time
at microsecond resolution into HDR histograms (total, per request kind, per second),
skipping the warm-up. Failures are grouped by (kind, status, masked message), at most
:data:`MAX_FAILURE_KINDS` of them: a server that answers every request with new text cannot
grow a worker's memory.

It accounts for every request it lets start (:meth:`Recorder.begin`): when the window closes
(:meth:`Recorder.close`) no request starts any more, and those still in flight are waited for
(each ends by its own deadline, the request timeout); one still unanswered after that
(:meth:`Recorder.finish`) is a failure. ``unfinished`` counts the requests in flight at the
close. A *stall* is a time of :data:`STALL_S` or more without an answer while requests were in
flight (a timeout is not an answer): the recorder keeps when each began and ended.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, DIGITS = 1, 3_600_000_000, 3  # 1 µs .. 1 h, 3 significant digits
MAX_FAILURE_KINDS = 50  # distinct failure messages kept per worker; further ones are pooled
STALL_S = 1.0  # no answer for this long while requests are in flight: a stall
MAX_STALLS = 50  # stalls kept per worker (the longest ones are the first kept: a stall ends once)
OTHER_MESSAGES = "(further distinct messages, not kept)"
# stdout emission of a worker's result (read back by harness.cluster.kubeflow.load_job): one BEGIN
# line, the JSON in DATA lines of at most EMIT_CHUNK characters (well under the 16 KiB at
# which container runtimes split a log line), one END line.
RESULT_BEGIN, RESULT_DATA, RESULT_END = "MLH-LOAD-RESULT-BEGIN", "MLH-LOAD-RESULT-DATA", "MLH-LOAD-RESULT-END"
EMIT_CHUNK = 4000


def new_histogram() -> HdrHistogram:
    """An empty histogram with the range and precision every worker records in."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def slot(histograms: dict[Any, HdrHistogram], key: Any) -> HdrHistogram:
    """``histograms[key]``, created on first use.

    Not ``dict.setdefault(key, new_histogram())``: that allocates a histogram (~45k counters)
    on every call, which cost ~270 µs a request, more than the request itself.
    """
    found = histograms.get(key)
    if found is None:
        found = histograms[key] = new_histogram()
    return found


class Recorder:
    """Everything one worker measures, excluding the warm-up.

    Args:
        warmup_s: seconds after the test start left out of the figures.
        duration_s: the planned window (0: none, the test is stopped from outside).
        out: where ``results/worker-<pid>.json`` goes.
        describe: turns a failure without a ``detail`` into its (masked, short) message.
        emit: also print the result between marker lines (a pod's files vanish with it).
    """

    def __init__(
        self,
        warmup_s: float = 0.0,
        duration_s: float = 0.0,
        out: Path = Path("."),
        describe: Callable[[str], str] = lambda text: text[:200],
        emit: bool = False,
    ) -> None:
        self.t0: float | None = None  # this worker's test start (epoch s)
        self.stopped: float | None = None
        self.warmup = warmup_s
        self.duration = duration_s
        self.out = out
        self.describe = describe
        self.emit = emit
        self.latency = new_histogram()
        self.service = new_histogram()
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
        # accounting: requests in flight (id -> origin, kind), the close, stalls, users
        self.inflight: dict[int, tuple[float, str]] = {}
        self._next_id = 0
        self.closed_at: float | None = None
        self.unfinished = 0
        self.unfinished_failed = 0  # of those, failed (timed out, or answered with an error)
        self._at_close: set[int] = set()
        self.quiet_since: float | None = None  # requests in flight and no answer since then
        self.quiet_peak = 0
        self.stalls: list[tuple[float, float, int]] = []  # (began, ended, most in flight)
        self.users_started = 0

    def start(self) -> None:
        if self.t0 is None:
            self.t0 = time.time()

    def user_started(self) -> None:
        """A user began sending (users that never start are reported as such)."""
        self.users_started += 1

    def begin(self, kind: str, context: dict[str, Any], now: float | None = None) -> bool:
        """A request of ``kind`` is about to start: True, and it is in flight, unless the window is closed."""
        if self.closed_at is not None:
            return False
        now = time.time() if now is None else now
        self._next_id += 1
        context["mlh_id"] = self._next_id
        intended = context.get("intended")
        if not self.inflight:  # something to wait for again: a quiet time starts
            self.quiet_since, self.quiet_peak = now, 0
        self.inflight[self._next_id] = (intended if intended is not None else now, kind)
        self.quiet_peak = max(self.quiet_peak, len(self.inflight))
        return True

    def _measured(self, origin: float) -> bool:
        return self.t0 is not None and origin >= self.t0 + self.warmup

    def close(self, now: float | None = None) -> None:
        """The window ends: no request starts any more; those in flight are still waited for."""
        if self.closed_at is None:
            self.closed_at = time.time() if now is None else now
            self._at_close = {i for i, (origin, _) in self.inflight.items() if self._measured(origin)}
            self.unfinished = len(self._at_close)

    def finish(self, waited_s: float, now: float | None = None) -> None:
        """The wait for the unanswered is over: each request still in flight is a failure."""
        now = time.time() if now is None else now
        self.close(now)
        if self.inflight:
            self._quiet_ends(now, answered=True)
        message = f"no answer within {waited_s:g}s after the window closed (request_timeout)"
        for origin, kind in self.inflight.values():
            if self._measured(origin):
                self.unfinished_failed += 1
                self.requests += 1
                self.failed += 1
                self.kind_counts[kind] += 1
                self.kind_failures[kind] += 1
                self._count_failure(kind, None, None, (kind, 0, message))
        self.inflight.clear()

    def _quiet_ends(self, at: float, answered: bool) -> None:
        """An answer came at ``at`` (or the last request in flight timed out): a stall if it was long."""
        since = self.quiet_since
        if since is not None and at - since >= STALL_S and len(self.stalls) < MAX_STALLS:
            self.stalls.append((since, at, self.quiet_peak))
        if answered or not self.inflight:
            self.quiet_since = at if self.inflight else None
            self.quiet_peak = len(self.inflight)

    def on_request(self, name: str, response_time: float, response: Any, exception: Any, context: dict[str, Any], start_time: float | None = None, **_: Any) -> None:
        """locust's ``request`` event: count one answer (or failure) of a request sent in the measured window."""
        request_id = context.get("mlh_id", -1)
        self.inflight.pop(request_id, None)
        if exception is not None and request_id in self._at_close:
            self.unfinished_failed += 1
        started = start_time if start_time is not None else time.time() - response_time / 1000
        finished = started + response_time / 1000
        if getattr(exception, "timeout", False):
            if not self.inflight:
                self._quiet_ends(finished, answered=False)
        else:
            self._quiet_ends(finished, answered=True)
        if self.t0 is None or self.stopped is not None:
            return
        intended = context.get("intended")
        origin = intended if intended is not None else started
        if origin < self.t0 + self.warmup:
            self.warmup_requests += 1
            return
        if (self.duration and origin >= self.t0 + self.duration) or (self.closed_at is not None and origin >= self.closed_at):
            self.late_requests += 1  # started after the window (a schedule's last slot): not the window's
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
            self._count_failure(name, exception, response)
            return
        self.latency.record_value(min(latency_us, HIGHEST_US))
        if intended is not None:
            self.service.record_value(min(service_us, HIGHEST_US))
        slot(self.kinds, name).record_value(min(latency_us, HIGHEST_US))
        slot(self.seconds, second).record_value(min(latency_us, HIGHEST_US))
        self.min_us = latency_us if self.min_us is None else min(self.min_us, latency_us)
        self.max_us = max(self.max_us, latency_us)

    def _count_failure(self, name: str, exception: Any, response: Any, key: tuple[str, int, str] | None = None) -> None:
        if key is None:
            status = getattr(exception, "status", None)
            detail = getattr(exception, "detail", None)
            key = (
                name,
                _status(response) if status is None else int(status),
                detail if detail is not None else self.describe(f"{type(exception).__name__}: {exception}"),
            )
        if key not in self.failures and len(self.failures) >= MAX_FAILURE_KINDS:
            key = (name, key[1], OTHER_MESSAGES)
        self.failures[key] += 1

    def write(self) -> None:
        """Write this worker's figures once, atomically."""
        if self.written or self.t0 is None:
            return
        self.written = True
        self.stopped = self.closed_at or self.stopped or time.time()
        if self.duration:
            self.stopped = min(self.stopped, self.t0 + self.duration)
        measure_from = self.t0 + self.warmup
        data = {
            "pid": os.getpid(),
            "t0": self.t0,
            "measure_from": self.t0 + self.warmup,
            "stopped": self.stopped,
            "requests": self.requests,
            "failures": self.failed,
            "warmup_requests": self.warmup_requests,
            "late_requests": self.late_requests,
            "unfinished": self.unfinished,
            "unfinished_failed": self.unfinished_failed,
            "users_started": self.users_started,
            "stalls": [{"began": b, "ended": e, "in_flight": n} for b, e, n in self.stalls if e > measure_from],
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
        results = self.out / "results"
        results.mkdir(parents=True, exist_ok=True)
        tmp = results / f".worker-{os.getpid()}.json.tmp"
        text = json.dumps(data)
        tmp.write_text(text)
        os.replace(tmp, results / f"worker-{os.getpid()}.json")
        if self.emit:
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
