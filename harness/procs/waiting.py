"""Waits with a deadline: the only way the harness polls anything."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from harness.errors import WaitTimeout

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    interval: float = 0.1,
    describe: Callable[[], str] | None = None,
    abort: Callable[[], str | None] | None = None,
) -> T:
    """Call ``probe`` until it returns something other than ``None``/``False``.

    Args:
        probe: returns the awaited value, or ``None``/``False`` to keep waiting. Exceptions
            it raises propagate (catch expected ones inside the probe).
        what: what is awaited, for the timeout message ("model server ready").
        timeout: seconds before :class:`WaitTimeout` is raised.
        interval: seconds between probes.
        describe: returns the last observation, for the timeout message.
        abort: returns a reason to stop waiting early (a child process died), raised as
            WaitTimeout with that reason.

    Example:
        >>> wait_until(lambda: 42, what="the answer", timeout=1)
        42
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if abort is not None:
            reason = abort()
            if reason:
                raise WaitTimeout(what, timeout, reason, aborted=True)
        if time.monotonic() >= deadline:
            raise WaitTimeout(what, timeout, describe() if describe else "")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
