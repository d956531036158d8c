"""``mlharness compile``: compile a pipeline to KFP IR YAML and lint it."""

from __future__ import annotations

import argparse
import errno
import os
from importlib import metadata
from pathlib import Path

from harness.cli.common import console, line
from harness.errors import EXIT_FAILED, EXIT_PASSED, require_extra
from harness.pipelines.compile import PipelineCompileError, compile_pipeline
from harness.pipelines.lint import Finding, Severity, has_errors, lint_spec
from harness.reports.writer import path_error

NAME = "compile"
HELP = "Compile a pipeline (FILE.py[:FUNC] or a compiled YAML; default the built-in iris) and lint it."
COLORS = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", default=None, help="FILE.py:FUNC, FILE.py or FILE.yaml. Default: the built-in iris pipeline.")
    parser.add_argument("-o", "--output-dir", default=".", help="Where pipeline.yaml is written. Default: %(default)s")
    parser.add_argument("--strict", action="store_true", help="Fail on warnings too.")


def _print(findings: list[Finding]) -> None:
    for f in findings:
        console.print(line("  ", (f"{f.severity.value:>7}", COLORS[f.severity]), f" {f.location}: {f.message} ", (f"[{f.rule}]", "dim")), soft_wrap=True)


def _output_dir(path: str) -> Path:
    """``-o``: a directory the harness can write into (exit 2 naming it, before compiling)."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not out.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(out))
        if not os.access(out, os.W_OK):
            code = errno.EROFS if os.statvfs(out).f_flag & os.ST_RDONLY else errno.EACCES
            raise OSError(code, os.strerror(code), str(out))
    except OSError as exc:
        raise path_error(out, exc, key="--output-dir") from None
    return out


def main(args: argparse.Namespace) -> int:
    require_extra("local", "mlharness compile")
    out = _output_dir(args.output_dir)
    try:
        compiled = compile_pipeline(args.source, out)
    except PipelineCompileError as exc:
        console.print(line(("does not compile:", "bold red"), " ", str(exc)), soft_wrap=True)
        _print(list(exc.findings))
        if exc.findings:
            console.print("fix the errors above and compile again")
        return EXIT_FAILED
    findings = list(compiled.findings) + lint_spec(compiled.spec, metadata.version("kfp"))
    console.print(line("compiled ", (compiled.name, "cyan"), f" -> {compiled.path}"), soft_wrap=True)
    _print(findings)
    failed = has_errors(findings) or (args.strict and any(f.severity is Severity.WARNING for f in findings))
    console.print("[bold red]lint failed[/]" if failed else "[green]lint passed[/]")
    return EXIT_FAILED if failed else EXIT_PASSED
