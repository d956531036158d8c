"""Server CPU and memory under load: sampled once a second from ``/proc`` (via psutil).

A :class:`Sampler` follows a process tree (the model server and every worker it forks, found
again at each sample, so workers that restart are counted) in a background thread and
returns a :class:`Series`: per-second CPU (100 % = one core busy) and resident memory of the
whole tree. :func:`rss_growth` fits a least-squares line through the memory samples: a server
that keeps growing under steady load (a leak) has a slope that does not flatten, which the
``slo.rss_growth`` gate turns into a failure with the slope in the message.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import psutil

MB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Series:
    """Samples of one process tree: seconds since the start, CPU % and RSS (MB) of the tree."""

    t_s: tuple[float, ...]
    cpu_percent: tuple[float, ...]
    rss_mb: tuple[float, ...]
    processes: tuple[int, ...]
    source: str = "proc"
    busiest_cpu_percent: tuple[float, ...] = ()  # the busiest single process of each sample (a saturated event loop)
    note: str = ""  # what the series covers, or why it is empty

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "note": self.note,
            "t_s": [round(v, 2) for v in self.t_s],
            "cpu_percent": [round(v, 1) for v in self.cpu_percent],
            "rss_mb": [round(v, 1) for v in self.rss_mb],
            "processes": list(self.processes),
            "busiest_cpu_percent": [round(v, 1) for v in self.busiest_cpu_percent],
            "summary": self.summary(),
        }

    def summary(self) -> dict[str, float | None]:
        if not self.t_s:
            return {"cpu_mean_percent": None, "cpu_max_percent": None, "rss_start_mb": None, "rss_max_mb": None, "rss_end_mb": None}
        return {
            "cpu_mean_percent": round(sum(self.cpu_percent) / len(self.cpu_percent), 1),
            "cpu_max_percent": round(max(self.cpu_percent), 1),
            "rss_start_mb": round(self.rss_mb[0], 1),
            "rss_max_mb": round(max(self.rss_mb), 1),
            "rss_end_mb": round(self.rss_mb[-1], 1),
        }


def tree(root_pids: Iterable[int]) -> list[psutil.Process]:
    """The processes ``root_pids`` and all their descendants that are still alive."""
    found: dict[int, psutil.Process] = {}
    for pid in root_pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                found[proc.pid] = proc
        except psutil.Error:
            continue
    return list(found.values())


class Sampler:
    """Samples a process tree every ``interval`` seconds until :meth:`stop`.

    Args:
        roots: returns the root pids to follow (called at every sample: a server restarted
            under another pid is followed).
        interval: seconds between samples.
    """

    def __init__(self, roots: Callable[[], Iterable[int]], interval: float = 1.0) -> None:
        self.roots = roots
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t: list[float] = []
        self._cpu: list[float] = []
        self._rss: list[float] = []
        self._n: list[int] = []
        self._busiest: list[float] = []
        self._known: dict[int, psutil.Process] = {}

    def start(self) -> Sampler:
        self._started = time.monotonic()
        self._sample(record=False)  # primes cpu_percent() of every process
        self._thread = threading.Thread(target=self._loop, name="mlharness-resources", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> Series:
        """Stop sampling (within one interval) and return what was seen."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
        return Series(tuple(self._t), tuple(self._cpu), tuple(self._rss), tuple(self._n), busiest_cpu_percent=tuple(self._busiest))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(record=True)

    def _sample(self, record: bool) -> None:
        cpu = rss = busiest = 0.0
        alive = 0
        current: dict[int, psutil.Process] = {}
        for proc in tree(self.roots()):
            known = self._known.get(proc.pid, proc)  # the same object keeps cpu_percent's reference point
            try:
                with known.oneshot():
                    used = known.cpu_percent(None)
                    rss += known.memory_info().rss / MB
                cpu += used
                busiest = max(busiest, used)
                alive += 1
                current[proc.pid] = known
            except psutil.Error:
                continue
        self._known = current
        if record:
            self._t.append(time.monotonic() - self._started)
            self._cpu.append(cpu)
            self._rss.append(rss)
            self._n.append(alive)
            self._busiest.append(busiest)


@dataclasses.dataclass(frozen=True)
class Growth:
    """A least-squares line through the RSS samples."""

    slope_mb_per_min: float
    growth_mb: float  # slope x the sampled span
    span_s: float
    samples: int


def rss_growth(series: Series, skip_s: float = 0.0) -> Growth | None:
    """The RSS trend after the first ``skip_s`` seconds (warm-up); None with under 3 samples."""
    points = [(t, r) for t, r in zip(series.t_s, series.rss_mb, strict=True) if t >= skip_s]
    if len(points) < 3:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_r = sum(r for _, r in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    slope = sum((t - mean_t) * (r - mean_r) for t, r in points) / var  # MB per second
    span = points[-1][0] - points[0][0]
    return Growth(slope * 60, slope * span, span, n)
