"""Compile a pipeline to KFP's IR YAML: from a Python file, a function or a compiled package.

A Python pipeline is imported and compiled in a child process, so that its module-level code
cannot end or fake the harness's run. A pipeline written for KFP 1.8 (``kfp.v2.dsl``, ``PipelineExecutionMode.V2_COMPATIBLE``)
does not import under KFP 2. Such a file is linted from its source first, so the user
gets findings that say what to change instead of a traceback.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from harness import procs
from harness.errors import ConfigError, PipelineError
from harness.pipelines.lint import Finding, Severity, lint_source
from harness.pipelines.warm_tasks import component_sources, imported_modules

BUILTIN = "builtin:iris"
COMPILE_TIMEOUT = 120.0
OUTPUT_TAIL = 2000  # characters of the child's output quoted in a failure


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


def precheck_source(source: str | None) -> None:
    """What can be known of a pipeline source without running it, before any work: the file
    exists; a Python file parses and binds the named function at its top level (a ``def``, an
    import or an assignment); a compiled package is a YAML mapping.

    Raises:
        ConfigError: one line naming the file and what is wrong (exit 2).
    """
    file, func = split_source(source)
    if file is None:
        return
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"pipeline file {str(file)!r} cannot be read: {exc}", "pipeline") from None
    if file.suffix in (".yaml", ".yml"):
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"pipeline package {str(file)!r} is not valid YAML: {' '.join(str(exc).split())[:200]}", "pipeline") from None
        if not isinstance(spec, dict):
            raise ConfigError(f"pipeline package {str(file)!r} is not a compiled KFP pipeline (not a YAML mapping)", "pipeline")
        return
    try:
        tree = ast.parse(text, filename=str(file))
    except SyntaxError as exc:
        raise ConfigError(f"pipeline file {str(file)!r} does not parse: line {exc.lineno}: {exc.msg}", "pipeline") from None
    if func is None:
        return
    bound = _top_level_names(tree.body)
    if func not in bound and "*" not in bound:
        functions = sorted(n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
        raise ConfigError(f"pipeline file {str(file)!r} has no function {func!r} at its top level"
                          f"{' (its functions: ' + ', '.join(functions) + ')' if functions else ''}", "pipeline")


def _top_level_names(body: list[ast.stmt]) -> set[str]:
    """The names statements bind at a module's top level, inside ``if``/``try``/``with``/loops too
    (``*`` for a star import: anything)."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", []),
                          *(handler.body for handler in getattr(node, "handlers", []))):
                names |= _top_level_names(block)
    return names


def source_imports(source: str | None) -> list[str]:
    """The modules a pipeline's source imports, read without importing or compiling it.

    For a Python file (or the built-in pipeline): the imports inside its functions, where
    lightweight components import what they use; for a compiled package: the imports of its
    components' sources. A pipeline runner can load these while the pipeline still compiles.
    Empty when it cannot tell.
    """
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


def compile_pipeline(source: str | None, out_dir: Path, timeout: float = COMPILE_TIMEOUT) -> CompiledPipeline:
    """Compile ``source`` into ``out_dir/pipeline.yaml``.

    A Python source (and the built-in pipeline) is imported and compiled in a child process
    (:mod:`harness.pipelines.compile_exec`): whatever its module-level code does, from
    ``sys.exit(0)`` to ``os._exit`` or an ``argparse`` call, ends that child only, and comes
    back as a failed compile that says what happened.

    Args:
        source: ``FILE.py:FUNC``, ``FILE.py`` (its one ``@dsl.pipeline``), a compiled
            ``.yaml`` package, or ``None`` for the built-in iris pipeline.
        out_dir: where the package is written.
        timeout: seconds the import and compile may take (module-level code may hang).

    Raises:
        PipelineCompileError: the source cannot be imported or compiled; ``findings`` says why.
        ConfigError: the file does not exist or names no pipeline.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "pipeline.yaml"
    file, func_name = split_source(source)
    if file is None:
        return _compile_in_child(None, None, target, BUILTIN, (), timeout)
    if file.suffix in (".yaml", ".yml"):
        return _load_package(file, target)
    findings = tuple(lint_source(file.read_text(errors="replace"), str(file)))
    return _compile_in_child(file, func_name, target, str(source), findings, timeout)


class PipelineCompileError(PipelineError):
    """Compiling failed; ``findings`` holds what the source lint found (the likely causes)."""

    def __init__(self, message: str, findings: tuple[Finding, ...]) -> None:
        self.findings = findings
        super().__init__(message)


def _compile_in_child(
    file: Path | None, func_name: str | None, target: Path, label: str, findings: tuple[Finding, ...], timeout: float
) -> CompiledPipeline:
    """Import and compile in :mod:`harness.pipelines.compile_exec`; its verdict, or what ended it."""
    with tempfile.TemporaryDirectory(prefix="mlharness-compile-") as tmp:
        work = Path(tmp)
        result_path, log_path = work / "result.json", work / "output.log"
        argv = [sys.executable, "-m", "harness.pipelines.compile_exec", "--label", label, "--out", str(target.resolve()), "--result", str(result_path)]
        if file is not None:
            argv += ["--file", str(file.resolve())]
        if func_name:
            argv += ["--func", func_name]
        target.unlink(missing_ok=True)  # a package left by an earlier compile must not pass for this one
        # the harness's own working directory (``python -m`` finds an uninstalled checkout there);
        # the child moves into a temporary one of its own before it imports the file
        proc = procs.spawn(argv, log_path=log_path, env={"PYTHONUNBUFFERED": "1"})
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PipelineCompileError(
                f"importing and compiling {label} took longer than {timeout:g}s (module-level code that waits "
                f"or loops?){_output(log_path)}",
                findings,
            ) from None
        finally:
            procs.stop(proc, grace=1.0)
        result = _read_result(result_path)
        if result is None:
            raise PipelineCompileError(f"the process importing {label} {_how(code)} before it finished{_output(log_path)}", findings)
        if result.get("status") == "config":
            raise ConfigError(str(result.get("message")), str(result.get("key") or "pipeline"))
        if result.get("status") != "ok" or not target.is_file():
            message = str(result.get("message") or f"compiling {label} wrote no package")
            raise PipelineCompileError(message + (_output(log_path) if result.get("with_output") else ""), findings)
    return CompiledPipeline(target, str(result.get("name") or "pipeline"), label, findings)


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _output(log_path: Path, limit: int = OUTPUT_TAIL) -> str:
    """``; its output: ...``: the tail of what the child printed (the module's own words)."""
    try:
        with log_path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - limit))
            text = log.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return ""
    if not text:
        return ""
    return f"; its output{' (last part)' if size > limit else ''}: {text}"


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
