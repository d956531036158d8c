"""``report.json``: the machine-readable truth of a run, rewritten after every step.

Each write goes to a temporary file that is then renamed over ``report.json``, so a
crash or Ctrl-C at any moment leaves the last complete report, with status ``running``
until the run ends as ``passed``, ``failed``, ``error`` or ``interrupted``. Every string
passes :func:`harness.redact.redact_obj` on its way to disk.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import __version__
from harness.models import CheckResult, CheckStatus, RunStatus
from harness.redact import redact_obj

SCHEMA_VERSION = 1
REPORT_FILE = "report.json"
VERSIONED_PACKAGES = ("kfp", "kserve", "scikit-learn", "locust", "kubernetes", "numpy")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def environment() -> dict[str, Any]:
    """Where the run ran: versions, host, git commit."""
    versions: dict[str, str | None] = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "mlharness": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "packages": versions,
        "git_commit": _git_commit(),
        "argv": [Path(sys.argv[0]).name, *sys.argv[1:]],
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class ReportWriter:
    """Owns ``report.json`` of one run.

    Args:
        report_dir: the run's directory (created).
        target: the target name.
        config: the run's settings (already redacted: ``HarnessConfig.as_dict()``).
    """

    def __init__(self, report_dir: Path, target: str, config: Mapping[str, Any]) -> None:
        self.dir = report_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / REPORT_FILE
        self._lock = threading.Lock()
        self.data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": "mlharness",
            "status": RunStatus.RUNNING.value,
            "exit_code": None,
            "target": target,
            "started_at": now_iso(),
            "finished_at": None,
            "duration_s": None,
            "error": None,
            "config": dict(config),
            "environment": environment(),
            "phases": {},
            "pipeline": None,
            "lint": [],
            "endpoint": None,
            "checks": [],
            "load": None,
            "slo": [],
            "baseline": None,
            "artifacts": {},
        }
        self.flush()

    # --- updates -----------------------------------------------------------------------------
    def set(self, key: str, value: Any) -> None:
        """Set a top-level section and write."""
        with self._lock:
            self.data[key] = value
        self.flush()

    def phase(self, name: str, seconds: float) -> None:
        """Record how long a phase took (the time breakdown of the run)."""
        with self._lock:
            self.data["phases"][name] = round(seconds, 3)
        self.flush()

    def add_check(self, result: CheckResult) -> None:
        """Add (or replace, by name) a check result and write."""
        with self._lock:
            checks = [c for c in self.data["checks"] if c["name"] != result.name]
            checks.append(result.as_dict())
            self.data["checks"] = checks
        self.flush()

    def checks(self) -> list[CheckResult]:
        return [
            CheckResult(c["name"], CheckStatus(c["status"]), c.get("message", ""), c.get("duration_s", 0.0), c.get("details", {}))
            for c in self.data["checks"]
        ]

    def finish(self, status: RunStatus, exit_code: int, error: str | None = None) -> None:
        """Close the report with its final status."""
        with self._lock:
            self.data["status"] = status.value
            self.data["exit_code"] = exit_code
            self.data["error"] = error
            self.data["finished_at"] = now_iso()
            started = dt.datetime.fromisoformat(self.data["started_at"].replace("Z", "+00:00"))
            self.data["duration_s"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 3)
        self.flush()

    def flush(self) -> None:
        """Write atomically: a reader never sees half a report."""
        with self._lock:
            text = json.dumps(redact_obj(self.data), indent=2, default=str)
            tmp = self.path.with_suffix(".json.tmp")
            tmp.write_text(text + "\n")
            os.replace(tmp, self.path)


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a ``report.json`` (or the one in a run directory), checking its schema version."""
    file = Path(path)
    if file.is_dir():
        file = file / REPORT_FILE
    data = json.loads(file.read_text())
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ValueError(f"{file} is not an mlharness report (no schema_version)")
    if data["schema_version"] > SCHEMA_VERSION:
        raise ValueError(f"{file} has schema_version {data['schema_version']}; this mlharness reads up to {SCHEMA_VERSION}")
    return data
