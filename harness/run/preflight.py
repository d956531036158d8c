"""Inputs read before any work: every file a run will read later is parsed and checked first.

A golden file that is not JSON, or a baseline of another schema, used to surface after the
pipeline had trained and the load had run (or never, with ``--no-load``). Here each one is
read at the start: a bad one is a :class:`~harness.errors.ConfigError` naming its key
(exit 2) before a directory is created or a process started.
"""

from __future__ import annotations

from pathlib import Path

from harness.checks import RunInputs
from harness.checks.slo import read_baseline
from harness.config import HarnessConfig
from harness.contract.golden import GoldenCase, load_golden_file
from harness.contract.resolve import read_contract
from harness.errors import ConfigError
from harness.reports.writer import load_baseline


def read_inputs(cfg: HarnessConfig) -> RunInputs:
    """Parse ``golden_file`` and ``baseline`` (when set) and resolve the model contract
    (:func:`harness.contract.resolve.resolve_contract`, held against ``model_artifact`` if given).

    Raises:
        ConfigError: a file cannot be read or does not hold what it should; names the key.
    """
    golden: tuple[GoldenCase, ...] = ()
    if cfg.core.golden_file:
        try:
            golden = tuple(load_golden_file(cfg.core.golden_file))
        except ConfigError:
            raise
        except (OSError, ValueError, TypeError) as exc:  # not text, rows that are not lists, ...
            raise ConfigError(f"cannot read golden cases from {cfg.core.golden_file}: {type(exc).__name__}: {exc}", "golden_file") from None
    baseline = None
    if cfg.slo.baseline:
        try:
            baseline = read_baseline(load_baseline(cfg.slo.baseline))  # report.json decoded once, here
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(str(exc) if isinstance(exc, ValueError) else f"cannot read {Path(cfg.slo.baseline)}: {exc}", "baseline") from None
    return RunInputs(golden, baseline, read_contract(cfg))
