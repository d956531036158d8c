"""Compile a pipeline to KFP's IR YAML: from a Python file, a function or a compiled package.

A pipeline written for KFP 1.8 (``kfp.v2.dsl``, ``PipelineExecutionMode.V2_COMPATIBLE``)
does not import under KFP 2. Such a file is linted from its source first, so the user
gets findings that say what to change instead of a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import os
import sys
import tempfile
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError, PipelineError
from harness.pipelines.lint import Finding, Severity, lint_source

BUILTIN = "builtin:iris"


@dataclasses.dataclass(frozen=True)
class CompiledPipeline:
    """A compiled pipeline package on disk and what was found on the way."""

    path: Path
    name: str
    source: str
    findings: tuple[Finding, ...] = ()

    @property
    def spec(self) -> dict[str, Any]:
        data = yaml.safe_load(self.path.read_text())
        assert isinstance(data, dict)
        return data


def split_source(source: str | None) -> tuple[Path | None, str | None]:
    """``FILE.py:FUNC`` -> (file, func); ``FILE.yaml`` -> (file, None); None -> built-in."""
    if source in (None, "", BUILTIN):
        return None, None
    assert source is not None
    path, sep, func = source.rpartition(":")
    if not sep or not path or "/" in func or func.endswith((".py", ".yaml", ".yml")):
        path, func = source, ""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"pipeline file {str(file)!r} does not exist", "pipeline")
    return file, (func or None)


def source_imports(source: str | None) -> list[str]:
    """The modules a pipeline's source imports, read without importing or compiling it.

    For a Python file (or the built-in pipeline): the imports inside its functions, where
    lightweight components import what they use; for a compiled package: the imports of its
    components' sources. A pipeline runner can load these while the pipeline still compiles.
    Empty when it cannot tell.
    """
    from harness.pipelines.warm_tasks import component_sources, imported_modules

    try:
        file, _ = split_source(source)
        if file is None:
            file = Path(__file__).with_name("iris.py")
        text = file.read_text()
        if file.suffix in (".yaml", ".yml"):
            spec = yaml.safe_load(text)
            return list(dict.fromkeys(m for src in component_sources(spec) for m in imported_modules(src)))
        return imported_modules(text, in_functions_only=True)
    except (OSError, ValueError, yaml.YAMLError, ConfigError, AttributeError):
        return []


def compile_pipeline(source: str | None, out_dir: Path) -> CompiledPipeline:
    """Compile ``source`` into ``out_dir/pipeline.yaml``.

    Args:
        source: ``FILE.py:FUNC``, ``FILE.py`` (its one ``@dsl.pipeline``), a compiled
            ``.yaml`` package, or ``None`` for the built-in iris pipeline.
        out_dir: where the package is written.

    Raises:
        PipelineError: the source cannot be imported or compiled; ``findings`` says why.
        ConfigError: the file does not exist or names no pipeline.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "pipeline.yaml"
    file, func_name = split_source(source)
    if file is None:
        from harness.pipelines.iris import iris_pipeline

        return _compile_func(iris_pipeline, target, BUILTIN, ())
    if file.suffix in (".yaml", ".yml"):
        return _load_package(file, target)
    findings = tuple(lint_source(file.read_text(), str(file)))
    try:
        func = _import_pipeline(file, func_name)
    except PipelineError as exc:
        raise PipelineCompileError(str(exc), findings) from exc
    return _compile_func(func, target, str(source), findings)


class PipelineCompileError(PipelineError):
    """Compiling failed; ``findings`` holds what the source lint found (the likely causes)."""

    def __init__(self, message: str, findings: tuple[Finding, ...]) -> None:
        self.findings = findings
        super().__init__(message)


def _compile_func(
    func: Callable[..., Any], target: Path, source: str, findings: tuple[Finding, ...]
) -> CompiledPipeline:
    from kfp import compiler

    try:
        compiler.Compiler().compile(pipeline_func=func, package_path=str(target))
    except Exception as exc:
        raise PipelineCompileError(f"kfp could not compile {source}: {exc}", findings) from exc
    spec = yaml.safe_load(target.read_text())
    name = spec.get("pipelineInfo", {}).get("name", getattr(func, "__name__", "pipeline"))
    return CompiledPipeline(target, name, source, findings)


def _load_package(file: Path, target: Path) -> CompiledPipeline:
    text = file.read_text()
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PipelineCompileError(f"{file} is not valid YAML: {exc}", ()) from None
    if not isinstance(spec, dict):
        raise PipelineCompileError(f"{file} is not a pipeline package (not a mapping)", ())
    if spec.get("kind") == "Workflow" or "apiVersion" in spec:
        finding = Finding(
            "kfp-v1-package",
            Severity.ERROR,
            "this is a KFP v1 (Argo Workflow) package; recompile the pipeline with kfp 2.x",
            str(file),
        )
        raise PipelineCompileError(f"{file} was compiled for KFP v1", (finding,))
    if "pipelineInfo" not in spec or "deploymentSpec" not in spec:
        raise PipelineCompileError(f"{file} has no pipelineInfo/deploymentSpec: not a KFP v2 package", ())
    if file.resolve() != target.resolve():
        target.write_text(text)
    return CompiledPipeline(target, spec["pipelineInfo"].get("name", file.stem), str(file))


def _import_pipeline(file: Path, func_name: str | None) -> Callable[..., Any]:
    """Import ``file`` as a fresh module and return the pipeline function in it.

    Module-level code runs (notebooks exported as scripts often compile at import); it runs
    in a temporary working directory so it writes nothing beside the user's file.
    """
    module_name = f"_mlharness_pipeline_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise PipelineError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    cwd = os.getcwd()
    sys.path.insert(0, str(file.parent.resolve()))
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            contextlib.redirect_stdout(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            os.chdir(tmp)
            spec.loader.exec_module(module)
    except Exception as exc:
        raise PipelineError(f"importing {file} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        os.chdir(cwd)
        sys.path.remove(str(file.parent.resolve()))
        sys.modules.pop(module_name, None)
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
