"""``mlharness run``: the main job, a full validation on the selected target."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from harness import figures
from harness.cli.common import add_settings, config_from_args, console, line
from harness.record import RunRecord
from harness.redact import redact
from harness.results import CheckResult, CheckStatus
from harness.run.runner import run_validation

NAME = "run"
HELP = "Validate end to end: pipeline, deployment, predictions, robustness, load and SLO gates."
STYLES = {
    CheckStatus.PASSED: "green",
    CheckStatus.FAILED: "bold red",
    CheckStatus.ERROR: "bold red",
    CheckStatus.WARNED: "yellow",
    CheckStatus.SKIPPED: "dim",
}


def print_check(result: CheckResult) -> None:
    """One console line per finished check, as ``mlharness run`` and ``mlharness capacity`` print it."""
    status = (f"{result.status.value:>7}", STYLES[result.status])
    console.print(line("  ", status, f" {result.name:<22} {result.message}"), soft_wrap=True)


def register(parser: argparse.ArgumentParser) -> None:
    add_settings(parser, ("core", "local", "load", "slo", "robustness", "endpoint", "cluster", "model", "capacity", "resources"))


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    console.print(line(("mlharness run", "bold"), " target=", (cfg.core.target, "cyan")))

    with console.status("starting", spinner="dots") as spinner:

        def progress(message: str) -> None:
            spinner.update(Text(message))

        outcome = run_validation(cfg, progress=progress, on_check=print_check)
    record = outcome.record
    console.print(summary_table(record))
    phases = ", ".join(f"{name} {figures.duration(seconds)}" for name, seconds in record.phases.items())
    console.print(Text(f"time: {figures.duration(record.duration_s)} ({phases})"))
    if record.error:
        console.print(line(("error:", "bold red"), " ", record.error), soft_wrap=True)
    console.print(Text(f"report: {outcome.report_dir / 'report.json'}"), soft_wrap=True)
    return outcome.exit_code


def summary_table(record: RunRecord) -> Table:
    """The final table: every check with its status, duration and message."""
    table = Table(title=Text(f"mlharness {record.status.value.upper()} on {record.target}"), show_lines=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("message", overflow="fold")
    for check in record.checks:
        table.add_row(Text(check.name), Text(check.status.value, style=STYLES[check.status]), figures.duration(check.duration_s), Text(redact(check.message)))
    return table
