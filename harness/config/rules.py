"""Rules across settings, checked on every path that builds a config (flags, pytest, files, replace)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config.settings import CLUSTER_TARGETS
from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.config import HarnessConfig

MODEL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def validate(cfg: HarnessConfig) -> None:
    """Cross-field rules; raise ConfigError naming the key at fault."""
    core, endpoint, load = cfg.core, cfg.endpoint, cfg.load
    if core.target == "endpoint" and not endpoint.url:
        raise ConfigError("the endpoint target needs --url (HARNESS_URL, or url in the config file)", "url")
    if endpoint.url and not re.match(r"^https?://[^/\s]+", endpoint.url):
        raise ConfigError(f"expected an http(s) URL, got {endpoint.url!r}", "url")
    if cfg.cluster.load_in_cluster and core.target not in CLUSTER_TARGETS:
        raise ConfigError(
            f"runs locust as Jobs in the cluster, so it needs a cluster target ({', '.join(CLUSTER_TARGETS)}), "
            f"not {core.target}",
            "load_in_cluster",
        )
    _grpc_rules(cfg)
    if endpoint.ca_cert and endpoint.insecure:
        raise ConfigError("give either ca_cert (verify with this CA) or insecure (do not verify), not both", "insecure")
    if endpoint.token and endpoint.token_file:
        raise ConfigError("give either token or token_file, not both", "token_file")
    if load.enabled and load.warmup >= load.duration:
        raise ConfigError(f"warm-up ({load.warmup:g}s) must be shorter than the load duration ({load.duration:g}s)", "warmup")
    for key, path in (("ca_cert", endpoint.ca_cert), ("golden_file", core.golden_file), ("baseline", cfg.slo.baseline)):
        if path and not Path(path).is_file():
            raise ConfigError(f"file {path!r} does not exist", key)
    if cfg.robustness.accepted_findings:
        from harness.robustness.accepted import load_accepted

        load_accepted(cfg.robustness.accepted_findings)  # exists, parses, every entry has a known category and a reason
    if cfg.capacity.max_steps < 2:
        raise ConfigError(f"the capacity search needs at least 2 steps, got {cfg.capacity.max_steps}", "capacity_max_steps")
    if not 0 < cfg.capacity.precision < 1:
        raise ConfigError(f"must be between 0 and 100%, got {cfg.capacity.precision:.0%}", "capacity_precision")
    if cfg.capacity.step < 2.0:
        raise ConfigError(f"a step needs at least 2 s to count its rate over whole seconds, got {cfg.capacity.step:g}s", "capacity_step")
    if not MODEL_NAME.match(core.model_name):
        raise ConfigError(f"{core.model_name!r} is not a valid model name (lower-case letters, digits and '-')", "model_name")


def _grpc_rules(cfg: HarnessConfig) -> None:
    """A gRPC address parses; TLS over gRPC cannot go unverified; 'grpc' needs somewhere to speak it."""
    endpoint = cfg.endpoint
    if endpoint.grpc_url:
        from harness.inference.grpc_client import parse_grpc_url

        _, tls = parse_grpc_url(endpoint.grpc_url)
        if tls and endpoint.insecure:
            raise ConfigError("gRPC cannot skip certificate verification: give the server's CA with --ca-cert", "insecure")
    if "grpc" in (endpoint.protocol, cfg.load.protocol):
        key = "protocol" if endpoint.protocol == "grpc" else "load_protocol"
        if cfg.core.target == "endpoint" and not endpoint.grpc_url:
            raise ConfigError("grpc needs the endpoint's gRPC address (--grpc-url host:port)", key)
        if cfg.core.target == "local" and not cfg.local.server_grpc:
            raise ConfigError("grpc needs the local server's gRPC (server_grpc is off)", key)
        if cfg.core.target in CLUSTER_TARGETS:
            raise ConfigError(f"the {cfg.core.target} target does not reach gRPC yet: use v1, v2 or auto", key)
    if cfg.load.protocol == "grpc" and endpoint.protocol in ("v1", "v2"):
        raise ConfigError(f"load over grpc, but protocol = {endpoint.protocol} uses only that one", "load_protocol")
