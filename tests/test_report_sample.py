"""The default run against the stored sample: nothing a user sees in report.json changes.

``tests/golden/report-default-run.json`` is the report.json the default ``mlharness run`` wrote
before the redesign (at 9e49f5f). A run today must have the same schema version, the same
top-level keys, the same checks in the same order with the same statuses, and the same keys in
every section (recursively; values are per machine and per run, so they are not compared, only
whether a value is an object, a list or a plain value where the sample has an object or a list).

Keys added since the sample on purpose are listed in :data:`ADDED_SINCE_SAMPLE`, each with the
issue that added it: an addition not listed there, and any key missing, still fails.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

SAMPLE = REPO / "tests" / "golden" / "report-default-run.json"
#: section path (fnmatch pattern) -> keys report.json gained after the sample, deliberately
ADDED_SINCE_SAMPLE: dict[str, frozenset[str]] = {
    # issue 24: refuse a baseline of another model or URL unless told; issue 20: the signature's settings
    "config": frozenset({"baseline_allow_different", "input_name", "input_datatype", "model_version", "input_codec",
                         # issue 21: the release diff's settings
                         "candidate_url", "candidate_grpc_url", "candidate_model_name", "candidate_artifact", "candidate_pipeline", "candidate_host_header", "candidate_header",
                         "candidate_cookie", "candidate_token", "candidate_ca_cert", "max_disagreement", "max_quality_drop",
                         "max_latency_increase", "max_error_rate_increase", "diff_rows", "diff_shown", "diff_windows", "diff_window",
                         "diff_alpha"}),
    # issue 20: the model's signature, and where each part of it came from
    "endpoint": frozenset({"signature"}),
    "checks[[]deploy.ready[]].details": frozenset({"signature"}),
    # issue 19: a load window accounts for every request it sent
    "load": frozenset({"answered", "stalls", "unfinished", "unfinished_failed", "users_configured"}),
    # issue 19: every check records its evidence
    "checks[[]*[]].details": frozenset({"evidence"}),
    # issue 19: robustness judges rejections against valid controls and their twins
    "checks[[]robustness.*[]].details": frozenset({"controls", "twins", "not_evidence", "not_evidence_count"}),
    # issue 19: latency gates say how many samples they judged
    "checks[[]slo.p*[]].details": frozenset({"samples"}),
    # issue 19: the error rate gate also judges unanswered requests, stalls and the rate kept
    "checks[[]slo.error_rate[]].details": frozenset({"achieved_rps", "answered", "offered_rps", "problems", "rate_tolerance", "stalls",
                                                     "unfinished", "unfinished_failed"}),
}


#: top-level sections report.json gained after the sample (null in a default run), each with its issue
ADDED_SECTIONS = {"diff": "issue 21: the release diff"}
#: schema versions since the sample's, each with what it added
SCHEMA_SINCE_SAMPLE = {3: "issue 21: the diff section"}
#: checks added since the sample, skipped in a default run (no candidate), each with its issue
ADDED_CHECKS = {name: "issue 21: the release diff" for name in ("deploy.candidate", "diff.agreement", "diff.quality", "diff.latency", "diff.errors")}


def _added(path: str) -> frozenset[str]:
    return frozenset().union(*(keys for pattern, keys in ADDED_SINCE_SAMPLE.items() if fnmatch.fnmatchcase(path, pattern)))


def _kind(value: Any) -> str:
    return "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else "a value"


def key_differences(sample: Any, got: Any, path: str) -> list[str]:
    """Where the shape of ``got`` differs from ``sample``'s: keys missing or new, an object that
    became a value. Lists are compared by the keys of their objects (all elements together)."""
    if isinstance(sample, dict) or isinstance(got, dict):
        if not (isinstance(sample, dict) and isinstance(got, dict)):
            # null is a value too: a section the sample has as null (no baseline) must stay null
            return [f"{path}: {_kind(sample)} in the sample, {_kind(got)} here"]
        out = []
        missing, new = sorted(sample.keys() - got.keys()), sorted(got.keys() - sample.keys() - _added(path))
        if missing:
            out.append(f"{path}: keys missing: {missing}")
        if new:
            out.append(f"{path}: keys not in the sample: {new}")
        for key in sample.keys() & got.keys():
            out += key_differences(sample[key], got[key], f"{path}.{key}")
        return out
    if isinstance(sample, list) or isinstance(got, list):
        if not (isinstance(sample, list) and isinstance(got, list)):
            return [f"{path}: {_kind(sample)} in the sample, {_kind(got)} here"]
        objects = [x for x in sample if isinstance(x, dict)], [x for x in got if isinstance(x, dict)]
        if not (objects[0] and objects[1]):  # an empty list (no lint finding) says nothing of its elements' keys
            return []
        return key_differences(_merged(objects[0]), _merged(objects[1]), f"{path}[]")
    return []


def _merged(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The objects of a list as one: every key any of them has, nested objects merged alike
    (the tasks of a pipeline run: only the task that logs metrics has metric keys)."""
    merged: dict[str, Any] = {}
    for obj in objects:
        for key, value in obj.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = _merged([merged[key], value])
            elif isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            elif key not in merged or merged[key] is None:
                merged[key] = value
    return merged


def report_differences(sample: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Every way ``got`` (a report.json) departs from the sample, one line each; [] when none."""
    out = []
    if got.get("schema_version") != sample["schema_version"] and got.get("schema_version") not in SCHEMA_SINCE_SAMPLE:
        out.append(f"schema_version: {sample['schema_version']} in the sample, {got.get('schema_version')} here")
    missing, new = sorted(sample.keys() - got.keys()), sorted(got.keys() - sample.keys() - ADDED_SECTIONS.keys())
    if missing or new:
        out.append(f"top-level keys: missing {missing}, not in the sample {new}")
    out += [f"{key}: null in a default run, here {_kind(got[key])}" for key in ADDED_SECTIONS if got.get(key) is not None]
    expected = [(c["name"], c["status"]) for c in sample["checks"]]
    checks = [(c.get("name"), c.get("status")) for c in got.get("checks", []) if c.get("name") not in ADDED_CHECKS]
    out += [f"checks[{c.get('name')}]: {c.get('status')} in a default run, not skipped" for c in got.get("checks", [])
            if c.get("name") in ADDED_CHECKS and c.get("status") != "skipped"]
    if checks != expected:
        width = max(len(f"{n} {s}") for n, s in expected)
        rows = [
            f"{'  ' if (n, s) == c else '! '}{f'{n} {s}':<{width}}  |  {' '.join(map(str, c)) if c else '(none)'}"
            for (n, s), c in _pairs(expected, checks)
        ]
        out.append("checks (sample | here):\n" + "\n".join(rows))
    for section in sorted(sample.keys() & got.keys() - {"checks"}):
        out += key_differences(sample[section], got[section], section)
    # each check's evidence: its own keys (what is nested below them is data: categories drawn
    # by hypothesis, classes, protocols)
    details = {c["name"]: c["details"] for c in got.get("checks", []) if isinstance(c, dict) and "name" in c}
    for check in sample["checks"]:
        if check["name"] in details:
            shape = {k: None for k in check["details"]}, {k: None for k in details[check["name"]]}
            out += key_differences(*shape, f"checks[{check['name']}].details")
    return out


def _pairs(left: list[Any], right: list[Any]) -> list[tuple[Any, Any]]:
    return [(left[i] if i < len(left) else ("(none)", ""), right[i] if i < len(right) else None) for i in range(max(len(left), len(right)))]


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


def test_the_sample_matches_itself_in_any_task_order(sample: dict[str, Any]) -> None:
    """Values are not compared, nor the order of a list's objects (tasks finish in any order)."""
    report = copy.deepcopy(sample)
    report["pipeline"]["tasks"].reverse()
    report["load"]["requests"], report["environment"]["host"], report["load"]["rate"] = 1, "elsewhere", 200.0
    assert report_differences(sample, report) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r["checks"][5].update(name="predict.golden_cases"), "checks (sample | here)"),
        (lambda r: r["checks"][12].update(status="failed"), "checks (sample | here)"),
        (lambda r: r["checks"].pop(), "checks (sample | here)"),
        (lambda r: r.update(schema_version=4), "schema_version: 2 in the sample, 4 here"),
        (lambda r: r.pop("resources"), "top-level keys: missing ['resources']"),
        (lambda r: r.update(slo=[]), "not in the sample ['slo']"),
        (lambda r: r["load"]["latency_ms"].pop("p999"), "load.latency_ms: keys missing: ['p999']"),
        (lambda r: r["config"].pop("min_accuracy"), "config: keys missing: ['min_accuracy']"),
        (lambda r: r["pipeline"]["tasks"][0].update(state_reason="x"), "pipeline.tasks[]: keys not in the sample"),
        (lambda r: r["checks"][5]["details"].update(samples=1), "checks[predict.golden].details: keys not in the sample: ['samples']"),
        (lambda r: r.update(baseline={"tolerance": 0.2}), "baseline: a value in the sample, an object here"),
        (lambda r: r.update(load=None), "load: an object in the sample, a value here"),
        (lambda r: r.update(diff={"agreement": {}}), "diff: null in a default run, here an object"),
        (lambda r: r["checks"].append({"name": "diff.latency", "status": "passed", "details": {}}), "checks[diff.latency]: passed in a default run"),
        (lambda r: r["checks"][6]["details"].pop("thresholds"), "checks[predict.quality].details: keys missing"),
    ],
    ids=["check renamed", "status changed", "check dropped", "schema version", "section dropped", "section added",
         "nested key dropped", "setting dropped", "list element key added", "unlisted detail key added", "null became object",
         "object became null", "added section filled", "added check not skipped",
         "evidence key dropped"],
)
def test_a_departure_from_the_sample_is_found(sample: dict[str, Any], change: Any, expected: str) -> None:
    report = copy.deepcopy(sample)
    change(report)
    differences = report_differences(sample, report)
    assert any(expected in line for line in differences), differences


@pytest.mark.e2e  # a whole default run through the CLI
@pytest.mark.timeout(900)
def test_the_default_run_writes_the_report_of_the_sample(sample: dict[str, Any], tmp_path: Path) -> None:
    """``mlharness run --duration 3s`` (every other setting its default) in a clean directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env["XDG_CACHE_HOME"] = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    report_dir = tmp_path / "report"
    work = tmp_path / "work"  # no harness.toml or pyproject.toml to read settings from
    work.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--duration", "3s", "--report-dir", str(report_dir)],
        cwd=work, env=env, capture_output=True, text=True, timeout=840, check=False,
    )
    report = report_dir / "report.json"
    assert report.is_file(), f"no report.json (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    got = json.loads(report.read_text())
    differences = report_differences(sample, got)
    assert differences == [], "report.json departs from the sample:\n" + "\n".join(differences)
    assert (got["status"], done.returncode) == (sample["status"], sample["exit_code"]), done.stdout[-3000:]
