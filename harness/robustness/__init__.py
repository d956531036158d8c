"""Property-based robustness checks (hypothesis) against a served model.

- ``robustness.parity``: generated valid inputs get exactly the trained artifact's
  in-process answers over every protocol spoken, and V1 and V2 agree
  (:mod:`harness.robustness.parity`);
- ``robustness.bad_inputs``: malformed requests get a 4xx with an error body, never a 5xx or
  a hang; valid but unusual ones (large batches and bodies, coercible V2 values, odd content
  types) get the right predictions or a 4xx; the server survives
  (:mod:`harness.robustness.battery`, :mod:`harness.config.categories`).

Both run over the protocols the server was found to speak (``Endpoint.protocols``).
Example counts, sizes and time bounds come from a profile (``ci`` or ``nightly``,
:mod:`harness.robustness.profiles`); severity ``warn`` records findings as WARNED instead of
failing the run; an accepted-findings file (:mod:`harness.config.accepted`) lists known
findings without failing. The heavy parts (hypothesis) are imported only when the checks run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config.accepted import load_accepted
from harness.redact import redact_obj
from harness.results import CheckResult, CheckStatus
from harness.robustness.profiles import PROFILES, Profile, get_profile
from harness.robustness.schema import IRIS_SCHEMA

if TYPE_CHECKING:
    from harness.config import RobustnessSettings
    from harness.config.accepted import AcceptedFindings
    from harness.inference.client import InferenceClient
    from harness.robustness.schema import FeatureSchema

RESULT_FILE = "robustness.json"


def parity_check(client: InferenceClient, robustness: RobustnessSettings, model_path: Path | None, out_dir: Path,
                 schema: FeatureSchema | None = None, tolerance: float | None = None) -> CheckResult:
    """``robustness.parity``: generated valid inputs get the artifact's answers; V1 and V2 agree.
    ``schema``: the contract's features (default: iris); ``tolerance``: a regressor's."""
    # lazy: hypothesis loads only when the check runs
    from harness.robustness.parity import run_parity

    profile = get_profile(robustness.profile)
    result = run_parity(client, profile, model_path, _failing(robustness), profile.seed(), schema or IRIS_SCHEMA, tolerance)
    _write_result(out_dir, robustness, client, result)
    return result


def bad_inputs_check(client: InferenceClient, robustness: RobustnessSettings, timeouts: tuple[float, float], ready_timeout: float,
                     model_path: Path | None, out_dir: Path, schema: FeatureSchema | None = None,
                     tolerance: float | None = None) -> CheckResult:
    """``robustness.bad_inputs``: malformed requests get a 4xx, valid-but-unusual ones a right answer or a 4xx.

    Args:
        timeouts: (per request, per large request) in seconds; the run's ``request_timeout`` caps both.
    """
    # lazy: hypothesis loads only when the check runs
    from harness.robustness.bad_inputs import run_bad_inputs

    profile = get_profile(robustness.profile)
    per_request = (min(timeouts[0], profile.request_timeout), timeouts[1])
    accepted = load_accepted(robustness.accepted_findings)
    result = run_bad_inputs(client, profile, per_request, ready_timeout, _failing(robustness), profile.seed(), model_path, accepted,
                            schema or IRIS_SCHEMA, tolerance)
    _write_result(out_dir, robustness, client, result, accepted)
    return result


def _failing(robustness: RobustnessSettings) -> CheckStatus:
    return CheckStatus.FAILED if robustness.severity == "fail" else CheckStatus.WARNED


def _write_result(out_dir: Path, robustness: RobustnessSettings, client: InferenceClient, result: CheckResult,
                  accepted: AcceptedFindings | None = None) -> None:
    """Add ``result`` to ``out_dir/robustness.json`` (each check writes its own entry, by name)."""
    path = out_dir / RESULT_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    checks = [c for c in data.get("checks", []) if isinstance(c, dict) and c.get("name") != result.name]
    data.update({
        "profile": get_profile(robustness.profile).as_dict(),
        "severity": robustness.severity,
        "protocols": list(client.endpoint.protocols),
        "checks": [*checks, result.as_dict()],
    })
    if accepted is not None:
        data["accepted_findings"] = {
            "file": accepted.source,
            "entries": [e.as_dict() for e in accepted.entries],
            "stale": result.details.get("accepted_stale", []),
        }
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(redact_obj(data), indent=2, default=str) + "\n")


__all__ = ["PROFILES", "RESULT_FILE", "Profile", "bad_inputs_check", "get_profile", "parity_check"]
