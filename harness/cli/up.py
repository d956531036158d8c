"""``mlharness up``: create (or reuse) a kind/minikube cluster and make Kubeflow servable on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.text import Text

from harness.cli.common import add_settings, config_from_args, console, line
from harness.errors import EXIT_PASSED, ConfigError
from harness.targets import CREATES_CLUSTERS

NAME = "up"
HELP = "Create or reuse a kind/minikube cluster with cert-manager, KServe and KFP installed (idempotent)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=CREATES_CLUSTERS, default=None, help="Cluster to bring up. Default: kind.")
    parser.add_argument("--dry-run", action="store_true", help="Print every command and wait (with versions and timeouts); touch nothing.")
    parser.add_argument("--work-dir", default=None, help="Where commands.log and diagnostics go. Default: .mlharness/up")
    add_settings(parser, ("cluster",))


def main(args: argparse.Namespace) -> int:
    # lazy: cli.main imports every command module to build its parser; the provisioning code
    # (and yaml) loads only for `mlharness up` (measured: +0.1-0.2 s on every start otherwise)
    from harness.cluster.provision.session import ClusterSession

    cfg = config_from_args(args, target=args.target or "kind")
    if cfg.core.target not in CREATES_CLUSTERS:
        raise ConfigError("mlharness up creates kind or minikube clusters", "target")
    work = Path(args.work_dir or ".mlharness/up")
    session = ClusterSession(cfg, work, progress=lambda m: console.print(Text(f"  {m}"), soft_wrap=True))
    if args.dry_run:
        console.print(session.plan(), soft_wrap=True, markup=False, end="")
        return EXIT_PASSED
    handle = session.up()
    verb = "created" if handle.created else "reused"
    console.print(line(("ready", "green"), f": {verb} {handle.target} cluster ", (handle.name, "cyan"), " with Kubeflow"))
    console.print(Text(f"kubeconfig: {handle.kubeconfig}  (try: kubectl --kubeconfig {handle.kubeconfig} get pods -A)"), soft_wrap=True)
    return EXIT_PASSED
