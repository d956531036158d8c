"""Configuration: one table of settings by concern, read from file, environment and flags.

Every setting belongs to one concern (:mod:`harness.config.settings`: core, local, load, slo,
robustness, endpoint, cluster) and has one flat *key* that names its CLI flag (``--duration``),
pytest option (``--harness-duration``), environment variable (``HARNESS_DURATION``) and
config-file key (``duration``); precedence is CLI > environment > file > default. Values are
parsed by ``parse_*`` functions; a bad one is a :class:`~harness.errors.ConfigError` naming
the key. Code reads a setting from its concern: ``cfg.load.duration``, ``cfg.slo.p95_ms``, and
each part of the harness is handed only the concerns it needs.

Example:
    >>> cfg = load_config(cli={"users": 4}, env={}, file=None)
    >>> cfg.load.users
    4
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.config.accepted import load_accepted
from harness.config.parsers import (
    parse_bool,
    parse_duration,
    parse_float,
    parse_fraction,
    parse_grpc_url,
    parse_headers,
    parse_int,
    parse_labels,
    parse_list,
    parse_mapping,
    parse_percent,
    parse_port,
)
from harness.config.secrets import URL_KEYS, check_secrets
from harness.config.settings import (
    BY_KEY,
    CLUSTER_TARGETS,
    CONCERN_CLASSES,
    SETTING_NAMES,
    SETTINGS,
    TARGETS,
    CapacitySettings,
    ClusterSettings,
    CoreSettings,
    DiffSettings,
    EndpointSettings,
    LoadSettings,
    LocalSettings,
    ModelSettings,
    ResourceSettings,
    RobustnessSettings,
    Setting,
    SloSettings,
)
from harness.config.sources import (
    CONFIG_FILE,
    ENV_PREFIX,
    cli_flag,
    env_var,
    parse_value,
    pytest_flag,
    read_config_file,
    unknown_key,
)
from harness.config.urls import masked
from harness.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class HarnessConfig:
    """Every setting of a validation run, by concern. Build it with :func:`load_config`."""

    core: CoreSettings = dataclasses.field(default_factory=CoreSettings)
    local: LocalSettings = dataclasses.field(default_factory=LocalSettings)
    load: LoadSettings = dataclasses.field(default_factory=LoadSettings)
    slo: SloSettings = dataclasses.field(default_factory=SloSettings)
    robustness: RobustnessSettings = dataclasses.field(default_factory=RobustnessSettings)
    endpoint: EndpointSettings = dataclasses.field(default_factory=EndpointSettings)
    cluster: ClusterSettings = dataclasses.field(default_factory=ClusterSettings)
    model: ModelSettings = dataclasses.field(default_factory=ModelSettings)
    capacity: CapacitySettings = dataclasses.field(default_factory=CapacitySettings)
    resources: ResourceSettings = dataclasses.field(default_factory=ResourceSettings)
    diff: DiffSettings = dataclasses.field(default_factory=DiffSettings)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> HarnessConfig:
        """Built from parsed values by key (unvalidated: use :func:`load_config`)."""
        groups: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            setting = BY_KEY[key]
            groups.setdefault(setting.group, {})[setting.attr] = value
        return cls(**{group: CONCERN_CLASSES[group](**attrs) for group, attrs in groups.items()})

    def get(self, key: str) -> Any:
        """The value of the setting with flat key ``key`` (``slo_p95_ms``)."""
        setting = BY_KEY[key]
        return getattr(getattr(self, setting.group), setting.attr)

    def explicit(self) -> dict[str, Any]:
        """The settings that differ from their defaults, by key."""
        return {s.key: self.get(s.key) for s in SETTINGS if self.get(s.key) != s.default}

    def replace(self, **changes: Any) -> HarnessConfig:
        """A copy with ``changes`` (by key) applied, parsed and validated like any source."""
        return load_config(cli={**self.explicit(), **changes}, env={}, file=None)

    def as_dict(self) -> dict[str, Any]:
        """The settings by key, secrets masked: safe to write into a report."""
        data: dict[str, Any] = {}
        for setting in SETTINGS:
            value = self.get(setting.key)
            if setting.secret and value:
                value = [[k, "***"] for k, _ in value] if setting.key == "header" else "***"
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            elif setting.key in URL_KEYS and value:
                value = masked(value)  # userinfo and query values are secrets
            data[setting.key] = value
        return data

    @property
    def token_value(self) -> str | None:
        """The bearer token from ``token`` or ``token_file``."""
        endpoint = self.endpoint
        if endpoint.token:
            return endpoint.token
        if endpoint.token_file:
            try:
                return Path(endpoint.token_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the token file: {exc}", "token_file") from exc
        return None


def load_config(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    file: Mapping[str, Any] | None = None,
    file_source: str = "config file",
) -> HarnessConfig:
    """Merge the sources (CLI > environment > file > default) into a validated config.

    Args:
        cli: settings given as flags, by key; ``None`` values count as not given.
        env: the environment (default ``os.environ``); only ``HARNESS_*`` keys are read.
        file: the flattened settings of a config file (see :func:`read_config_file`).
        file_source: the file's name, for error messages.

    Raises:
        ConfigError: a key is unknown or a value does not parse; the message names it.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for key, raw in (file or {}).items():
        if key not in BY_KEY:
            raise unknown_key(key, file_source)
        values[key] = parse_value(BY_KEY[key], raw, file_source)
    for setting in SETTINGS:
        var = env_var(setting.key)
        if var in env and env[var] != "":
            values[setting.key] = parse_value(setting, env[var], f"environment variable {var}")
    for key, raw in (cli or {}).items():
        if raw is None:
            continue
        if key not in BY_KEY:
            raise unknown_key(key, "command line")
        values[key] = parse_value(BY_KEY[key], raw, f"flag {cli_flag(key)}")
    cfg = HarnessConfig.from_values(values)
    validate(cfg)
    return cfg


# Rules across settings, checked on every path that builds a config (flags, pytest, files, replace).

MODEL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # a Kubernetes object's name (DNS label)
PROTOCOL_MODEL_NAME = re.compile(r"^[^\x00-\x1f\x7f/]{1,253}$")  # a path segment, URL-encoded where sent


def validate(cfg: HarnessConfig) -> None:
    """Cross-field rules; raise ConfigError naming the key at fault."""
    core, endpoint, load = cfg.core, cfg.endpoint, cfg.load
    if core.target == "endpoint" and not endpoint.url:
        raise ConfigError("the endpoint target needs --url (HARNESS_URL, or url in the config file)", "url")
    if endpoint.url and not re.match(r"^https?://[^/\s]+$|^https?://[^/\s]+[/?]\S*$", endpoint.url):
        raise ConfigError(f"expected an http(s) URL, got {masked(endpoint.url)!r}", "url")
    check_secrets(cfg)
    for key in ("report_dir", "state_dir"):
        path = cfg.get(key)
        try:
            str(path or "").encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ConfigError(f"{path!r} is not valid UTF-8 (byte {exc.object[exc.start:exc.end]!r}): reports name their "
                              "files in UTF-8; choose another directory name", key) from None
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
        load_accepted(cfg.robustness.accepted_findings)  # exists, parses, every entry has a known category and a reason
    if cfg.capacity.max_steps < 2:
        raise ConfigError(f"the capacity search needs at least 2 steps, got {cfg.capacity.max_steps}", "capacity_max_steps")
    if not 0 < cfg.capacity.precision < 1:
        raise ConfigError(f"must be between 0 and 100%, got {cfg.capacity.precision:.0%}", "capacity_precision")
    if cfg.capacity.step < 2.0:
        raise ConfigError(f"a step needs at least 2 s to count its rate over whole seconds, got {cfg.capacity.step:g}s", "capacity_step")
    _model_name_rules(core.model_name, core.target)


def _model_name_rules(name: str, target: str) -> None:
    """Any name the inference protocols carry (underscores, dots, mixed case: Triton's, MLServer's);
    a DNS label only where the name becomes a Kubernetes object's (an InferenceService)."""
    if not PROTOCOL_MODEL_NAME.match(name) or name in (".", ".."):
        raise ConfigError(f"{name!r} is not a model name a request path can carry (no '/', no control characters, not empty)", "model_name")
    if target in CLUSTER_TARGETS and not MODEL_NAME.match(name):
        raise ConfigError(f"{name!r} is not a valid model name for the {target} target: it names a Kubernetes InferenceService, "
                          "whose name must be a DNS label (lower-case letters, digits and '-')", "model_name")


def _grpc_rules(cfg: HarnessConfig) -> None:
    """A gRPC address parses; TLS over gRPC cannot go unverified; 'grpc' needs somewhere to speak it."""
    endpoint = cfg.endpoint
    if endpoint.grpc_url:
        _, tls = parse_grpc_url(endpoint.grpc_url)
        if tls and endpoint.insecure:
            raise ConfigError("gRPC cannot skip certificate verification: give the server's CA with --ca-cert", "insecure")
    if cfg.diff.candidate_grpc_url:
        try:
            _, candidate_tls = parse_grpc_url(cfg.diff.candidate_grpc_url)
        except ConfigError as exc:  # the same words, under the candidate's key
            raise exc.under("candidate_grpc_url") from None
        if candidate_tls and endpoint.insecure:
            raise ConfigError("gRPC cannot skip certificate verification: give the candidate's CA with --candidate-ca-cert", "insecure")
        if not cfg.diff.candidate_url:
            raise ConfigError("a candidate's gRPC address goes with its URL (--candidate-url): readiness and metadata are read over REST",
                              "candidate_grpc_url")
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


__all__ = [
    "CLUSTER_TARGETS",
    "CONFIG_FILE",
    "CapacitySettings",
    "ENV_PREFIX",
    "SETTINGS",
    "SETTING_NAMES",
    "TARGETS",
    "ClusterSettings",
    "CoreSettings",
    "EndpointSettings",
    "HarnessConfig",
    "LoadSettings",
    "LocalSettings",
    "ModelSettings",
    "ResourceSettings",
    "RobustnessSettings",
    "Setting",
    "SloSettings",
    "cli_flag",
    "env_var",
    "load_config",
    "parse_bool",
    "parse_duration",
    "parse_float",
    "parse_fraction",
    "parse_headers",
    "parse_int",
    "parse_labels",
    "parse_list",
    "parse_mapping",
    "parse_percent",
    "parse_port",
    "pytest_flag",
    "read_config_file",
    "validate",
]
