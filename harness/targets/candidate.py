"""The release diff's candidate reached by URL (``candidate_url``), on any target.

The candidate's requests carry the endpoint settings (headers, cookie, token, CA) unless a
``candidate_*`` setting overrides one for it (docs/diff.md). The live side stays the run's
endpoint. A candidate served from an artifact is the target's own business
(:meth:`harness.targets.base.Target.deploy_candidate`).
"""

from __future__ import annotations

import dataclasses

from harness.config import HarnessConfig
from harness.config.urls import masked, split_url
from harness.inference.client import InferenceClient
from harness.inference.discovery import wait_ready
from harness.inference.tls import verify_setting
from harness.results import Endpoint


def candidate_headers(cfg: HarnessConfig) -> dict[str, str]:
    """The endpoint's headers with the candidate's own settings in their place, where given."""
    from harness.targets.endpoint import endpoint_headers

    d = cfg.diff
    headers = endpoint_headers(cfg)
    if d.candidate_host_header:
        headers["Host"] = d.candidate_host_header
    for name, value in d.candidate_header:
        headers[name] = value
    if d.candidate_cookie:
        headers["Cookie"] = d.candidate_cookie
    if d.candidate_token:
        headers["Authorization"] = f"Bearer {d.candidate_token}"
    return headers


def candidate_endpoint(cfg: HarnessConfig) -> Endpoint:
    """The candidate described by ``candidate_url`` and ``candidate_model_name`` (not yet waited for)."""
    d = cfg.diff
    assert d.candidate_url, "candidate_endpoint needs candidate_url"
    parts = split_url(d.candidate_url)
    headers = candidate_headers(cfg)
    if parts.basic_auth and not any(k.lower() == "authorization" for k in headers):
        headers["Authorization"] = parts.basic_auth
    verify: str | bool = d.candidate_ca_cert or verify_setting(cfg.endpoint)
    return Endpoint(parts.base + (f"?{parts.query}" if parts.query else ""), d.candidate_model_name or cfg.core.model_name, headers,
                    description=f"candidate endpoint {masked(d.candidate_url)}", tls_verify=verify, grpc_url=d.candidate_grpc_url)


def wait_candidate(endpoint: Endpoint, cfg: HarnessConfig) -> Endpoint:
    """``endpoint`` once it answers ready (within ``ready_timeout``), with the protocols it speaks."""
    timeout = max(0.5, min(cfg.core.request_timeout, cfg.core.ready_timeout))
    with InferenceClient(endpoint, timeout, max_bytes=cfg.endpoint.max_response_bytes) as client:
        found = wait_ready(client, cfg.endpoint.protocol, timeout=cfg.core.ready_timeout)
    return dataclasses.replace(endpoint, protocols=found.ready, readiness=found.summary())
