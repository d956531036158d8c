"""Child-process entry point that imports a pipeline file and compiles it with KFP.

Run by :func:`harness.pipelines.compile.compile_pipeline` as
``python -m harness.pipelines.compile_exec``: a pipeline file is user code, and importing it
runs its module-level code. Whatever that code does — ``sys.exit(0)``, ``os._exit``, an
``argparse`` call that parses ``sys.argv``, ``input()``, a ``signal`` handler — happens in
this process, which the harness times out and kills, and never ends or fakes the harness's
own run. Here ``sys.argv`` is just the file's path and stdin is empty.

Writes a result JSON: ``{"status": "ok", "name": ...}``, ``{"status": "error", "message":
..., "with_output": bool}`` or ``{"status": "config", "key": ..., "message": ...}`` (the file names no pipeline).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from harness import procs
from harness.errors import ConfigError, PipelineError

BUILTIN = "builtin:iris"


class ExitAttempt(BaseException):
    """Raised in place of ``os._exit`` while user code runs, so the attempt can be reported."""

    def __init__(self, code: object) -> None:
        self.code = code
        super().__init__(f"os._exit({code!r})")


@contextlib.contextmanager
def _os_exit_reported() -> Iterator[None]:
    """Turn ``os._exit(n)`` in user code into :class:`ExitAttempt` (the process then reports it)."""
    real = os._exit

    def attempt(code: object) -> NoReturn:
        raise ExitAttempt(code)

    os._exit = attempt  # type: ignore[assignment]
    try:
        yield
    finally:
        os._exit = real


def import_pipeline(file: Path, func_name: str | None) -> Callable[..., Any]:
    """Import ``file`` as a fresh module and return the pipeline function in it.

    Module-level code runs (notebooks exported as scripts often compile at import); it runs
    in a temporary working directory so it writes nothing beside the user's file.

    Raises:
        PipelineError: the import raised an exception.
        ConfigError: the file has no function ``func_name``, or not exactly one pipeline.
    """
    module_name = f"_mlharness_pipeline_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise PipelineError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(file.parent))
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    except Exception as exc:
        raise PipelineError(f"importing {file} failed: {type(exc).__name__}: {exc}") from exc
    if func_name:
        func = getattr(module, func_name, None)
        if func is None:
            raise ConfigError(f"{file} has no function {func_name!r}", "pipeline")
        return func
    from kfp.dsl.graph_component import GraphComponent

    pipelines = [v for v in vars(module).values() if isinstance(v, GraphComponent)]
    if len(pipelines) != 1:
        raise ConfigError(
            f"{file} defines {len(pipelines)} @dsl.pipeline functions; name one as FILE.py:FUNC",
            "pipeline",
        )
    return pipelines[0]


def compile_func(func: Callable[..., Any], target: Path, source: str) -> str:
    """Compile ``func`` into ``target``; the pipeline's name."""
    import yaml
    from kfp import compiler

    try:
        compiler.Compiler().compile(pipeline_func=func, package_path=str(target))
    except Exception as exc:
        raise PipelineError(f"kfp could not compile {source}: {type(exc).__name__}: {exc}") from exc
    spec = yaml.safe_load(target.read_text())
    return str(spec.get("pipelineInfo", {}).get("name", getattr(func, "__name__", "pipeline")))


def _exited(what: str, code: object) -> str:
    hint = " (a module-level argparse? It parses the command line it is given)" if code == 2 else ""
    return (
        f"{what}({code!r}){hint}: a pipeline file must only define the pipeline; "
        "guard a script's own code with `if __name__ == '__main__':`"
    )


def compile_source(file: Path | None, func_name: str | None, target: Path, label: str) -> dict[str, Any]:
    """Import and compile; the result to hand back (never raises, whatever the user code does)."""
    stage = "importing"
    try:
        with _os_exit_reported():
            if file is None:
                from harness.pipelines.iris import iris_pipeline  # lazy: it imports kfp.dsl

                func: Callable[..., Any] = iris_pipeline
            else:
                func = import_pipeline(file, func_name)
            stage = "compiling"
            name = compile_func(func, target, label)
    except ConfigError as exc:
        return {"status": "config", "key": exc.key, "message": exc.detail}
    except PipelineError as exc:
        return {"status": "error", "message": str(exc)}
    except SystemExit as exc:  # its output (argparse's usage line, say) goes with the message
        return {"status": "error", "message": _exited(f"{stage} {label} called sys.exit", exc.code), "with_output": True}
    except ExitAttempt as exc:
        return {"status": "error", "message": _exited(f"{stage} {label} called os._exit", exc.code), "with_output": True}
    except KeyboardInterrupt:
        return {"status": "error", "message": f"{stage} {label} raised KeyboardInterrupt"}
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything; the harness reports it
        return {"status": "error", "message": f"{stage} {label} failed: {type(exc).__name__}: {exc}"}
    return {"status": "ok", "name": name}


def main(argv: list[str] | None = None) -> None:
    procs.die_with_parent()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", help="The pipeline file (absent: the built-in iris pipeline).")
    parser.add_argument("--func", default=None)
    parser.add_argument("--label", required=True, help="How the source is named in messages.")
    parser.add_argument("--out", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args(argv)
    file = Path(args.file) if args.file else None
    # what the user's module sees: its own path as argv, no terminal to read from
    sys.argv = [str(file or BUILTIN)]
    sys.stdin = open(os.devnull)
    result = compile_source(file, args.func, Path(args.out), args.label)
    tmp = Path(args.result).with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(args.result)
    procs.fast_exit(0)


if __name__ == "__main__":
    main()
