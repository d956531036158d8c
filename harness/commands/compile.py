"""``mlharness compile``: compile a pipeline to KFP IR YAML and lint it."""

from __future__ import annotations

import argparse
from importlib import metadata
from pathlib import Path

from harness.commands.common import console
from harness.errors import EXIT_FAILED, EXIT_PASSED
from harness.pipelines.compile import PipelineCompileError, compile_pipeline
from harness.pipelines.lint import Finding, Severity, has_errors, lint_spec

NAME = "compile"
HELP = "Compile a pipeline (FILE.py[:FUNC] or a compiled YAML; default the built-in iris) and lint it."
COLORS = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", default=None, help="FILE.py:FUNC, FILE.py or FILE.yaml. Default: the built-in iris pipeline.")
    parser.add_argument("-o", "--output-dir", default=".", help="Where pipeline.yaml is written. Default: %(default)s")
    parser.add_argument("--strict", action="store_true", help="Fail on warnings too.")


def _print(findings: list[Finding]) -> None:
    for f in findings:
        console.print(f"  [{COLORS[f.severity]}]{f.severity.value:>7}[/] {f.location}: {f.message} [dim]\\[{f.rule}][/]", soft_wrap=True)


def main(args: argparse.Namespace) -> int:
    try:
        compiled = compile_pipeline(args.source, Path(args.output_dir))
    except PipelineCompileError as exc:
        console.print(f"[bold red]does not compile:[/] {exc}")
        _print(list(exc.findings))
        if exc.findings:
            console.print("fix the errors above and compile again")
        return EXIT_FAILED
    findings = list(compiled.findings) + lint_spec(compiled.spec, metadata.version("kfp"))
    console.print(f"compiled [cyan]{compiled.name}[/] -> {compiled.path}")
    _print(findings)
    failed = has_errors(findings) or (args.strict and any(f.severity is Severity.WARNING for f in findings))
    console.print("[bold red]lint failed[/]" if failed else "[green]lint passed[/]")
    return EXIT_FAILED if failed else EXIT_PASSED
