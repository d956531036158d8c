"""Virtual environments for third-party counterparts whose pins clash with ours.

MLServer and tritonclient are installed from PyPI, each into a venv of its own, in a cache
directory shared by every checkout on the machine:
``$XDG_CACHE_HOME/mlharness/foreign/<name>-<hash>`` (``~/.cache`` without ``XDG_CACHE_HOME``),
where the hash covers the pins, the constraints file and the Python version. A venv is built
once (under a file lock, so two pytest runs do not build it twice) and reused after; a build
that was interrupted is started again from scratch.

A build that fails because the package index cannot be reached raises :class:`IndexUnreachable`
(the fixtures skip with its message); any other failure raises :class:`VenvBuildError` with
the tail of pip's output: a pin that no longer resolves is a failure, not a skip.

Each spec's pins are exact, and its transitive dependencies are held by a constraints file
(``constraints/<name>.txt``, a ``pip freeze`` of a build that passed the conformance tests), so
the counterpart behaves the same next year. Prebuild all of them (what ``.ci/run`` does)::

    python -m tests.foreign.venvs            # or: python -m tests.foreign.venvs mlserver
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from harness import procs

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "constraints"
DEFAULT_TIMEOUT = 900.0
DEFAULT_INDEX = "https://pypi.org/simple/"
READY_MARKER = "mlharness-venv.json"

# What pip prints when it cannot reach the index (urllib3/requests errors and pip's own words).
UNREACHABLE_SIGNS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "No route to host",
    "ConnectTimeoutError",
    "ProxyError",
    "Could not fetch URL",
    "connection broken by",
)


class VenvError(Exception):
    """A counterpart's venv could not be had."""


class IndexUnreachable(VenvError):
    """The package index could not be reached: the tests that need this venv skip."""


class VenvBuildError(VenvError):
    """pip failed for another reason (a pin that no longer resolves, a build error)."""


@dataclasses.dataclass(frozen=True)
class VenvSpec:
    """One counterpart's environment.

    Args:
        name: short name, the first part of the venv's directory name.
        pins: requirement specifiers given to ``pip install``.
        why: why it cannot live in the harness's own venv (for docs and messages).
    """

    name: str
    pins: tuple[str, ...]
    why: str

    @property
    def constraints(self) -> Path:
        return CONSTRAINTS / f"{self.name}.txt"

    def digest(self) -> str:
        """12 hex digits covering everything that changes what gets installed."""
        constraints = self.constraints.read_text() if self.constraints.is_file() else ""
        key = {
            "pins": list(self.pins),
            "constraints": constraints,
            "python": platform.python_version(),
            "implementation": sys.implementation.name,
            "machine": platform.machine(),
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


# MLServer 1.7.1 (SeldonIO/MLServer, tag 1.7.1, pyproject.toml) pins fastapi <0.116 (so
# starlette <0.47), which clashes with kserve 0.21.0's starlette >=1.3.1 and our fastapi pin.
# scikit-learn 1.9.1 is ours, so the served artifact unpickles with the version that trained it.
# uvloop 0.21.0: with uvloop 0.22 every MLServer 1.7.1 inference worker dies at start
# ("There is no current event loop", SeldonIO/MLServer#2286, unfixed in 1.7.1).
MLSERVER = VenvSpec(
    "mlserver",
    ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "scikit-learn==1.9.1", "uvloop==0.21.0"),
    "MLServer 1.7.1 pins fastapi<0.116 (starlette<0.47); kserve 0.21.0 needs starlette>=1.3.1",
)
# tritonclient[http] 2.73.0 (triton-inference-server/client, src/python/library) pins
# greenlet<3.4, below the greenlet 3.5 that our locust/gevent stack runs on; its http client
# imports geventhttpclient (gevent), which must stay out of the pytest process anyway.
TRITONCLIENT = VenvSpec(
    "tritonclient",
    ("tritonclient[http]==2.73.0",),
    "tritonclient 2.73.0 pins greenlet<3.4; our locust/gevent stack runs greenlet 3.5",
)
# nvidia-pytriton 0.7.0 (triton-inference-server/pytriton, tag v0.7.0, pyproject.toml) ships
# the real tritonserver binary and pins numpy<2; ours is numpy 2. scikit-learn 1.9.1 is ours,
# so the artifact the tests train unpickles in the server with the version that trained it.
PYTRITON = VenvSpec(
    "pytriton",
    ("nvidia-pytriton==0.7.0", "scikit-learn==1.9.1"),
    "nvidia-pytriton 0.7.0 pins numpy<2; our stack runs numpy 2",
)
SPECS = {spec.name: spec for spec in (MLSERVER, TRITONCLIENT, PYTRITON)}


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/mlharness/foreign``, or ``~/.cache/mlharness/foreign``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlharness" / "foreign"


def venv_dir(spec: VenvSpec, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"{spec.name}-{spec.digest()}"


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def is_ready(venv: Path) -> bool:
    return (venv / READY_MARKER).is_file() and python_of(venv).exists()


@contextlib.contextmanager
def _locked(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (another process may be building the same venv)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise VenvBuildError(
                        f"another process held {path} for {timeout:g}s (building the same venv?)"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def index_unreachable(project: str, timeout: float = 10.0) -> str | None:
    """Why the package index cannot be reached (``None`` if it answers at all).

    Asks the index (``PIP_INDEX_URL``, else PyPI) for ``project``'s page; any HTTP answer, even
    an error status, proves it reachable.
    """
    url = (os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX).rstrip("/") + f"/{project}/"
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused, bad URL
        return f"{url}: {exc}"


def _project(pin: str) -> str:
    for stop in "[=<>!~; ":
        pin = pin.split(stop, 1)[0]
    return pin


def _run(argv: list[str], log: Path, timeout: float, what: str, project: str | None = None) -> None:
    """Run ``argv`` with its output appended to ``log``; stop its process group on timeout.

    A failure is :class:`IndexUnreachable` when pip's output shows a connection error or, when
    ``project`` is given, the index does not answer for it; else :class:`VenvBuildError`.
    """
    proc = procs.spawn(argv, log_path=log)
    try:
        code = procs.wait_exit(proc, timeout)
    finally:
        procs.stop(proc)  # a no-op once it exited; on timeout or Ctrl-C it ends pip's children too
    if code == 0:
        return
    output = log.read_text(errors="replace") if log.is_file() else ""
    tail = "\n".join(output.strip().splitlines()[-15:])
    sign = next((f"pip said {s!r}" for s in UNREACHABLE_SIGNS if s in output), None)
    unreachable = sign or (index_unreachable(project) if project else None)
    if unreachable:
        raise IndexUnreachable(f"{what}: the package index is unreachable ({unreachable}); full log: {log}")
    if code is None:
        raise VenvBuildError(f"{what}: pip did not finish within {timeout:g}s; last output:\n{tail}\nfull log: {log}")
    raise VenvBuildError(f"{what}: pip exited with {code}:\n{tail}\nfull log: {log}")


def ensure_venv(spec: VenvSpec, *, timeout: float = DEFAULT_TIMEOUT, root: Path | None = None) -> Path:
    """The venv's directory, built first if it does not exist yet.

    Args:
        spec: what to install.
        timeout: seconds for the whole build (venv creation and pip install).
        root: cache directory (default :func:`cache_root`).

    Raises:
        IndexUnreachable: PyPI (or the configured index) could not be reached.
        VenvBuildError: pip failed otherwise, or did not finish within ``timeout``.
    """
    venv = venv_dir(spec, root)
    if is_ready(venv):
        return venv
    with _locked(venv.with_name(venv.name + ".lock"), timeout):
        if is_ready(venv):  # built by another process while this one waited
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # a build that was cut short
        deadline = time.monotonic() + timeout
        log = venv.with_name(venv.name + ".log")
        log.unlink(missing_ok=True)
        # no pip inside: ours installs into it (``pip --python``), which skips ensurepip (~25 s
        # on a busy 2-core machine); --no-compile skips byte-compiling every installed file
        # (scipy, pandas, ...): what the server imports is compiled on its first start
        _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], log, timeout, f"creating the {spec.name} venv")
        pip = [sys.executable, "-m", "pip", "--python", str(python_of(venv)), "--disable-pip-version-check", "--no-input"]
        install = [*pip, "install", "-q", "--no-compile"]
        if spec.constraints.is_file():
            install += ["-c", str(spec.constraints)]
        _run([*install, *spec.pins], log, max(1.0, deadline - time.monotonic()), f"installing {' '.join(spec.pins)}", _project(spec.pins[0]))
        frozen = subprocess.run([*pip, "freeze"], capture_output=True, text=True, timeout=120, check=True).stdout
        (venv / READY_MARKER).write_text(json.dumps({"pins": spec.pins, "why": spec.why, "freeze": frozen.splitlines()}, indent=1))
    return venv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build (or reuse) the counterparts' venvs.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"Venvs to build ({', '.join(SPECS)}). Default: all.")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="Seconds per venv. Default: %(default)s")
    parser.add_argument("--freeze", action="store_true", help="Write each venv's pip freeze to its constraints file.")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SPECS))
    if unknown:
        parser.error(f"unknown venv {', '.join(unknown)}; choose from {', '.join(SPECS)}")
    status = 0
    for name in args.names or list(SPECS):
        spec = SPECS[name]
        was_ready = is_ready(venv_dir(spec))
        started = time.monotonic()
        try:
            venv = ensure_venv(spec, timeout=args.timeout)
        except IndexUnreachable as exc:
            print(f"::warning::{name}: {exc} (the tests that need it will skip)")
            continue
        except VenvError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
            continue
        took = time.monotonic() - started
        print(f"{name}: {'reused' if was_ready else f'built in {took:.0f}s'}: {venv}")
        if args.freeze:
            frozen = json.loads((venv / READY_MARKER).read_text())["freeze"]
            spec.constraints.parent.mkdir(exist_ok=True)
            spec.constraints.write_text("\n".join(frozen) + "\n")
            print(f"{name}: wrote {spec.constraints}")
    return status


if __name__ == "__main__":
    sys.exit(main())
