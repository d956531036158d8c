"""``mlharness report``: re-render ``report.html``, ``summary.md`` and ``junit.xml`` from a ``report.json``.

``report.json`` is the truth; the other files can be re-created at any time, for example
after upgrading mlharness or from a report copied off a CI runner. Reports of schema 1 and 2
are read (into a :class:`~harness.record.RunRecord`); the file itself is never rewritten.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.cli.common import console, err_console
from harness.errors import EXIT_PASSED, EXIT_USAGE
from harness.reports.writer import REPORT_FILE, path_error

NAME = "report"
HELP = "Re-render report.html, summary.md and junit.xml from a run's report.json."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help=f"A run directory holding {REPORT_FILE} (or the path of a {REPORT_FILE}).")


def _usage(message: str) -> int:
    err_console.print(f"mlharness report: error: {message}", markup=False, soft_wrap=True)
    return EXIT_USAGE


def main(args: argparse.Namespace) -> int:
    # lazy: cli.main imports every command module to build its parser; jinja2 and the report
    # views load only for `mlharness report` (measured: +0.1-0.2 s on every start otherwise)
    from harness.reports.render import render_all

    run_dir = Path(args.run_dir)
    if run_dir.name == REPORT_FILE and run_dir.is_file():
        run_dir = run_dir.parent
    report = run_dir / REPORT_FILE
    try:
        files = render_all(run_dir)
    except FileNotFoundError:
        return _usage(f"no {REPORT_FILE} in {run_dir} (pass the directory a run wrote)")
    except json.JSONDecodeError as exc:
        return _usage(f"{report} is not valid JSON: {exc}")
    except (ValueError, TypeError) as exc:  # RunRecord.from_dict: not a report, or a schema not read here
        return _usage(f"{report} is not a valid mlharness report: {exc}")
    except OSError as exc:  # unreadable, or the views cannot be written (read-only, a full disk)
        raise path_error(run_dir, exc, key="RUN_DIR") from None
    for path in files:
        console.print(str(path), markup=False, soft_wrap=True)
    return EXIT_PASSED
