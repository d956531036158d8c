"""A call that may hang, waited for within a time bound and until a stop signal.

For work the harness cannot make interruptible itself (a target's diagnostics talk to a
server or a cluster that may not answer): it runs in a daemon thread, and the caller stops
waiting when the bound passes or ``stop`` is set. What it started as child processes is
reaped with the run's other children.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass
class Bounded(Generic[T]):
    """How a bounded call ended: ``value``, or ``error``, or neither (``abandoned`` says why)."""

    value: T | None = None
    error: Exception | None = None
    abandoned: str | None = None


def call_within(fn: Callable[[], T], timeout: float, stop: threading.Event, name: str = "mlharness-bounded") -> Bounded[T]:
    """Call ``fn`` in a daemon thread; wait at most ``timeout`` seconds, or until ``stop`` is set.

    Example:
        >>> call_within(lambda: 42, 1.0, threading.Event()).value
        42
    """
    outcome: Bounded[T] = Bounded()

    def run() -> None:
        try:
            outcome.value = fn()
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            outcome.error = exc

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout
    while worker.is_alive() and not stop.is_set() and time.monotonic() < deadline:
        worker.join(0.05)
    if worker.is_alive():
        return Bounded(abandoned="cut short by a second signal" if stop.is_set() else f"timed out after {timeout:g}s")
    return outcome
