"""Property-based robustness checks (hypothesis) against a served model.

- ``robustness.parity``: generated valid inputs get exactly the trained artifact's
  in-process answers, and V1 and V2 agree (:mod:`harness.robustness.parity`);
- ``robustness.bad_inputs``: generated and catalogued malformed requests get a 4xx with
  an error body, never a 5xx or a hang, and the server survives
  (:mod:`harness.robustness.battery`, :mod:`harness.robustness.malformed`).

Example counts, sizes and time bounds come from a profile (``ci`` or ``nightly``,
:mod:`harness.robustness.profiles`); severity ``warn`` records findings as WARNED
instead of failing the run.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.client import InferenceClient
from harness.config import HarnessConfig
from harness.models import CheckResult, CheckStatus
from harness.redact import redact_obj
from harness.robustness.battery import run_bad_inputs
from harness.robustness.parity import run_parity
from harness.robustness.profiles import PROFILES, Profile, get_profile

RESULT_FILE = "robustness.json"


def run_robustness(client: InferenceClient, cfg: HarnessConfig, model_path: Path | None, out_dir: Path) -> list[CheckResult]:
    """Run both robustness checks; write their details to ``out_dir/robustness.json``.

    Args:
        client: talks to the served model (its headers carry Host, cookie and token).
        cfg: the run's settings (``robustness_profile``, ``robustness_severity``,
            ``request_timeout``, ``ready_timeout``).
        model_path: the trained artifact for the parity check; None skips that comparison.
        out_dir: the run's report directory.
    """
    profile = get_profile(cfg.robustness_profile)
    failing = CheckStatus.FAILED if cfg.robustness_severity == "fail" else CheckStatus.WARNED
    seed = profile.seed()
    timeout = min(cfg.request_timeout, profile.request_timeout)
    results = [
        run_parity(client, profile, model_path, failing, seed),
        run_bad_inputs(client, profile, timeout, cfg.ready_timeout, failing, seed),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"profile": profile.as_dict(), "severity": cfg.robustness_severity, "checks": [r.as_dict() for r in results]}
    (out_dir / RESULT_FILE).write_text(json.dumps(redact_obj(data), indent=2, default=str) + "\n")
    return results


__all__ = ["PROFILES", "Profile", "get_profile", "run_robustness"]
