"""``mlharness capacity``: the highest request rate the endpoint sustains while the SLO gates hold.

The same run as ``mlharness run`` (target, endpoint, report), walking only the checks that
bring the model up (pipeline and deploy) and the capacity checks (``slo.capacity_rps``,
``baseline.capacity_rps``): no verification, robustness or load window.
"""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from harness import figures
from harness.checks import REGISTRY, Registry
from harness.checks.builtin import register_builtins
from harness.cli.common import add_settings, config_from_args, console, line
from harness.cli.run import print_check
from harness.load.capacity import CapacityResult
from harness.run.runner import ValidationRun

NAME = "capacity"
HELP = "Find the capacity at SLO: constant-rate steps, a coarse ramp then a bisection, bounded in time."
#: the checks ``mlharness capacity`` runs: the model's way up, then the capacity gates
GROUPS = ("pipeline", "deploy")
CHECKS = ("slo.capacity_rps", "baseline.capacity_rps")
#: of those groups, the release diff's candidate is not brought up here (mlharness diff does)
NOT_HERE = ("deploy.candidate",)


def register(parser: argparse.ArgumentParser) -> None:
    add_settings(parser, ("core", "local", "slo", "endpoint", "cluster", "model", "capacity"))


def capacity_registry() -> Registry:
    """The registry's step checks and capacity checks, in run order."""
    register_builtins()
    registry = Registry()
    for check in REGISTRY.ordered():
        if (check.group in GROUPS or check.name in CHECKS) and check.name not in NOT_HERE:
            registry.add(check)
    return registry


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, capacity=True, load=False, robustness=False)
    console.print(line(("mlharness capacity", "bold"), " target=", (cfg.core.target, "cyan")))

    with console.status("starting", spinner="dots") as spinner:

        def progress(message: str) -> None:
            spinner.update(Text(message))
            if message.startswith("capacity"):
                console.print(Text("  " + message), soft_wrap=True)

        outcome = ValidationRun(cfg, progress=progress, on_check=print_check, registry=capacity_registry()).execute()
    record = outcome.record
    if record.capacity is not None:
        console.print(curve_table(record.capacity))
        console.print(line(("capacity at SLO: ", "bold"), record.capacity.message), soft_wrap=True)
    if record.error:
        console.print(line(("error:", "bold red"), " ", record.error), soft_wrap=True)
    console.print(Text(f"report: {outcome.report_dir / 'report.json'}"), soft_wrap=True)
    return outcome.exit_code


def curve_table(result: CapacityResult) -> Table:
    """The throughput-latency curve, one row per step by offered rate."""
    table = Table(title=Text("throughput-latency curve"))
    for name in ("offered", "achieved", "p50", "p95", "p99", "errors", "generator CPU", "verdict"):
        table.add_column(name, justify="left" if name == "verdict" else "right")
    for step in result.curve:
        table.add_row(
            figures.per_second_text(step.offered_rps), figures.per_second_text(step.achieved_rps), figures.ms(step.p50_ms),
            figures.ms(step.p95_ms), figures.ms(step.p99_ms), figures.percent(step.error_rate),
            figures.percent((step.generator_cpu_percent or 0) / 100) if step.generator_cpu_percent is not None else figures.DASH,
            Text("holds" if step.holds else "; ".join(step.broken_by), style="green" if step.holds else "red"),
        )
    return table
