"""No orphan load: a locust process exits the moment the process that started it is gone.

Plain Python, loaded by the locustfile from beside itself. The harness sets the kernel's
parent-death signal before ``exec`` (:func:`harness.procs.parent_death_preexec`), which
covers locust's own import and the wait for the go file; a worker that locust forks
(``--processes``) loses it, so :meth:`ParentGuard.after_fork` sets it again, toward the
master. :meth:`ParentGuard.watch` is the backstop where that signal is not available (not
Linux, or a harness that started locust from a thread other than its main one): it polls
``getppid()``, which changes when the parent dies and this process is re-parented.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable

POLL_S = 0.2
ORPHAN_EXIT = 3
PR_SET_PDEATHSIG = 1


class ParentGuard:
    """Watches one parent process.

    Args:
        parent: the pid that must stay this process's parent; 0 watches nothing (a pod,
            whose lifetime its Job bounds).
    """

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self._forking_parent = 0
        self._prctl: Callable[..., int] | None = None
        if sys.platform.startswith("linux"):
            try:  # looked up now: after a fork only the call itself is safe
                self._prctl = ctypes.CDLL(None, use_errno=True).prctl
            except (OSError, AttributeError):
                self._prctl = None

    def parent_gone(self) -> bool:
        return bool(self.parent) and os.getppid() != self.parent

    def exit(self) -> None:
        sys.stderr.write("the process that started this load run is gone: exiting\n")
        sys.stderr.flush()
        os._exit(ORPHAN_EXIT)

    def check(self) -> None:
        """Exit now if the parent is gone."""
        if self.parent_gone():
            self.exit()

    def watch(self) -> None:
        """Check forever (run it in a greenlet: ``time.sleep`` is gevent's in locust)."""
        while True:
            self.check()
            time.sleep(POLL_S)

    def install(self) -> None:
        """Guard the forks of this process too, and exit now if the parent is already gone."""
        os.register_at_fork(before=self._before_fork, after_in_child=self._after_fork)
        self.check()

    def _before_fork(self) -> None:
        self._forking_parent = os.getpid()

    def _after_fork(self) -> None:
        self.parent = self._forking_parent
        if self._prctl is not None:
            self._prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        self.check()  # the parent died before prctl took effect
