"""Latency of both sides, measured fairly on a noisy machine: interleaved windows of equal length.

live, candidate, candidate, live, live, candidate, ... (pairs in alternating order, so that
whatever follows a switch of server falls on both sides alike), each window ``window_s`` long,
the same rows in the same order from one generator, one request at a time (closed loop, one row
per request). Machine noise (another process, a CPU frequency step) falls on both sides alike,
and the two samples are judged by a rank test (:mod:`harness.diff.stats`); window ``i`` of one
side is paired with window ``i`` of the other.

Why not locust (:mod:`harness.load`): a locust window costs about a second of start-up (its
import, its workers), so ten interleaved windows would cost ten seconds of start-up on top and
each window's first second would be its warm-up; a bounded in-process sender over the same
client the checks use starts in microseconds, keeps every window's full length, and sends
exactly what the encoder builds. Its limit: it measures one request at a time, latency not
throughput (``mlharness run``'s locust window and the capacity search do that).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Iterator, Sequence

from harness.errors import InferenceError
from harness.inference.client import InferenceClient

WARMUP_REQUESTS = 3  # per side, before the first window: connections opened, caches warm; not counted
MAX_REQUESTS_PER_WINDOW = 100_000  # a bound on count as well as time (a window of 1 s sends a few hundred)


@dataclasses.dataclass
class Samples:
    """One side's measured latencies (ms, successful requests) and its errors."""

    latencies_ms: list[float] = dataclasses.field(default_factory=list)
    windows: list[list[float]] = dataclasses.field(default_factory=list)  # the same latencies, window by window
    errors: int = 0
    first_error: str | None = None

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors


def _window(client: InferenceClient, rows: Iterator[tuple[float, ...]], protocol: str, seconds: float, into: Samples) -> None:
    end = time.perf_counter() + seconds
    for _ in range(MAX_REQUESTS_PER_WINDOW):
        started = time.perf_counter()
        if started >= end:
            return
        row = next(rows)
        try:
            client.classify([row], protocol)
        except InferenceError as exc:
            into.errors += 1
            into.first_error = into.first_error or str(exc)[:200]
            continue
        elapsed = (time.perf_counter() - started) * 1000.0
        into.latencies_ms.append(elapsed)
        into.windows[-1].append(elapsed)


def interleaved(live: InferenceClient, candidate: InferenceClient, rows: Sequence[tuple[float, ...]], protocol: str, *,
                windows: int, window_s: float, progress: Callable[[str], None] | None = None) -> tuple[Samples, Samples]:
    """``windows`` windows per side, alternating (live first), each ``window_s`` seconds."""
    if not rows:
        raise ValueError("no rows to send")
    sides = (live, candidate)
    samples = (Samples(), Samples())
    for client in sides:  # warm-up, not counted
        for row in rows[:WARMUP_REQUESTS]:
            try:
                client.classify([row], protocol)
            except InferenceError:
                break
    for i in range(windows):
        order = (0, 1) if i % 2 == 0 else (1, 0)  # live first, then candidate first: what follows a switch falls on both
        for side in order:
            client, into = sides[side], samples[side]
            if progress is not None:
                progress(f"diff: latency window {i + 1}/{windows} ({'live' if side == 0 else 'candidate'})")
            # every window starts at the same row: the same requests on both sides
            into.windows.append([])
            _window(client, itertools.cycle(rows), protocol, window_s, into)
    return samples
