"""``mlharness``: the command line. Every sub-command calls the same library as the suites.

The exit codes are :class:`harness.errors.ExitCode`; ``--help`` lists them from there.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from harness import __version__, procs
from harness.errors import (
    ConfigError,
    ExitCode,
    HarnessError,
    InfrastructureError,
    exit_codes_line,
)
from harness.procs.origin import shadow_problem
from harness.reports.writer import path_error

# sub-command modules under harness.cli, in the order --help lists them
COMMANDS = ("run", "capacity", "diff", "serve", "compile", "report", "up", "down", "compare")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlharness",
        description="Validate an ML deployment on Kubeflow: pipeline, deployment, predictions, load.",
        epilog=exit_codes_line(),
    )
    parser.add_argument("--version", action="version", version=f"mlharness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"harness.cli.{name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.register(command)
        command.set_defaults(_main=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    shadow = shadow_problem()  # before any child imports the wrong `harness` minutes into the run
    if shadow:
        print(f"mlharness: error: {shadow}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        with procs.reaping(), procs.interrupts_as_keyboard_interrupt():
            code: int = args._main(args)
            return code
    except OSError as exc:  # a file the command reads or writes: one line, not a traceback
        error = path_error(Path(exc.filename), exc, key=str(exc.filename)) if exc.filename else InfrastructureError(str(exc))
        code = error.exit_code
        print(f"mlharness: error: {error}" if code == ExitCode.USAGE else f"mlharness: {type(error).__name__}: {error}", file=sys.stderr)
        return code
    except ConfigError as exc:
        print(f"mlharness: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except HarnessError as exc:
        print(f"mlharness: {type(exc).__name__}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mlharness: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


def entry() -> NoReturn:
    """The ``mlharness`` console script: :func:`main`, then exit without the interpreter's teardown.

    Every child is stopped and every file closed when :func:`main` returns; the teardown of
    kfp, scikit-learn and pandas would add about a second to every command here.
    """
    # hypothesis keeps its caches in ./.hypothesis by default: not in the user's working tree
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlharness" / "hypothesis"
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache))
    procs.fast_exit(main())


if __name__ == "__main__":
    entry()
