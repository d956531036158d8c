"""The ``endpoint`` target: validate an inference service someone else already deployed.

Nothing is provisioned, no pipeline runs, nothing is deployed or torn down: ``deploy()``
builds the :class:`~harness.results.Endpoint` from the settings and waits, within
``ready_timeout``, until the model answers ready over V1 or V2 (:mod:`harness.inference.discovery`;
``protocol`` forces one), and records which protocols it speaks. The seed's curl

    curl -H "Host: sklearn-iris.admin.example.com" -H "Cookie: authservice_session=..." \\
        http://INGRESS:PORT/v1/models/sklearn-iris:predict -d @iris-input.json

becomes ``mlharness run --target endpoint --url http://INGRESS:PORT --model-name sklearn-iris
--host-header sklearn-iris.admin.example.com --cookie authservice_session=...``.
Every secret (cookie, token, header values) is registered for redaction before use.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from harness.config import HarnessConfig
from harness.config.secrets import register_config_secrets
from harness.config.urls import masked, split_url
from harness.errors import ConfigError, InferenceError, PipelineError
from harness.inference.client import InferenceClient
from harness.inference.discovery import wait_ready
from harness.inference.encoder import Encoder
from harness.inference.tls import verify_setting
from harness.redact import redact
from harness.results import Endpoint, PipelineRun
from harness.targets.base import (
    LoadGenerator,
    ResourceMonitor,
    RuntimeVersions,
    TargetContext,
    local_load,
)

PROBE_TIMEOUT = 5.0
PROBE_BUDGET_S = 10.0  # all diagnostics probes together: a stalling server cannot hold a failed run
PROBE_MAX_BYTES = 64 * 1024
BODY_PREVIEW = 200


def endpoint_headers(cfg: HarnessConfig) -> dict[str, str]:
    """The headers every request carries: Host, extra headers, Cookie, bearer token."""
    headers: dict[str, str] = {}
    if cfg.endpoint.host_header:
        headers["Host"] = cfg.endpoint.host_header
    for name, value in cfg.endpoint.header:
        headers[name] = value
    if cfg.endpoint.cookie:
        headers["Cookie"] = cfg.endpoint.cookie
    token = cfg.token_value
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def build_endpoint(cfg: HarnessConfig) -> Endpoint:
    """The endpoint described by ``url``, ``model_name`` and the auth settings."""
    if not cfg.endpoint.url:
        raise ConfigError("the endpoint target needs --url", "url")
    register_config_secrets(cfg)
    via = f" (Host: {cfg.endpoint.host_header})" if cfg.endpoint.host_header else ""
    # userinfo -> an Authorization: Basic header (REST and load alike); the query stays on the
    # base URL, and every client appends it to each request's path as given
    parts = split_url(cfg.endpoint.url)
    headers = endpoint_headers(cfg)
    if parts.basic_auth and not any(k.lower() == "authorization" for k in headers):
        headers["Authorization"] = parts.basic_auth
    return Endpoint(
        parts.base + (f"?{parts.query}" if parts.query else ""),
        cfg.core.model_name,
        headers,
        description=f"given endpoint {masked(cfg.endpoint.url)}{via}",
        tls_verify=verify_setting(cfg.endpoint),
        grpc_url=cfg.endpoint.grpc_url,
    )


class EndpointTarget:
    """An already deployed inference service at ``--url``."""

    name = "endpoint"
    runs_pipelines = False
    deploys = False
    deploy_failure_is_infrastructure = False
    serves_with_this_python = False

    def __init__(self, ctx: TargetContext) -> None:
        self.ctx = ctx
        register_config_secrets(ctx.config)

    def provision(self) -> None:
        """Nothing to bring up: the service is already there."""

    def run_pipeline(self, package: Path) -> PipelineRun:
        raise PipelineError("the endpoint target runs no pipeline; use --target local or a cluster target")

    def deploy(self, run: PipelineRun | None) -> Endpoint:
        """The given endpoint, once its model answers ready, with the protocols it speaks.

        Raises:
            WaitTimeout: not ready within ``ready_timeout`` (every probe's answer in the
                message), or ready only over a protocol other than the one asked for.
        """
        cfg = self.ctx.config
        endpoint = build_endpoint(cfg)
        self.ctx.progress(f"waiting for {cfg.core.model_name} at {masked(endpoint.base_url)}")
        timeout = max(0.5, min(cfg.core.request_timeout, cfg.core.ready_timeout))
        with InferenceClient(endpoint, timeout, max_bytes=cfg.endpoint.max_response_bytes) as client:
            found = wait_ready(client, cfg.endpoint.protocol, timeout=cfg.core.ready_timeout)
        return dataclasses.replace(endpoint, protocols=found.ready, readiness=found.summary())

    def model_artifact(self) -> Path | None:
        artifact = self.ctx.config.endpoint.model_artifact
        return Path(artifact) if artifact else None

    def deploy_candidate(self, artifact: Path) -> Endpoint:
        """Nothing is served here: the candidate is another endpoint (``candidate_url``)."""
        raise ConfigError("the endpoint target serves no model: give the candidate's URL (--candidate-url), "
                          "or serve the artifact with --target local", "candidate_artifact")

    def train_candidate(self, package: Path) -> PipelineRun:
        """No pipeline runs here: the candidate is another endpoint (``candidate_url``)."""
        raise ConfigError("the endpoint target runs no pipeline: give the candidate's URL (--candidate-url), "
                          "or train it with --target local", "candidate_pipeline")

    def serving_runtime(self) -> RuntimeVersions | None:
        """Someone else's server: what it runs is not known here."""
        return None

    def load_generator(self, endpoint: Endpoint) -> LoadGenerator:
        """locust on this host, one worker per core."""
        return local_load(self.ctx, endpoint, os.cpu_count() or 1, "direct")

    def resource_monitor(self) -> ResourceMonitor | None:
        """Someone else's server: no process or pod of ours to sample."""
        return None

    def diagnostics(self, out_dir: Path) -> list[Path]:
        """What the endpoint answers on its readiness and metadata paths, and over gRPC when given (redacted)."""
        cfg = self.ctx.config
        if not cfg.endpoint.url:
            return []
        v1, v2 = Encoder.model_path(cfg.core.model_name, protocol="v1"), Encoder.model_path(cfg.core.model_name)
        lines = []
        with InferenceClient(build_endpoint(cfg), PROBE_TIMEOUT, max_bytes=PROBE_MAX_BYTES) as client:
            deadline = time.monotonic() + PROBE_BUDGET_S
            for path in (v1, "/v2/health/ready", v2, f"{v2}/ready"):
                left = deadline - time.monotonic()
                if left <= 0.1:
                    lines.append(f"GET {path} -> not tried: the {PROBE_BUDGET_S:g}s budget of these probes was spent")
                    continue
                try:
                    lines.append(f"GET {path} -> {client.request('GET', path, timeout=min(PROBE_TIMEOUT, left)).describe(BODY_PREVIEW)}")
                except InferenceError as exc:
                    lines.append(f"GET {path} -> {exc}")
            if cfg.endpoint.grpc_url:  # ServerReady and ModelReady over gRPC, within what is left of the budget
                left = deadline - time.monotonic()
                lines.append(client.grpc.readiness(min(PROBE_TIMEOUT, left))[1] if left > 0.1 else
                             f"gRPC {cfg.endpoint.grpc_url} -> not tried: the {PROBE_BUDGET_S:g}s budget of these probes was spent")
        out_dir.mkdir(parents=True, exist_ok=True)
        file = out_dir / "endpoint-probe.txt"
        file.write_text(redact("\n".join(lines)) + "\n")
        return [file]

    def teardown(self) -> None:
        """Nothing to release: the service is not ours."""
