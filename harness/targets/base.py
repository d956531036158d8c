"""The target protocol: where the system under test runs.

Suites and the runner never ask which target they are on; they call these methods.
A target that cannot do something (the ``endpoint`` target runs no pipeline) says so
through ``runs_pipelines`` / ``deploys`` and the runner skips those checks with a reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from harness.config import HarnessConfig
from harness.results import Endpoint, PipelineRun

if TYPE_CHECKING:
    from harness.checks.compat import RuntimeVersions
    from harness.load.results import LoadResult

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


class LoadGenerator(Protocol):
    """Drives one load window against an endpoint, from wherever the target puts it."""

    def prestart(self) -> None:
        """Start early, if that helps (locust's import off the load phase); may do nothing."""

    def run(self, progress: Progress | None = None) -> LoadResult:
        """Run the load window and return what was measured."""

    def stop(self) -> None:
        """Stop what was started and not run (safe to call twice)."""


@runtime_checkable
class Target(Protocol):
    """Provision, run the pipeline, deploy, reach, load, tear down.

    ``deploy_failure_is_infrastructure``: a failed deploy means the platform is broken (a
    cluster: exit 3), not that the model failed ``deploy.ready`` (local, endpoint).
    ``serves_with_this_python``: the model server runs this interpreter's packages, so loading
    the artifact here is what the server will do (``deploy.compat``).
    """

    name: str
    runs_pipelines: bool
    deploys: bool
    deploy_failure_is_infrastructure: bool
    serves_with_this_python: bool

    def provision(self) -> None:
        """Bring up (or check) the infrastructure. Raises InfrastructureError."""

    def run_pipeline(self, package: Path) -> PipelineRun:
        """Run the compiled pipeline package and wait for it, within the pipeline timeout."""

    def deploy(self, run: PipelineRun | None) -> Endpoint:
        """Serve the run's model (or reach the given endpoint) and wait until it is ready."""

    def model_artifact(self) -> Path | None:
        """A local copy of the served model (for parity checks), if the target has one."""

    def serving_runtime(self) -> RuntimeVersions | None:
        """What serves the model (scikit-learn, numpy, Python), if the target knows it."""

    def load_generator(self, endpoint: Endpoint) -> LoadGenerator:
        """Where and how load is driven against ``endpoint`` (this host, or inside the cluster)."""

    def diagnostics(self, out_dir: Path) -> list[Path]:
        """Write what helps explain a failure (logs, events) into ``out_dir``; return the files."""

    def teardown(self) -> None:
        """Release everything this target created. Safe to call twice and after failures."""


def local_load(ctx: TargetContext, endpoint: Endpoint, default_processes: int, via: str) -> LoadGenerator:
    """locust on this host against ``endpoint``: ``default_processes`` workers unless ``load_processes`` says.

    ``via`` says what the requests go through (``direct``, ``port-forward``, ``ingress``), for the report.
    """
    from harness.load.plan import LoadPlan
    from harness.load.run import LocalLoad

    cfg = ctx.config
    plan = LoadPlan.from_config(endpoint, cfg, cfg.load.processes or default_processes)
    return LocalLoad(plan, ctx.work_dir / "load", via)
