"""``mlharness compare``: the load figures of two runs side by side; exit 1 on a regression."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table
from rich.text import Text

from harness import figures
from harness.checks.baselines import differences
from harness.checks.slo import BaselineRun, compare_baseline, read_baseline
from harness.cli.common import console, line
from harness.config import parse_percent
from harness.errors import EXIT_FAILED, EXIT_PASSED, ConfigError
from harness.reports.writer import load_baseline

NAME = "compare"
HELP = "Compare the load figures of two reports (BASELINE then CURRENT); exit 1 on a regression."


def _tolerance(value: str) -> float:
    try:
        return parse_percent(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", help="report.json (or its run directory) of the earlier run.")
    parser.add_argument("current", help="report.json (or its run directory) of the run to judge.")
    parser.add_argument("--allow-different", action="store_true",
                        help="Compare even when the two reports are of different models, URLs or model signatures (refused otherwise).")
    parser.add_argument("--tolerance", type=_tolerance, default=0.2, help="Allowed regression of p95, p99 and error rate (20%%, 0.2). Default: 20%%")


def _read(path: str, role: str) -> BaselineRun:
    """The load figures of the report at ``path`` (a malformed one is one line, exit 2, naming ``role``)."""
    try:
        return read_baseline(load_baseline(path), baseline=role == "baseline")
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}" if path not in str(exc) else str(exc), role) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", role) from None


def main(args: argparse.Namespace) -> int:
    baseline = _read(args.baseline, "baseline")
    current = _read(args.current, "current")
    different = differences(baseline.identity, current.identity)
    if different and not args.allow_different:
        raise ConfigError(f"the two reports are of different systems: {'; '.join(different)}; "
                          "give --allow-different if that is intended", "current")
    comparison, checks = compare_baseline(current.load, baseline, args.tolerance)
    allowed = figures.change(args.tolerance)
    table = Table(title=Text(f"load: {Path(args.current)} vs baseline {Path(args.baseline)}"))
    table.add_column("metric")
    table.add_column("baseline", justify="right")
    table.add_column("current", justify="right")
    table.add_column("change", justify="right")
    table.add_column("gate")
    for row in comparison.metrics:
        if not row.gated:
            gate = Text("info", style="dim")
        elif row.regressed:
            gate = Text("REGRESSED", style="bold red")
        else:
            gate = line(("ok", "green"), f" (≤ {allowed})")
        table.add_row(row.name, figures.with_unit(row.baseline, row.unit), figures.with_unit(row.current, row.unit), figures.change(row.change), gate)
    console.print(table)
    for check in checks:
        style = "bold red" if check.failed else ("dim" if check.status.value == "skipped" else "green")
        console.print(line("  ", (f"{check.status.value:>7}", style), f" {check.name:<20} {check.message}"), soft_wrap=True)
    if comparison.regressed:
        console.print(line(("regression:", "bold red"), " ", ", ".join(comparison.regressed)))
        return EXIT_FAILED
    console.print("[green]no regression[/]")
    return EXIT_PASSED
