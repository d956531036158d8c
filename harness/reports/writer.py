"""``report.json``: the machine-readable truth of a run, rewritten after every step.

Each write goes to a temporary file of its own that is then renamed over ``report.json``,
so a crash or Ctrl-C at any moment leaves the last complete report, with status ``running``
until the run ends as ``passed``, ``failed``, ``error`` or ``interrupted``. A write that
fails (a full disk) leaves the previous report in place and raises :class:`ReportWriteError`;
the final one falls back to rewriting the existing file in place, so a run that ended is
never left ``running``. Every string passes :func:`harness.redact.redact_obj` on its way to disk.

Each run's directory is created atomically under a unique name
(:func:`create_report_dir`) and held with a lock while the run writes to it, so two runs
never share one. A directory is one run: one given again (``--report-dir reports/ci``) that
holds an earlier run's ``report.json`` is emptied of what that run wrote before this one
writes (:meth:`ReportWriter._clear_earlier_run`); the lock file goes when the run ends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import math
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, InfrastructureError
from harness.record import READABLE_SCHEMAS, RunRecord
from harness.redact import redact_obj
from harness.results import RunStatus

REPORT_FILE = "report.json"
LOCK_FILE = ".mlharness.lock"
# errors that say the path the user chose is wrong (exit 2), not that the machine failed (exit 3)
# files that say a directory is a project, not a run's: never emptied, even if it holds a report.json
PROJECT_FILES = ("pyproject.toml", "setup.py", "harness.toml", ".git")
USER_PATH_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP})


class ReportWriteError(InfrastructureError):
    """A report file could not be written (a full disk, an unwritable directory): exit 3."""

    def __init__(self, path: Path, exc: OSError) -> None:
        self.path = path
        self.os_error = exc
        super().__init__(f"cannot write {path}: {exc.strerror or exc}")


def path_error(path: Path, exc: OSError, key: str = "report_dir") -> ConfigError | InfrastructureError:
    """The error for ``exc`` on ``path``: ConfigError (exit 2) if the path is at fault, else exit 3."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EEXIST or (exc.errno == errno.ENOTDIR and path.is_file()):
        reason = "it is a file, not a directory"
    if exc.errno in USER_PATH_ERRNOS:
        return ConfigError(f"cannot use {str(path)!r}: {reason}", key)
    return InfrastructureError(f"cannot write {path}: {reason}")


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file of this writer's own, then rename.

    A reader sees the old file or the new one, never half of either; a failed write leaves no
    temporary file and no truncated ``path`` behind.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as to any file
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def create_report_dir(path: Path | None, base: str | Path = "reports") -> Path:
    """The run's directory: ``path``, or a new ``base/<timestamp>[-n]`` created atomically.

    The default name is taken with ``mkdir`` (which fails if it exists), never checked first
    and created later, so two runs starting in the same second get two directories.

    Raises:
        ConfigError: the directory cannot be created where the user asked (a file there, no
            permission): exit 2, naming ``report_dir``.
        InfrastructureError: the machine failed (a full disk).
    """
    if path is not None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise path_error(path, exc) from None
        if not path.is_dir():
            raise ConfigError(f"cannot use {str(path)!r}: it is a file, not a directory", "report_dir")
        return path
    root = Path(base)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            candidate = root / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:
        raise path_error(root, exc) from None
    raise InfrastructureError(f"no free report directory name under {root} for {stamp}")


class ReportWriter:
    """Writes one run's :class:`~harness.record.RunRecord` to ``report.json``, and holds its directory.

    The run changes the record, then calls :meth:`flush`; the writer never holds state of its own.

    Args:
        report_dir: the run's directory (created atomically; an existing one must be free).
        record: the run's record.
    """

    def __init__(self, report_dir: Path, record: RunRecord) -> None:
        self.dir = create_report_dir(report_dir)
        self.path = self.dir / REPORT_FILE
        self.record = record
        self._lock = threading.Lock()
        self._dir_lock: int | None = None
        self._hold_dir()
        try:
            self._clear_earlier_run()
        except BaseException:
            self.release()
            raise
        try:
            self.flush()
        except ReportWriteError as exc:  # the first write: an unwritable directory is the user's to fix
            self.release()
            raise path_error(self.dir, exc.os_error) from None

    def _hold_dir(self) -> None:
        """Lock the directory for this run: a second run writing into it would mix two reports."""
        try:
            import fcntl
        except ImportError:  # not on Windows: the unique default name still keeps runs apart
            return
        lock_path = self.dir / LOCK_FILE
        for _attempt in range(5):
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise path_error(self.dir, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise ConfigError(f"{str(self.dir)!r} is in use by another mlharness run; give each run its own directory", "report_dir") from None
            try:  # the run before removed the file as it let go: lock the one that is there now
                if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        else:
            raise ConfigError(f"{str(self.dir)!r} is being taken and let go by other mlharness runs; give each run its own directory", "report_dir")
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._dir_lock = fd

    def _clear_earlier_run(self) -> None:
        """Empty the directory of an earlier run's files, so one directory never mixes two runs.

        Only a directory holding an mlharness ``report.json`` is an earlier run's: everything
        in it but the lock goes (``load/``, ``robustness.json``, the rendered views...). A
        directory without one is used as it is, nothing removed; one that also holds a project
        (``pyproject.toml``, ``.git``...) is refused instead: exit 2.
        """
        try:
            earlier = "schema_version" in json.loads((self.dir / REPORT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return
        if not earlier:
            return
        project = [name for name in PROJECT_FILES if (self.dir / name).exists()]
        if project:
            raise ConfigError(f"{str(self.dir)!r} holds a project ({', '.join(project)}) and an earlier report; give the run a directory of its own", "report_dir")
        for entry in self.dir.iterdir():
            try:
                if entry.name == LOCK_FILE:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            except OSError as exc:
                raise path_error(self.dir, exc) from None

    def release(self) -> None:
        """Let go of the directory once the run ended: the lock file is removed, then unlocked."""
        if self._dir_lock is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.dir / LOCK_FILE)
            with contextlib.suppress(OSError):
                os.close(self._dir_lock)
            self._dir_lock = None

    def end(self, status: RunStatus, exit_code: int, error: str | None = None) -> None:
        """The run ended: write the record with its final status (again, if called twice: the later call wins).

        If the disk is full, the existing ``report.json`` is rewritten in place (compact, or
        cut down to the verdict and the checks), so the report never says ``running`` after
        the run ended. Raises :class:`ReportWriteError` only if even that fails.
        """
        with self._lock:
            self.record.end(status, exit_code, error)
        try:
            self.flush()
        except ReportWriteError:
            self._rewrite_in_place()

    def flush(self) -> None:
        """Write atomically: a reader never sees half a report.

        Raises:
            ReportWriteError: the write failed; the previous ``report.json`` is still there.
        """
        with self._lock:
            text = json.dumps(redact_obj(self.record.as_dict()), indent=2, default=str)
            try:
                atomic_write_text(self.path, text + "\n")
            except OSError as exc:
                raise ReportWriteError(self.path, exc) from None

    def _rewrite_in_place(self) -> None:
        """Overwrite the blocks the existing ``report.json`` already holds: no new space needed."""
        with self._lock:
            data = redact_obj(self.record.as_dict())
            essentials = {k: data[k] for k in ("schema_version", "tool", "status", "exit_code", "target", "started_at", "finished_at", "duration_s", "error")}
            essentials["error"] = ((essentials["error"] or "") + " (report cut down: the disk was full)").strip()
            candidates = [data, {**essentials, "checks": data["checks"]}, essentials]
            try:
                size = self.path.stat().st_size
                text = next(t for t in (json.dumps(c, separators=(",", ":"), default=str) + "\n" for c in candidates) if len(t) <= size)
                with self.path.open("r+", encoding="utf-8") as out:
                    out.write(text)
                    out.truncate()
            except (OSError, StopIteration) as exc:
                raise ReportWriteError(self.path, exc if isinstance(exc, OSError) else OSError(errno.ENOSPC, "no room left for the final report")) from None


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a ``report.json`` (or the one in a run directory), checking its schema version."""
    file = Path(path)
    if file.is_dir():
        file = file / REPORT_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ValueError(f"{file} is not an mlharness report (no schema_version)")
    if not isinstance(data["schema_version"], int) or data["schema_version"] not in READABLE_SCHEMAS:
        raise ValueError(f"{file} has schema_version {data['schema_version']}; this mlharness reads {', '.join(map(str, READABLE_SCHEMAS))}")
    return data


LOAD_NUMBERS = ("requests", "failures", "error_rate", "rps")


def load_baseline(path: str | Path) -> dict[str, Any]:
    """A ``report.json`` to compare load figures with, checked where the comparison reads it.

    Raises:
        ValueError: not JSON, not an mlharness report, no ``load`` section, or figures that are
            not finite numbers; the message names the file and the field.
    """
    file = Path(path)
    try:
        report = load_report(file)
    except UnicodeDecodeError:
        raise ValueError(f"{file} is not a JSON text file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file} is not valid JSON ({exc})") from None
    if not isinstance(report.get("schema_version"), int):
        raise ValueError(f"{file}: schema_version is {report.get('schema_version')!r}, not a number")
    load = report.get("load")
    if load is None:
        raise ValueError(f"{file} has no load figures (was that run made with --no-load?)")
    if not isinstance(load, dict):
        raise ValueError(f"{file}: load is a {type(load).__name__}, not an object")
    latency = load.get("latency_ms")
    if latency is not None and not isinstance(latency, dict):
        raise ValueError(f"{file}: load.latency_ms is a {type(latency).__name__}, not an object")
    fields = [(f"load.{k}", load.get(k)) for k in LOAD_NUMBERS] + [(f"load.latency_ms.{k}", v) for k, v in (latency or {}).items()]
    for name, value in fields:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)):
            raise ValueError(f"{file}: {name} is {value!r}, not a number")
    return report
