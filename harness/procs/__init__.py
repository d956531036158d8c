"""Child processes and ports: started tracked, always reaped.

Every child the harness starts goes through :func:`spawn`, which puts it in its own
process group and in a registry; :func:`reap_all` (run at exit, on teardown and by the
CLI's signal handling) terminates each group, then kills what is left.

Every child starts in Python's isolated-path mode (``PYTHONSAFEPATH=1``, what ``python -P``
sets): ``python -m harness.…`` then does not put the working directory first on ``sys.path``,
so a host repository's own top-level ``harness/`` folder cannot shadow the installed package
in the compile step, the pipeline runner (and the kfp.local tasks it starts, which inherit the
environment), the local model server or locust.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, NoReturn

# the environment every child starts with on top of the harness's own (see the module docstring)
ISOLATED_ENV = {"PYTHONSAFEPATH": "1"}

_lock = threading.Lock()
_children: list[subprocess.Popen[bytes]] = []


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def spawn(
    argv: Sequence[str],
    *,
    log_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    die_with_parent: bool = False,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` as a tracked child in its own process group.

    Output (stdout and stderr) goes to ``log_path`` when given, else is discarded.
    ``die_with_parent``: the kernel SIGKILLs the child the moment this process dies, from
    before its first instruction (see :func:`parent_death_preexec`); for children that must
    never outlive the harness even while they start up (locust importing for a second).
    The child runs with :data:`ISOLATED_ENV` unless ``env`` says otherwise.
    """
    log: IO[bytes] | int
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")
    else:
        log = subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **ISOLATED_ENV, **(env or {})},
            cwd=cwd,
            start_new_session=True,
            preexec_fn=parent_death_preexec() if die_with_parent else None,
        )
        _children.append(proc)  # at once: a Ctrl-C after this point finds it tracked
    finally:
        if not isinstance(log, int):
            log.close()
    return proc


def die_with_parent() -> None:
    """In a child of the harness: exit when the harness does, even if it is killed outright.

    Linux only (``PR_SET_PDEATHSIG``); elsewhere a no-op. Call it first thing in a child's
    ``main`` so nothing outlives a harness that had no chance to reap it.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        sys.exit("the harness that started this process is gone")


def parent_death_preexec(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` that sets ``PR_SET_PDEATHSIG`` in the child, between fork and exec.

    The setting survives ``exec``, so the child is covered from its interpreter's first
    instruction, long before any code of its own could check on its parent. Linux only;
    None elsewhere. The kernel sends ``sig`` when the *thread* that forked the child ends,
    so it is set only when called from the main thread (whose end is the process's); from
    another thread None (the child then has to watch its parent itself).
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, sig)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def wait_for_handoff(path: str | Path, timeout: float, what: str, poll: float = 0.02) -> str:
    """In a prestarted child: the text the harness writes to ``path`` once the input is ready.

    The harness starts some children before their input exists (the pipeline runner before
    the compile, the model server before training) and writes it atomically to ``path``.
    Exits when ``timeout`` passes or the process that started this one goes away.
    """
    parent = os.getppid()
    deadline = time.monotonic() + timeout
    file = Path(path)
    while time.monotonic() < deadline:
        if file.is_file():
            text = file.read_text().strip()
            if text:
                return text
        if os.getppid() != parent:
            sys.exit("the harness that started this process is gone")
        time.sleep(poll)
    sys.exit(f"no {what} was written to {path} within {timeout:g}s")


def fast_exit(code: int) -> NoReturn:
    """Flush output and exit now, skipping the interpreter's teardown of every module.

    For a process whose work is done and whose files are closed: with kfp, pandas and
    scikit-learn loaded the teardown alone takes about a second on a 2-core machine, which a
    run would otherwise wait for at every child it stops and at its own end. ``atexit``
    handlers do not run: call this only where none is needed.
    """
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    os._exit(code)


def stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> int | None:
    """SIGTERM the child's process group, SIGKILL it after ``grace`` seconds.

    While a run cleans up after a second signal (see :func:`cleaning_up`), the grace is cut
    short: the group is killed at once.
    """
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        if not _wait_unless_hurried(proc, grace):
            _signal_group(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
    # the group may still hold grandchildren (uvicorn workers): make sure they go too
    _signal_group(proc, signal.SIGKILL)
    with _lock:
        if proc in _children:
            _children.remove(proc)
    return proc.returncode


def _wait_unless_hurried(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether ``proc`` exited within ``timeout``; gives up early once a cleanup is hurried."""
    deadline = time.monotonic() + timeout
    while not _hurry.is_set():
        try:
            proc.wait(timeout=min(0.05, max(0.0, deadline - time.monotonic())))
            return True
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                return False
    return proc.poll() is not None


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def reap_all(grace: float = 5.0) -> None:
    """Stop every tracked child that is still running."""
    with _lock:
        children = list(_children)
    for proc in reversed(children):
        stop(proc, grace)


def snapshot() -> frozenset[int]:
    """The children tracked right now (pass to :func:`reap_since`)."""
    with _lock:
        return frozenset(id(p) for p in _children)


def reap_since(before: frozenset[int]) -> None:
    """Stop every tracked child that was not in ``before``."""
    with _lock:
        started = [p for p in _children if id(p) not in before]
    for proc in reversed(started):
        stop(proc)


@contextlib.contextmanager
def reaping() -> Iterator[None]:
    """Stop, on the way out, every child started inside the block (and only those).

    The CLI runs inside one, so an in-process caller's own children (a test's session
    server, say) outlive a ``main()`` call that they did not come from.
    """
    before = snapshot()
    try:
        yield
    finally:
        reap_since(before)


def running() -> list[subprocess.Popen[bytes]]:
    """The tracked children that are still alive (for tests and diagnostics)."""
    with _lock:
        return [p for p in _children if p.poll() is None]


_interrupted = threading.Event()
_cleaning = threading.Event()  # a run is cleaning up: a signal hurries it instead of raising
_hurry = threading.Event()  # a signal arrived during the cleanup


def check_interrupted() -> None:
    """Raise KeyboardInterrupt if a signal arrived whose KeyboardInterrupt was lost on its way.

    Python drops an exception raised where it cannot propagate (a garbage-collector callback,
    a ``__del__``): hypothesis runs ``gc.collect()`` with such a callback before every test
    case, and a Ctrl-C landing there was silently lost. Long loops call this at safe points.
    """
    if _interrupted.is_set():
        raise KeyboardInterrupt("interrupted")


@contextlib.contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into KeyboardInterrupt for the duration, so cleanup paths run.

    The signal is also remembered, for :func:`check_interrupted`.
    """

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _interrupted.clear()
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _interrupted.clear()


SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _on_signal(signum: int, frame: object) -> None:
    """SIGINT/SIGTERM: a KeyboardInterrupt, or, while a run cleans up, a request to hurry."""
    if _cleaning.is_set():
        _hurry.set()
        return
    _interrupted.set()
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def cleaning_up(hurried: bool = False) -> Iterator[threading.Event]:
    """While a run tears down and finishes its report: a signal no longer interrupts it.

    A second Ctrl-C, or CI's SIGTERM after its SIGINT, sets the yielded event instead of
    raising: diagnostics stop waiting, :func:`stop` kills at once, and the report is still
    finished. Installs the handler for SIGINT and SIGTERM for the duration (in the main
    thread), also where :func:`interrupts_as_keyboard_interrupt` is not in force. ``hurried``:
    start with the event set (a signal already arrived).
    """
    if hurried:
        _hurry.set()
    else:
        _hurry.clear()
    _cleaning.set()
    in_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNALS} if in_main else {}
    try:
        yield _hurry
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _cleaning.clear()
        _hurry.clear()


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The child's exit code if it exits within ``timeout`` seconds, else ``None``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc.returncode
        time.sleep(0.05)
    return None


atexit.register(reap_all)
