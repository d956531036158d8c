"""What makes a baseline a baseline: figures a run can have measured, and the same system.

:func:`check_figures` refuses load figures no run measures (a negative or zero latency, more
failures than requests, no request that succeeded): compared with them, every regression gate
passes ("p95 8.08 ms vs baseline 0 ms: within +20 %"). :class:`RunIdentity` is which system a
report measured: the model's name, the endpoint's URL (for the ``endpoint`` target, where the
URL names the service; the local and cluster targets get a new one each run) and the model's
signature (task, features, classes). :func:`differences` says where two runs differ;
``mlharness compare`` and a run's ``--baseline`` refuse such a pair (exit 2) unless told the
difference is intended (``--allow-different``, ``baseline_allow_different``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from harness.config.urls import masked, split_url
from harness.load.results import LoadResult


def check_figures(load: LoadResult, baseline: bool = True) -> None:
    """Raise ValueError naming the first figure no measured run can have (and, for a
    ``baseline``, a run where no request succeeded: there is nothing to compare with)."""
    if load.requests < 0 or load.failures < 0:
        raise ValueError(f"load.requests ({load.requests}) and load.failures ({load.failures}) cannot be negative")
    if load.failures > load.requests:
        raise ValueError(f"load.failures ({load.failures}) is more than load.requests ({load.requests})")
    if baseline and (load.requests == 0 or load.failures == load.requests):
        raise ValueError(f"the baseline run measured nothing: {load.requests} request(s), {load.failures} failed; "
                         "compare with a run whose requests succeeded")
    if load.rps < 0:
        raise ValueError(f"load.rps is {load.rps:g}, below zero")
    for name in ("p50", "p95", "p99"):
        value = getattr(load.latency_ms, name, None)
        if value is not None and (value < 0 or (value == 0 and load.requests > load.failures)):
            raise ValueError(f"load.latency_ms.{name} is {value:g} ms: a latency a run measured is above zero")
    if load.error_rate is not None and not 0 <= load.error_rate <= 1:
        raise ValueError(f"load.error_rate is {load.error_rate:g}, not between 0 and 1")


@dataclasses.dataclass(frozen=True)
class RunIdentity:
    """Which system a run measured (None: the report does not say)."""

    model: str | None = None
    url: str | None = None
    signature: str | None = None


def signature_of(contract: Mapping[str, Any] | None) -> str | None:
    """``classification, 4 features [a, b, c, d], classes [0, 1, 2]`` of a report's ``contract`` section."""
    if not isinstance(contract, Mapping):
        return None
    features = contract.get("features")
    names = [f.get("name") for f in features if isinstance(f, Mapping)] if isinstance(features, list) else []
    classes = contract.get("classes")
    text = f"{contract.get('task')}, {len(names)} features {names}"
    return text + (f", classes {list(classes)}" if classes else "")


def identity_of(report: Mapping[str, Any]) -> RunIdentity:
    """The identity a ``report.json`` records (its endpoint, config and contract sections)."""
    raw_endpoint, raw_config = report.get("endpoint"), report.get("config")
    endpoint: Mapping[str, Any] = raw_endpoint if isinstance(raw_endpoint, Mapping) else {}
    config: Mapping[str, Any] = raw_config if isinstance(raw_config, Mapping) else {}
    model = endpoint.get("model_name") or config.get("model_name")
    url = None
    if report.get("target") == "endpoint":
        url = endpoint.get("base_url") or config.get("url")
    return RunIdentity(model if isinstance(model, str) else None, url_identity(url) if isinstance(url, str) else None,
                       signature_of(report.get("contract")))


def url_identity(url: str) -> str:
    """``url`` as two runs of one service both record it: no userinfo, query values masked."""
    parts = split_url(url)
    return masked(parts.base + (f"?{parts.query}" if parts.query else ""))


def differences(baseline: RunIdentity, current: RunIdentity) -> list[str]:
    """``model 'a' vs 'b'``, ... where both runs say and they differ."""
    found = []
    for what in ("model", "url", "signature"):
        then, now = getattr(baseline, what), getattr(current, what)
        if then is not None and now is not None and _norm(then) != _norm(now):
            found.append(f"{what} {then!r} (baseline) vs {now!r}")
    return found


def _norm(value: str) -> str:
    return value.rstrip("/").replace("/?", "?").lower()
