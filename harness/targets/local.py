"""The embedded default target: everything on this machine, no cluster.

Pipeline: ``kfp.local`` SubprocessRunner (:mod:`harness.pipelines.local_run`).
Serving: KServe's Python model server with the harness's sklearn runtime, as a child
process on 127.0.0.1 (:mod:`harness.serving.local`).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import HarnessConfig

if TYPE_CHECKING:
    from harness.load.resources import Sampler
from harness.errors import ConfigError, InfrastructureError
from harness.pipelines.arguments import pipeline_arguments
from harness.pipelines.local_run import LocalPipelineRunner
from harness.results import Endpoint, PipelineRun
from harness.serving.local import LocalModelServer
from harness.targets.base import LoadGenerator, RuntimeVersions, TargetContext, local_load


class LocalTarget:
    """Runs the pipeline with kfp.local and serves the model on 127.0.0.1."""

    name = "local"
    runs_pipelines = True
    deploys = True
    deploy_failure_is_infrastructure = False
    serves_with_this_python = True

    def __init__(self, ctx: TargetContext) -> None:
        self.ctx = ctx
        self.server: LocalModelServer | None = None
        self.candidate: LocalModelServer | None = None  # the release diff's candidate, beside the live model
        self.pipeline_runner: LocalPipelineRunner | None = None
        self._model_dir: Path | None = None

    def provision(self) -> None:
        """Start the pipeline runner and the model server now, so their imports overlap the compile.

        Both wait for their input (the compiled pipeline, the trained model) through a
        handoff file; :meth:`teardown` stops them if the run never gets that far.
        """
        self._prestart_server()
        if self.pipeline_runner is None:
            from harness.pipelines.compile import source_imports

            self.pipeline_runner = LocalPipelineRunner(self.ctx.work_dir, isolation=self.ctx.config.local.pipeline_isolation,
                                                       model_output=self.ctx.config.model.model_output)
            self.pipeline_runner.prestart(preload=source_imports(self.ctx.config.core.pipeline))

    def run_pipeline(self, package: Path) -> PipelineRun:
        cfg = self.ctx.config
        self._prestart_server()
        runner = self.pipeline_runner or LocalPipelineRunner(self.ctx.work_dir, isolation=cfg.local.pipeline_isolation,
                                                                    model_output=cfg.model.model_output)
        self.pipeline_runner = None  # one run per runner; it stops itself when done
        self.ctx.progress("running the pipeline with kfp.local")
        run = runner.run(package, pipeline_arguments(package, cfg.model.min_accuracy), cfg.core.pipeline_timeout)
        if run.model_uri:
            self._model_dir = Path(run.model_uri)
        return run

    def _new_server(self, model_dir: Path | None) -> LocalModelServer:
        cfg = self.ctx.config
        return LocalModelServer(
            model_dir or self.ctx.work_dir,
            cfg.core.model_name,
            self.ctx.work_dir / "server.log",
            port=cfg.local.port,
            workers=cfg.local.server_workers,
            log_requests=cfg.local.server_log_requests,
            grpc=cfg.local.server_grpc,
        )

    def _prestart_server(self) -> None:
        """Start the model server while the pipeline trains: KServe's import (~2 s) overlaps training."""
        if self.server is None:
            self.server = self._new_server(None)
            self.server.prestart(self.ctx.work_dir / "server.model-dir")

    def deploy(self, run: PipelineRun | None) -> Endpoint:
        cfg = self.ctx.config
        model_dir = self._model_dir or (Path(run.model_uri) if run and run.model_uri else None)
        if model_dir is None or not model_dir.exists():
            raise InfrastructureError("the pipeline produced no model to deploy (no 'model' output of a succeeded task)")
        if self.server is None:
            self.server = self._new_server(model_dir)
        self.ctx.progress(f"starting the KServe model server on {self.server.url}")
        endpoint = self.server.start(cfg.core.ready_timeout, model_dir=model_dir)
        return with_protocols(endpoint, cfg)

    def model_artifact(self) -> Path | None:
        return self._model_dir

    def deploy_candidate(self, artifact: Path) -> Endpoint:
        """A second local model server on its own free ports, serving ``artifact`` (a model
        directory, or a model file: its directory) under ``candidate_model_name``."""
        cfg = self.ctx.config
        if not artifact.exists():
            raise ConfigError(f"{artifact} does not exist", "candidate_artifact")
        model_dir = artifact if artifact.is_dir() else artifact.parent
        self.candidate = LocalModelServer(model_dir, cfg.diff.candidate_model_name or cfg.core.model_name,
                                          self.ctx.work_dir / "candidate-server.log", workers=cfg.local.server_workers,
                                          log_requests=cfg.local.server_log_requests, grpc=cfg.local.server_grpc)
        self.ctx.progress(f"starting the candidate's model server on {self.candidate.url}")
        endpoint = self.candidate.start(cfg.core.ready_timeout)
        return dataclasses.replace(with_protocols(endpoint, cfg), description=f"candidate: local KServe model server serving {artifact}")

    def train_candidate(self, package: Path) -> PipelineRun:
        """The candidate's pipeline through its own kfp.local runner, in ``candidate/`` of the work directory."""
        cfg = self.ctx.config
        runner = LocalPipelineRunner(self.ctx.work_dir / "candidate", isolation=cfg.local.pipeline_isolation,
                                     model_output=cfg.model.model_output)
        self.ctx.progress("running the candidate's pipeline with kfp.local")
        return runner.run(package, pipeline_arguments(package, cfg.model.min_accuracy), cfg.core.pipeline_timeout)

    def serving_runtime(self) -> RuntimeVersions | None:
        """The model server runs this interpreter, with its scikit-learn and numpy."""
        return local_runtime()

    def load_generator(self, endpoint: Endpoint) -> LoadGenerator:
        """locust on this host, one worker per server worker (they share the cores)."""
        cores = os.cpu_count() or 1
        return local_load(self.ctx, endpoint, max(1, min(cores, self.ctx.config.local.server_workers)), "direct")

    def resource_monitor(self) -> Sampler | None:
        """The model server's process tree (every worker), sampled from ``/proc`` once a second."""
        from harness.load.resources import Sampler

        server = self.server
        if server is None or server.proc is None:
            return None
        return Sampler(lambda: [server.proc.pid] if server.proc is not None else [])

    def diagnostics(self, out_dir: Path) -> list[Path]:
        """The server and pipeline logs are already in the report directory."""
        return [p for p in (self.ctx.work_dir / "server.log", self.ctx.work_dir / "pipeline.log") if p.exists()]

    def teardown(self) -> None:
        if self.pipeline_runner is not None:
            self.pipeline_runner.stop()
            self.pipeline_runner = None
        for server in (self.server, self.candidate):
            if server is not None:
                server.stop()
        self.server = self.candidate = None
        shutil.rmtree(self.ctx.work_dir / "pipeline-root" / ".workspace", ignore_errors=True)


def local_runtime() -> RuntimeVersions:
    """The local KServe runtime: this interpreter and its packages."""
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return RuntimeVersions("the local KServe runtime", version("scikit-learn"), platform.python_version(),
                           version("numpy"), "this interpreter's installed packages")


def with_protocols(endpoint: Endpoint, cfg: HarnessConfig) -> Endpoint:
    """``endpoint`` with the protocols its ready server speaks (all, or the one asked for)."""
    import dataclasses

    from harness.inference.client import InferenceClient
    from harness.inference.discovery import wait_ready

    with InferenceClient(endpoint, cfg.core.request_timeout) as client:
        found = wait_ready(client, cfg.endpoint.protocol, timeout=cfg.core.ready_timeout)
    return dataclasses.replace(endpoint, protocols=found.ready, readiness=found.summary())
