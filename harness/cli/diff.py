"""``mlharness diff``: the release diff, the candidate judged against the live model.

The same run as ``mlharness run`` (target, endpoint, report), walking only the checks that
bring both models up (pipeline, ``deploy.ready``, ``deploy.candidate``) and the ``diff.*``
checks. Exit 0 within every change threshold, 1 on a regression, 2 (before any inference
request) when the two models' signatures contradict each other. See docs/diff.md.
"""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from harness import figures
from harness.checks import REGISTRY, Registry
from harness.checks.builtin import register_builtins
from harness.cli.common import add_settings, config_from_args, console, line
from harness.cli.run import STYLES, print_check
from harness.config import HarnessConfig
from harness.errors import EXIT_PASSED, ConfigError
from harness.record import RunRecord
from harness.run.preflight import check_candidate
from harness.run.runner import ValidationRun

NAME = "diff"
HELP = "Release diff: the candidate against the live model on the same requests (answers, quality, latency, errors)."
#: the checks ``mlharness diff`` runs: both models' way up, then the diff
GROUPS = ("pipeline", "deploy", "diff")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="Print the plan: both sides, the rows, the windows, the thresholds (and on a cluster target the "
                             "candidate's InferenceService); start nothing, send nothing.")
    add_settings(parser, ("core", "local", "endpoint", "cluster", "model", "diff"))


def diff_registry() -> Registry:
    """The registry's step checks and diff checks, in run order."""
    register_builtins()
    registry = Registry()
    for check in REGISTRY.ordered():
        if check.group in GROUPS:
            registry.add(check)
    return registry


def require_candidate(cfg: HarnessConfig) -> None:
    """One line, exit 2, when there is nothing to diff against."""
    d = cfg.diff
    if not (d.candidate_url or d.candidate_artifact or d.candidate_pipeline):
        raise ConfigError("mlharness diff needs a candidate: --candidate-url URL, or --candidate-artifact PATH or "
                          "--candidate-pipeline FILE[:FUNC] on the local target", "candidate_url")
    check_candidate(cfg)


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, load=False, robustness=False, capacity=False)
    require_candidate(cfg)
    if args.dry_run:
        console.print(Text(plan(cfg)), soft_wrap=True)
        return EXIT_PASSED
    console.print(line(("mlharness diff", "bold"), " target=", (cfg.core.target, "cyan")))
    with console.status("starting", spinner="dots") as spinner:

        def progress(message: str) -> None:
            spinner.update(Text(message))

        outcome = ValidationRun(cfg, progress=progress, on_check=print_check, registry=diff_registry()).execute()
    record = outcome.record
    if record.diff is not None:
        console.print(verdict_table(record))
    if record.error:
        console.print(line(("error:", "bold red"), " ", record.error), soft_wrap=True)
    console.print(Text(f"report: {outcome.report_dir / 'report.json'}"), soft_wrap=True)
    return outcome.exit_code


LIVE = {
    "local": "the model the pipeline trains (kfp.local), served by the local KServe server on 127.0.0.1",
    "endpoint": "the endpoint at {url}",
}


def plan(cfg: HarnessConfig) -> str:
    """What ``mlharness diff`` would do, as text; on a cluster target, the candidate's InferenceService."""
    from harness.config.urls import masked
    from harness.targets import is_cluster

    d = cfg.diff
    target = cfg.core.target
    live = LIVE.get(target, "the InferenceService {model} the pipeline's model is deployed as, in namespace {ns}").format(
        url=masked(cfg.endpoint.url or "(no --url)"), model=cfg.core.model_name, ns=cfg.cluster.namespace or "(one per run)")
    name = d.candidate_model_name or cfg.core.model_name
    if d.candidate_url:
        candidate = f"{name} at {masked(d.candidate_url)}"
    elif target == "local" and d.candidate_pipeline:
        candidate = (f"{name}: the model of {d.candidate_pipeline}, compiled and run with kfp.local apart from the live pipeline, "
                     "served by a second local KServe server on 127.0.0.1 (its own free ports)")
    elif target == "local":
        candidate = f"{name} served from {d.candidate_artifact} by a second local KServe server on 127.0.0.1 (its own free ports)"
    else:
        candidate = f"{d.candidate_artifact or d.candidate_pipeline}: not deployed by mlharness on the {target} target (give --candidate-url)"
    lines = [
        f"mlharness diff plan (target {target}): nothing is started or sent",
        f"  live:       {live}",
        f"  candidate:  {candidate}",
        "  signatures: both sides' metadata (and artifacts, where known) compared before any request; a contradiction is exit 2",
        f"  rows:       the contract's labelled rows + {d.rows} generated rows, to both sides over every protocol both speak",
        f"  latency:    {d.windows} windows x {figures.duration(d.window)} per side, interleaved live/candidate; "
        f"Mann-Whitney U (one-sided), alpha {d.alpha:g}",
        f"  thresholds: disagreement <= {figures.percent(d.max_disagreement)}, quality drop <= {d.max_quality_drop:g}, "
        f"p50/p95/p99 increase <= {figures.change(d.max_latency_increase)}, error rate rise <= {figures.percent(d.max_error_rate_increase)}",
    ]
    if is_cluster(target):
        import yaml

        from harness.cluster.kube.manifests import inference_service

        uri = d.candidate_artifact or "s3://BUCKET/PATH/TO/CANDIDATE/model"
        manifest = inference_service(f"{name}-candidate" if name == cfg.core.model_name else name,
                                     cfg.cluster.namespace or "NAMESPACE", uri, None)
        lines += [
            "  the candidate on a cluster: a second InferenceService (below; apply it, then pass its URL as --candidate-url),",
            "  or the canary revision of the live one (KServe canaryTrafficPercent) reached by its own URL.",
            "  unverified without a cluster: the canary revision's own URL, the ingress routing of a second host, latency through the ingress",
            *("    " + row for row in yaml.safe_dump(manifest, sort_keys=False).splitlines()),
        ]
    return "\n".join(lines)


def verdict_table(record: RunRecord) -> Table:
    """live, candidate, change and verdict per judged figure."""
    table = Table(title=Text("release diff: candidate vs live"))
    for name in ("check", "live", "candidate", "change", "verdict"):
        table.add_column(name, justify="left" if name in ("check", "verdict") else "right")
    diff = record.diff
    assert diff is not None
    by_name = {c.name: c for c in record.checks}

    def status(name: str) -> Text:
        check = by_name.get(name)
        return Text(check.status.value if check else "-", style=STYLES[check.status] if check else "dim")

    a = diff.agreement
    table.add_row("diff.agreement", "", figures.percent(a.rate), f"{a.disagreeing:,} of {a.compared:,} differ", status("diff.agreement"))
    for metric, m in diff.quality.metrics.items():
        table.add_row(f"diff.quality ({metric})", f"{m.get('live')}", f"{m.get('candidate')}", f"{m.get('change')}", status("diff.quality"))
    lat = diff.latency
    if lat is not None:
        for q in ("p50", "p95", "p99"):
            table.add_row(f"diff.latency ({q})", figures.ms(getattr(lat.live, f"{q}_ms")), figures.ms(getattr(lat.candidate, f"{q}_ms")),
                          figures.change(lat.changes.get(q)), status("diff.latency"))
        table.add_row("diff.errors", figures.percent(lat.live.error_rate), figures.percent(lat.candidate.error_rate), "",
                      status("diff.errors"))
    return table
