"""Property-based robustness checks (hypothesis) against a served model.

- ``robustness.parity``: generated valid inputs get exactly the trained artifact's
  in-process answers over every protocol spoken, and V1 and V2 agree
  (:mod:`harness.robustness.parity`);
- ``robustness.bad_inputs``: malformed requests get a 4xx with an error body, never a 5xx or
  a hang; valid but unusual ones (large batches and bodies, coercible V2 values, odd content
  types) get the right predictions or a 4xx; the server survives
  (:mod:`harness.robustness.battery`, :mod:`harness.robustness.categories`).

Both run over the protocols the server was found to speak (``Endpoint.protocols``).
Example counts, sizes and time bounds come from a profile (``ci`` or ``nightly``,
:mod:`harness.robustness.profiles`); severity ``warn`` records findings as WARNED instead of
failing the run; an accepted-findings file (:mod:`harness.robustness.accepted`) lists known
findings without failing. The heavy parts (hypothesis) are imported only when the checks run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from harness.models import CheckResult, CheckStatus
from harness.redact import redact_obj
from harness.robustness.profiles import PROFILES, Profile, get_profile

if TYPE_CHECKING:
    from harness.client import InferenceClient
    from harness.config import HarnessConfig

RESULT_FILE = "robustness.json"


def run_robustness(client: InferenceClient, cfg: HarnessConfig, model_path: Path | None, out_dir: Path) -> list[CheckResult]:
    """Run both robustness checks; write their details to ``out_dir/robustness.json``.

    Args:
        client: talks to the served model (its headers carry Host, cookie and token; its
            endpoint's ``protocols`` are what the checks use; its reader maps labels).
        cfg: the run's settings (``robustness_profile``, ``robustness_severity``,
            ``accepted_findings``, ``request_timeout``, ``ready_timeout``).
        model_path: the trained artifact for the parity check and for the predictions of
            valid requests; None skips those comparisons.
        out_dir: the run's report directory.
    """
    from harness.robustness.accepted import load_accepted
    from harness.robustness.bad_inputs import run_bad_inputs
    from harness.robustness.parity import run_parity

    profile = get_profile(cfg.robustness.profile)
    accepted = load_accepted(cfg.robustness.accepted_findings)
    failing = CheckStatus.FAILED if cfg.robustness.severity == "fail" else CheckStatus.WARNED
    seed = profile.seed()
    timeouts = (min(cfg.core.request_timeout, profile.request_timeout), cfg.core.request_timeout)
    results = [
        run_parity(client, profile, model_path, failing, seed),
        run_bad_inputs(client, profile, timeouts, cfg.core.ready_timeout, failing, seed, model_path, accepted),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "profile": profile.as_dict(),
        "severity": cfg.robustness.severity,
        "protocols": list(client.endpoint.protocols),
        "accepted_findings": {
            "file": accepted.source,
            "entries": [e.as_dict() for e in accepted.entries],
            "stale": results[1].details.get("accepted_stale", []),
        },
        "checks": [r.as_dict() for r in results],
    }
    (out_dir / RESULT_FILE).write_text(json.dumps(redact_obj(data), indent=2, default=str) + "\n")
    return results


__all__ = ["PROFILES", "RESULT_FILE", "Profile", "get_profile", "run_robustness"]
