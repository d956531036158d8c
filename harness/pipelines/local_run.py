"""Run a compiled pipeline on this machine with ``kfp.local``, without touching the harness.

``kfp.local``'s SubprocessRunner with ``use_venv=False`` pip-installs each component's
``packages_to_install`` into the running interpreter: a validation run would silently
change the harness's own environment. The local target avoids that in one of two ways
(``pipeline_isolation``):

- ``check`` (default): verify that the harness's environment already satisfies every
  requirement (kfp's own included), then run each task without its install step, which
  would be a no-op (measured: ~1.3 s per task of pip start-up saved). A requirement that
  is not satisfied is an error naming the package, never an install. Each task runs as a
  fork of the runner, which imported kfp's executor and the components' imports once
  (:mod:`harness.pipelines.warm_tasks`), instead of a fresh interpreter importing them again.
- ``subprocess``: the same check, and each task a fresh ``python`` as kfp.local starts it.
- ``venv``: kfp.local's own fresh venv per task (``use_venv=True``): isolated and slow.

The run itself happens in a child process (:mod:`harness.pipelines.local_exec`) so that it
has a timeout, its output lands in ``pipeline.log`` and Ctrl-C kills its tasks too.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement

from harness import procs
from harness.errors import ConfigError, PipelineError, WaitTimeout
from harness.pipelines.lint import kfp_requirement, packages_to_install
from harness.pipelines.model_output import choose_model_output
from harness.pipelines.warm_tasks import strip_install
from harness.results import PipelineRun, TaskRun, TaskState


def unsatisfied(requirements: list[str]) -> list[str]:
    """The requirements the current interpreter does not satisfy (with why)."""
    missing = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            missing.append(f"{text} (not a requirement the harness can check)")
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            version = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{text} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            missing.append(f"{text} (installed: {version})")
    return missing


def local_spec(spec: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The spec as the ``check`` isolation runs it, and the requirements left unsatisfied."""
    result = copy.deepcopy(dict(spec))
    missing: list[str] = []
    for executor in result.get("deploymentSpec", {}).get("executors", {}).values():
        container = executor.get("container")
        if not container:
            continue
        reqs = packages_to_install(container)
        kfp_pin = kfp_requirement(container)
        if kfp_pin:
            reqs.append(f"kfp=={kfp_pin}")
        missing.extend(m for m in unsatisfied(reqs) if m not in missing)
        container["command"] = strip_install(list(container.get("command", [])))
    return result, missing


class LocalPipelineRunner:
    """The kfp.local runner child of one pipeline run.

    :meth:`prestart` starts it before the pipeline is compiled, so that its imports (kfp.local,
    kfp's executor) overlap the compile; :meth:`run` hands it the compiled spec and waits.
    Without a prestart, :meth:`run` starts it itself.
    """

    def __init__(self, work_dir: Path, *, isolation: str = "check", model_output: str | None = None) -> None:
        self.work_dir = work_dir
        self.isolation = isolation
        self.model_output = model_output  # which dsl.Model output is the model (None: the only one)
        self.proc: Any = None
        self.handoff = work_dir / "pipeline.handoff.json"
        self.result_path = work_dir / "pipeline-result.json"
        self.log_path = work_dir / "pipeline.log"

    def argv(self, source: list[str]) -> list[str]:
        argv = [
            sys.executable, "-m", "harness.pipelines.local_exec", *source,
            "--pipeline-root", str(self.work_dir / "pipeline-root"),
            "--result", str(self.result_path),
        ]
        if self.isolation == "venv":
            argv.append("--use-venv")
        elif self.isolation == "check":
            argv.append("--fork")
        return argv

    def _spawn(self, source: list[str]) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.result_path.unlink(missing_ok=True)
        self.proc = procs.spawn(self.argv(source), log_path=self.log_path, env={"PYTHONUNBUFFERED": "1", "NO_COLOR": "1"})

    def prestart(self, preload: list[str] | None = None) -> None:
        """Start the runner now; it waits for :meth:`run` to hand it a pipeline.

        ``preload``: modules the tasks will import (see
        :func:`harness.pipelines.compile.source_imports`), loaded while it waits.
        """
        if self.proc is None:
            self.handoff.unlink(missing_ok=True)
            extra = ["--preload", ",".join(preload)] if preload and self.isolation == "check" else []
            self._spawn(["--handoff", str(self.handoff), *extra])

    def run(self, spec_path: Path, arguments: Mapping[str, Any] | None = None, timeout: float = 900.0) -> PipelineRun:
        """Run the compiled pipeline at ``spec_path`` and wait for it.

        Raises:
            ConfigError: ``check`` isolation and a requirement is not satisfied.
            WaitTimeout: the run took longer than ``timeout``; its tasks are killed.
            PipelineError: the runner itself broke (no result written).
        """
        self.work_dir.mkdir(parents=True, exist_ok=True)
        spec = yaml.safe_load(spec_path.read_text())
        try:
            model = choose_model_output(spec, self.model_output)
        except ConfigError:
            self.stop()
            raise
        run_spec = spec_path
        if self.isolation in ("check", "subprocess"):
            stripped, missing = local_spec(spec)
            if missing:
                self.stop()
                raise ConfigError(
                    "the local target runs pipeline tasks in the harness's environment, which lacks: "
                    + "; ".join(missing)
                    + ". Install them, or set pipeline_isolation = 'venv' (--pipeline-isolation venv).",
                    "pipeline_isolation",
                )
            run_spec = self.work_dir / "pipeline.local.yaml"
            run_spec.write_text(yaml.safe_dump(stripped, sort_keys=False))
        started = time.monotonic()
        if self.proc is None:
            self._spawn(["--spec", str(run_spec), "--arguments", json.dumps(dict(arguments or {}))])
        else:  # the prestarted runner is waiting for exactly this (atomically: a rename)
            tmp = self.handoff.with_suffix(".tmp")
            tmp.write_text(json.dumps({"spec": str(run_spec), "arguments": dict(arguments or {})}))
            tmp.replace(self.handoff)
        try:
            code = procs.wait_exit(self.proc, timeout)
            if code is None:
                raise WaitTimeout("the local pipeline run", timeout, f"see {self.log_path}")
        finally:
            self.stop()
        if not self.result_path.is_file():
            raise PipelineError(f"the local pipeline runner exited {code} without a result; see {self.log_path}")
        return _pipeline_run(spec, json.loads(self.result_path.read_text()), time.monotonic() - started, self.log_path, model)

    def stop(self) -> None:
        """Stop the runner and its tasks (safe to call twice, and when never started)."""
        if self.proc is not None:
            procs.stop(self.proc)
            self.proc = None


def run_local(
    spec_path: Path,
    work_dir: Path,
    *,
    arguments: Mapping[str, Any] | None = None,
    timeout: float = 900.0,
    isolation: str = "check",
) -> PipelineRun:
    """Run the compiled pipeline at ``spec_path`` under ``work_dir`` and wait for it.

    Raises:
        ConfigError: ``check`` isolation and a requirement is not satisfied.
        WaitTimeout: the run took longer than ``timeout``; its tasks are killed.
        PipelineError: the runner itself broke (no result written).
    """
    return LocalPipelineRunner(work_dir, isolation=isolation).run(spec_path, arguments, timeout)


def _pipeline_run(spec: Mapping[str, Any], result: Mapping[str, Any], duration: float, log: Path,
                  model: tuple[str, str] | None = None) -> PipelineRun:
    """The run's record; ``model`` is the (task, output) whose artifact is the model."""
    tasks = []
    model_uri: str | None = None
    metrics: dict[str, float] = {}
    for name, task in result.get("tasks", {}).items():
        artifacts = dict(task.get("artifacts", {}))
        tasks.append(TaskRun(
            name=name,
            state=TaskState(task.get("state", "unknown")),
            artifacts=artifacts,
            metrics=dict(task.get("metrics", {})),
            duration_s=task.get("duration_s"),
            log_path=str(log),
        ))
        metrics.update(task.get("metrics", {}))
        if model is not None and name == model[0] and model[1] in artifacts and task.get("state") == "succeeded":
            model_uri = artifacts[model[1]]
    planned = spec.get("root", {}).get("dag", {}).get("tasks", {})
    seen = {t.name for t in tasks}
    tasks.extend(TaskRun(name=n, state=TaskState.SKIPPED) for n in planned if n not in seen)
    return PipelineRun(
        pipeline_name=spec.get("pipelineInfo", {}).get("name", "pipeline"),
        run_id=Path(result.get("run_dir", "")).name,
        succeeded=result.get("status") == "succeeded",
        tasks=tuple(tasks),
        model_uri=model_uri,
        metrics=metrics,
        duration_s=round(duration, 3),
        message=result.get("message", ""),
    )
