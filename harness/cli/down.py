"""``mlharness down``: delete the kind/minikube cluster that ``mlharness up`` created."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.text import Text

from harness.cli.common import add_settings, config_from_args, console, line
from harness.errors import EXIT_PASSED, ConfigError
from harness.targets import CREATES_CLUSTERS

NAME = "down"
HELP = "Delete the kind/minikube cluster mlharness created (never one it did not create, unless --force)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=CREATES_CLUSTERS, default=None, help="Cluster to delete. Default: kind.")
    parser.add_argument("--force", action="store_true", help="Delete the named cluster even without mlharness's marker.")
    parser.add_argument("--dry-run", action="store_true", help="Print the delete commands; touch nothing.")
    add_settings(parser, ("cluster",))


def main(args: argparse.Namespace) -> int:
    # lazy: cli.main imports every command module to build its parser; the provisioning code
    # (and yaml) loads only for `mlharness down` (measured: +0.1-0.2 s on every start otherwise)
    from harness.cluster.provision.session import ClusterSession
    from harness.cluster.provision.steps import format_plan

    cfg = config_from_args(args, target=args.target or "kind")
    if cfg.core.target not in CREATES_CLUSTERS:
        raise ConfigError("mlharness down deletes kind or minikube clusters", "target")
    session = ClusterSession(cfg, Path(".mlharness/up"))
    if args.dry_run:
        console.print(format_plan([("delete", session.provider.delete_steps())]), markup=False, soft_wrap=True, end="")
        return EXIT_PASSED
    if session.down(force=args.force):
        console.print(line(f"deleted {cfg.core.target} cluster ", (cfg.cluster.name, "cyan")))
    else:
        console.print(Text(f"no {cfg.core.target} cluster named {cfg.cluster.name}: nothing to delete"))
    return EXIT_PASSED
