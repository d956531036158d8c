"""Robustness profiles: how many examples, how large, how long.

A profile bounds every loop of the robustness checks, so ``ci`` stays within a few
seconds against a local server and ``nightly`` digs deeper with fresh randomness.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from harness.errors import ConfigError

MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Profile:
    """Bounds of one robustness run.

    Args:
        name: ``ci`` or ``nightly``.
        parity_examples: generated batches compared with the in-process model.
        parity_max_batch: most rows in one generated parity batch.
        bad_examples: generated malformed requests per category.
        request_timeout: seconds one request may take (the per-request deadline; the
            run's ``request_timeout`` caps it further). The large valid requests (batch,
            body) get the run's ``request_timeout`` itself: their work grows with their size.
        large_batch_rows: rows of the valid "very large batch" request.
        large_body_bytes: size of the valid "large body" request.
        nesting_depth: list depth of the deepest "deep nesting" request.
        budget_s: the battery stops sending once it has run this long.
        max_timeouts: the battery stops after this many unanswered requests (a hung server).
        derandomize: a fixed seed (reproducible CI) instead of fresh randomness.
    """

    name: str
    parity_examples: int
    parity_max_batch: int
    bad_examples: int
    request_timeout: float
    large_batch_rows: int
    large_body_bytes: int
    nesting_depth: int
    budget_s: float
    max_timeouts: int
    derandomize: bool

    def seed(self) -> int | None:
        """The seed for a randomized profile (recorded so a finding can be replayed)."""
        return None if self.derandomize else int(time.time())

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        name="ci",
        parity_examples=20,
        parity_max_batch=16,
        bad_examples=6,
        request_timeout=3.0,
        large_batch_rows=20_000,
        large_body_bytes=4 * MIB,
        nesting_depth=5_000,
        budget_s=30.0,
        max_timeouts=2,
        derandomize=True,
    ),
    "nightly": Profile(
        name="nightly",
        parity_examples=300,
        parity_max_batch=64,
        bad_examples=100,
        request_timeout=10.0,
        large_batch_rows=200_000,
        large_body_bytes=32 * MIB,
        nesting_depth=100_000,
        budget_s=600.0,
        max_timeouts=3,
        derandomize=False,
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ConfigError names the ones there are."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}", "robustness_profile") from None


def hypothesis_settings(max_examples: int, seed: int | None) -> Any:
    """The hypothesis settings both robustness checks run under.

    No example database (a run must not depend on earlier runs), no per-example deadline (the
    request timeout bounds each example), health checks off (examples are network calls), one
    shrunk failure per check; derandomized unless the profile draws a seed.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    return settings(
        max_examples=max_examples,
        database=None,
        derandomize=seed is None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
    )

