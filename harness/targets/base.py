"""The target protocol: where the system under test runs.

Suites and the runner never ask which target they are on; they call these methods. Every hook
a target or a load generator offers is declared here (nothing probes for an optional one):
a target that cannot do something says so through its answer: ``runs_pipelines`` /
``deploys`` for the pipeline and the deploy, None from ``serving_runtime`` or
``resource_monitor``, a load generator whose ``plan`` is None drives its load elsewhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from harness.config import HarnessConfig
from harness.results import Endpoint, PipelineRun

if TYPE_CHECKING:
    from harness.load.plan import LoadPlan
    from harness.load.resources import Series
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


@dataclasses.dataclass(frozen=True)
class RuntimeVersions:
    """What one side (training or serving) runs; None where unknown (``deploy.compat`` compares two)."""

    where: str
    sklearn: str | None
    python: str | None = None
    numpy: str | None = None
    source: str = ""


class ResourceMonitor(Protocol):
    """Samples the model server's CPU and memory during the load window (``slo.rss_growth``)."""

    def start(self) -> object:
        """Start sampling (in the background)."""

    def stop(self) -> Series:
        """Stop sampling; the series sampled so far."""


class LoadGenerator(Protocol):
    """Drives one load window against an endpoint, from wherever the target puts it."""

    @property
    def plan(self) -> LoadPlan | None:
        """The plan locust runs from this host (the capacity search steps it); None: the load
        runs elsewhere (locust Jobs in the cluster) and this host cannot step it."""

    @property
    def via(self) -> str:
        """What the requests go through (``direct``, ``port-forward``, ``ingress``, ``in-cluster``), for the report."""

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

    def deploy_candidate(self, artifact: Path) -> Endpoint:
        """Serve ``artifact`` beside the live model as the release diff's candidate, once ready
        (``teardown`` stops it too). ConfigError where the target cannot (give ``candidate_url``)."""

    def train_candidate(self, package: Path) -> PipelineRun:
        """Run the candidate's compiled pipeline ``package`` apart from the live one; its
        ``model_uri`` is what :meth:`deploy_candidate` serves. ConfigError where the target
        cannot (give ``candidate_url``)."""

    def serving_runtime(self) -> RuntimeVersions | None:
        """What serves the model (scikit-learn, numpy, Python), if the target knows it."""

    def load_generator(self, endpoint: Endpoint) -> LoadGenerator:
        """Where and how load is driven against ``endpoint`` (this host, or inside the cluster)."""

    def resource_monitor(self) -> ResourceMonitor | None:
        """What samples the server during the load window, or None (no server process or pod metrics here)."""

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
