"""Child-process entry point that runs a compiled pipeline with ``kfp.local``.

Run by :mod:`harness.pipelines.local_run` as ``python -m harness.pipelines.local_exec``,
so that kfp's global local config, its console output and its task subprocesses live
in a process the harness can time out and kill. Writes a result JSON:
``{"status": ..., "run_dir": ..., "tasks": {name: {"state", "artifacts", "metrics"}}}``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any, TextIO

from harness.pipelines import warm_tasks
from harness.procs import die_with_parent, wait_for_handoff

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FINISHED = re.compile(r"Task '([^']+)' finished with status (\w+)")
_EXECUTING = re.compile(r"Executing task '([^']+)'")


class _StatusTee(io.TextIOBase):
    """Passes stdout through and collects kfp.local's "Task 'x' finished with status S".

    kfp.local logs task outcomes to stdout through a root-logger handler it installs and
    removes around each task, so stdout is the one place they can be read from.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.states: dict[str, str] = {}
        self.order: list[str] = []
        self.started: dict[str, float] = {}
        self.durations: dict[str, float] = {}
        self._partial = ""

    def write(self, text: str) -> int:
        self.out.write(text)
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            plain = _ANSI.sub("", line)
            executing = _EXECUTING.search(plain)
            if executing:
                self.started[executing.group(1)] = time.monotonic()
            match = _FINISHED.search(plain)
            if match and match.group(1) in self.started:
                self.durations[match.group(1)] = round(time.monotonic() - self.started[match.group(1)], 3)
            if match:
                name, state = match.groups()
                if name not in self.states:
                    self.order.append(name)
                self.states[name] = state
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def _task_outputs(task_dir: Path) -> tuple[dict[str, str], dict[str, float]]:
    artifacts: dict[str, str] = {}
    metrics: dict[str, float] = {}
    output_file = task_dir / "executor_output.json"
    if not output_file.is_file():
        return artifacts, metrics
    data = json.loads(output_file.read_text())
    for key, value in data.get("artifacts", {}).items():
        for artifact in value.get("artifacts", []):
            artifacts[key] = artifact.get("uri", "")
            for mk, mv in (artifact.get("metadata") or {}).items():
                if isinstance(mv, int | float) and not isinstance(mv, bool):
                    metrics[mk] = float(mv)
    return artifacts, metrics


def _install_warm_tasks(spec_path: str) -> None:
    import yaml

    if not warm_tasks.available():
        print("[mlharness] os.fork is not available here: tasks run as fresh processes")
        return
    started = time.monotonic()
    spec = yaml.safe_load(Path(spec_path).read_text())
    modules = list(dict.fromkeys(m for source in warm_tasks.component_sources(spec) for m in warm_tasks.imported_modules(source)))
    failed = warm_tasks.install(modules)
    print(f"[mlharness] preloaded {len(modules) - len(failed)} module(s) the components import in {time.monotonic() - started:.1f}s; tasks run as forks of this process")
    for name, why in failed.items():
        print(f"[mlharness] not preloaded: {name} ({why}); the task that imports it will")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.pipelines.local_exec")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--spec", help="the pipeline spec to run")
    source.add_argument("--handoff", help='wait for this JSON file: {"spec": PATH, "arguments": {...}}')
    parser.add_argument("--handoff-wait", type=float, default=900.0, help="seconds to wait for --handoff")
    parser.add_argument("--preload", default="", help="comma-separated modules to import while waiting (with --fork)")
    parser.add_argument("--pipeline-root", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--use-venv", action="store_true")
    parser.add_argument("--fork", action="store_true", help="run tasks as forks of this (pre-warmed) process")
    parser.add_argument("--arguments", default="{}", help="pipeline arguments as JSON")
    args = parser.parse_args(argv)

    die_with_parent()

    from kfp import components, local

    if args.fork and not args.use_venv:
        # while the harness still compiles: kfp's executor and what the pipeline's source imports
        warm_tasks.preload([*warm_tasks.EXECUTOR_MODULES, *filter(None, args.preload.split(","))])
    if args.handoff:
        handoff = json.loads(wait_for_handoff(args.handoff, args.handoff_wait, "pipeline"))
        args.spec, args.arguments = handoff["spec"], json.dumps(handoff.get("arguments", {}))
    warnings.simplefilter("ignore")
    if args.fork and not args.use_venv:
        _install_warm_tasks(args.spec)
    root = Path(args.pipeline_root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    local.init(
        runner=local.SubprocessRunner(use_venv=args.use_venv),
        pipeline_root=str(root),
        workspace_root=str(root / ".workspace"),
        raise_on_error=False,
    )
    handler = _StatusTee(sys.stdout)
    sys.stdout = handler
    started = time.monotonic()
    status, message = "succeeded", ""
    try:
        pipeline = components.load_component_from_file(args.spec)
        pipeline(**json.loads(args.arguments))
    except Exception as exc:  # noqa: BLE001 - reported in the result file, not as a traceback
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    if any(s != "SUCCESS" for s in handler.states.values()):
        status = "failed"
        failed = [n for n, s in handler.states.items() if s != "SUCCESS"]
        message = message or f"task(s) failed: {', '.join(failed)}"
    runs = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime)
    run_dir = runs[-1] if runs else root
    tasks: dict[str, Any] = {}
    for name in handler.order:
        artifacts, metrics = _task_outputs(run_dir / name)
        tasks[name] = {
            "state": "succeeded" if handler.states[name] == "SUCCESS" else "failed",
            "duration_s": handler.durations.get(name),
            "artifacts": artifacts,
            "metrics": metrics,
        }
    if not handler.states and status == "succeeded":
        status, message = "failed", "kfp.local ran no task"
    result = {
        "status": status,
        "message": message,
        "run_dir": str(run_dir),
        "tasks": tasks,
        "duration_s": round(time.monotonic() - started, 3),
    }
    sys.stdout = handler.out
    Path(args.result).write_text(json.dumps(result, indent=2))
    return 0 if status == "succeeded" else 1


if __name__ == "__main__":
    from harness.procs import fast_exit

    fast_exit(main())  # the result is written: skip ~1 s of interpreter teardown
