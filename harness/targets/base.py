"""The target protocol: where the system under test runs.

Suites and the runner never ask which target they are on; they call these methods.
A target that cannot do something (the ``endpoint`` target runs no pipeline) says so
through ``runs_pipelines`` / ``deploys`` and the runner skips those checks with a reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from harness.config import HarnessConfig
from harness.models import Endpoint, PipelineRun

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """The default progress sink: say nothing."""


@dataclasses.dataclass(frozen=True)
class TargetContext:
    """What every target is built with.

    Args:
        config: the run's settings.
        work_dir: the run's report directory: logs, artifacts and diagnostics go here.
        progress: called with a short line whenever long work moves on.
    """

    config: HarnessConfig
    work_dir: Path
    progress: Progress = _quiet


@runtime_checkable
class Target(Protocol):
    """Provision, run the pipeline, deploy, reach, tear down."""

    name: str
    runs_pipelines: bool
    deploys: bool

    def provision(self) -> None:
        """Bring up (or check) the infrastructure. Raises InfrastructureError."""

    def run_pipeline(self, package: Path) -> PipelineRun:
        """Run the compiled pipeline package and wait for it, within the pipeline timeout."""

    def deploy(self, run: PipelineRun | None) -> Endpoint:
        """Serve the run's model (or reach the given endpoint) and wait until it is ready."""

    def model_artifact(self) -> Path | None:
        """A local copy of the served model (for parity checks), if the target has one."""

    def diagnostics(self, out_dir: Path) -> list[Path]:
        """Write what helps explain a failure (logs, events) into ``out_dir``; return the files."""

    def teardown(self) -> None:
        """Release everything this target created. Safe to call twice and after failures."""
