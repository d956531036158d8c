"""Inputs read before any work: every file a run will read later is parsed and checked first.

A golden file that is not JSON, or a baseline of another schema, used to surface after the
pipeline had trained and the load had run (or never, with ``--no-load``). Here each one is
read at the start: a bad one is a :class:`~harness.errors.ConfigError` naming its key
(exit 2) before a directory is created or a process started.
"""

from __future__ import annotations

from pathlib import Path

from harness.checks import RunInputs
from harness.checks.baselines import RunIdentity, differences, signature_of, url_identity
from harness.checks.slo import read_baseline
from harness.config import HarnessConfig
from harness.contract.golden import GoldenCase, load_golden_file
from harness.contract.resolve import read_contract
from harness.contract.spec import check_row_types
from harness.errors import ConfigError
from harness.pipelines.compile import precheck_source
from harness.reports.writer import load_baseline


def check_candidate(cfg: HarnessConfig) -> None:
    """The release diff's candidate is given once, and served by the harness only on the local target.

    Raises:
        ConfigError: two candidates, or ``candidate_artifact`` / ``candidate_pipeline`` on another target.
    """
    d = cfg.diff
    given = [key for key, value in (("candidate_url", d.candidate_url), ("candidate_artifact", d.candidate_artifact),
                                    ("candidate_pipeline", d.candidate_pipeline)) if value]
    if len(given) > 1:
        flags = " and ".join("--" + key.replace("_", "-") for key in given)
        raise ConfigError(f"give the candidate once, not {flags}", given[-1])
    served = next((key for key in given if key != "candidate_url"), None)
    if served and cfg.core.target != "local":
        raise ConfigError(f"--{served.replace('_', '-')} is served by the local target only; on the {cfg.core.target} target "
                          "give the candidate's URL (--candidate-url)", served)


def read_inputs(cfg: HarnessConfig) -> RunInputs:
    """Parse ``golden_file`` and ``baseline`` (when set) and resolve the model contract
    (:func:`harness.contract.resolve.resolve_contract`, held against ``model_artifact`` if given);
    the pipeline file exists, parses and binds its function, the golden rows are as wide as the contract's features, the
    baseline is of the same model, URL and signature (unless ``baseline_allow_different``).

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
    if cfg.core.pipeline:
        precheck_source(cfg.core.pipeline)  # exists, parses, binds FUNC: before a report directory is made
    check_candidate(cfg)
    if cfg.diff.candidate_pipeline:
        try:
            precheck_source(cfg.diff.candidate_pipeline)
        except ConfigError as exc:  # the same words, under the candidate's key
            raise exc.under("candidate_pipeline") from None
    contract = read_contract(cfg)
    for case in golden:  # the golden file's rows are as wide as the model's input
        widths = sorted({len(row) for row in case.instances} - {contract.n_features})
        if widths:
            raise ConfigError(f"golden case {case.source}: rows of {widths[0]} values, the model takes {contract.n_features} features "
                              f"(contract: {contract.source})", "golden_file")
        for j, row in enumerate(case.instances):  # numbers where a feature is numeric, strings where it is text
            check_row_types(row, contract.features, f"golden case {case.source}: instance {j}", "golden_file")
    if baseline is not None:
        current = RunIdentity(cfg.core.model_name, url_identity(cfg.endpoint.url) if cfg.core.target == "endpoint" and cfg.endpoint.url else None,
                              signature_of(contract.summary().as_dict()))
        different = differences(baseline.identity, current)
        if different and not cfg.slo.allow_different:
            raise ConfigError(f"the baseline is of a different system: {'; '.join(different)}; set baseline_allow_different "
                              "(--baseline-allow-different) if that is intended", "baseline")
    return RunInputs(golden, baseline, contract)
