"""Configuration: one table of settings, read from file, environment and flags.

Every setting is a field of :class:`HarnessConfig`. Its metadata names the CLI flag
(``--duration``), the pytest option (``--harness-duration``), the environment variable
(``HARNESS_DURATION``) and the config-file key (``duration``); precedence is
CLI > environment > file > default. Values are parsed by ``parse_*`` functions that
raise :class:`~harness.errors.ConfigError` naming the key.

Example:
    >>> cfg = load_config(cli={"users": 4}, env={}, file=None)
    >>> cfg.users
    4
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

TARGETS = ("local", "endpoint", "kind", "minikube", "kubeconfig")
CLUSTER_TARGETS = ("kind", "minikube", "kubeconfig")
ENV_PREFIX = "HARNESS_"
CONFIG_FILE = "harness.toml"
PYPROJECT_TABLE = ("tool", "mlharness")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# --- value parsers -------------------------------------------------------------------------
def parse_float(value: Any) -> float:
    """A finite number: ``nan`` and ``inf`` (which TOML and ``float()`` accept) are refused.

    A threshold of ``nan`` compares false with everything, so a gate would pass on any figure.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def parse_int(value: Any) -> int:
    """A whole number: ``true`` and ``2.5`` are refused rather than read as 1 and 2."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(value)


def parse_duration(value: Any) -> float:
    """Seconds from ``30``, ``30s``, ``500ms``, ``2m`` or ``1h``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = parse_float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration like 30s, 500ms or 2m, got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def parse_percent(value: Any) -> float:
    """A fraction from ``20%``, ``0.2`` or ``20`` (values above 1 are read as percent)."""
    text = str(value).strip()
    number = parse_float(text.removesuffix("%"))
    if text.endswith("%") or number > 1:
        number /= 100
    if number < 0:
        raise ValueError(f"expected a non-negative percentage, got {value!r}")
    return number


def parse_headers(value: Any) -> tuple[tuple[str, str], ...]:
    """``K:V`` pairs from a list, a mapping or a comma-separated string."""
    if isinstance(value, Mapping):
        items = [f"{k}:{v}" for k, v in value.items()]
    elif isinstance(value, str):
        items = [v for v in value.split(",") if v.strip()]
    else:
        items = list(value)
    pairs = []
    for item in items:
        name, sep, val = str(item).partition(":")
        if not sep or not name.strip():
            raise ValueError(f"expected a header as NAME:VALUE, got {item!r}")
        pairs.append((name.strip(), val.strip()))
    return tuple(pairs)


def parse_mapping(value: Any) -> tuple[tuple[str, str], ...]:
    """``name=value`` pairs from a mapping or a comma-separated string."""
    if isinstance(value, Mapping):
        return tuple((str(k), str(v)) for k, v in value.items())
    pairs = []
    for item in str(value).split(","):
        if not item.strip():
            continue
        name, sep, val = item.partition("=")
        if not sep:
            raise ValueError(f"expected NAME=VALUE, got {item!r}")
        pairs.append((name.strip(), val.strip()))
    return tuple(pairs)


def parse_labels(value: Any) -> tuple[str, ...]:
    """Class names from a list or a comma-separated string."""
    items = [str(v).strip() for v in value] if isinstance(value, list | tuple) else str(value).split(",")
    labels = tuple(v.strip() for v in items if v.strip())
    if len(set(labels)) != len(labels):
        raise ValueError(f"class names must be distinct, got {list(labels)}")
    return labels


def _positive(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        number = kind(value)
        if number <= 0:
            raise ValueError(f"expected a positive number, got {value!r}")
        return number

    parse.__name__ = f"positive_{kind.__name__}"
    return parse


def _non_negative(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        number = kind(value)
        if number < 0:
            raise ValueError(f"expected zero or more, got {value!r}")
        return number

    parse.__name__ = f"non_negative_{kind.__name__}"
    return parse


def parse_fraction(value: Any) -> float:
    """A fraction from ``0.05`` or ``5%``: between 0 and 1 (0 % and 100 %)."""
    text = str(value).strip()
    number = parse_float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    if not 0 <= number <= 1:
        raise ValueError(f"expected a fraction between 0 and 1 or a percentage like 5%, got {value!r}")
    return number


def parse_port(value: Any) -> int:
    """A TCP port, 0 to 65535 (0: pick a free one)."""
    number = parse_int(value)
    if not 0 <= number <= 65535:
        raise ValueError(f"expected a port between 0 and 65535, got {value!r}")
    return number


def _setting(
    default: Any,
    help: str,
    parse: Callable[[Any], Any] = str,
    *,
    group: str = "core",
    choices: Sequence[str] | None = None,
    secret: bool = False,
    flag: str | None = None,
) -> Any:
    """A dataclass field carrying the metadata of one setting."""
    meta = {"help": help, "parse": parse, "group": group, "choices": choices, "secret": secret, "flag": flag}
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class HarnessConfig:
    """Every setting of a validation run. Build it with :func:`load_config`."""

    # core -----------------------------------------------------------------------------------
    target: str = _setting("local", "Where the system under test runs.", choices=TARGETS)
    report_dir: str | None = _setting(None, "Report directory. Default: reports/<timestamp>.")
    pipeline: str | None = _setting(
        None, "Pipeline to validate: FILE.py:FUNC or a compiled YAML. Default: the built-in iris pipeline."
    )
    model_name: str = _setting("sklearn-iris", "Name the model is served under.")
    golden_file: str | None = _setting(None, "JSON file of extra golden cases [{instances, predictions}].")
    min_accuracy: float = _setting(0.9, "Accuracy the trained and the served model must reach (0.9 or 90%).", parse_fraction)
    ready_timeout: float = _setting(60.0, "How long to wait for the endpoint to get ready.", _positive(parse_duration))
    pipeline_timeout: float = _setting(900.0, "How long a pipeline run may take.", _positive(parse_duration))
    request_timeout: float = _setting(10.0, "Timeout of one inference request.", _positive(parse_duration))
    compile_timeout: float = _setting(
        120.0, "How long importing and compiling a pipeline file may take (it runs in a child process).", _positive(parse_duration)
    )
    diagnostics_timeout: float = _setting(
        60.0, "How long collecting diagnostics after a failed run may take (a second Ctrl-C cuts it short).", _positive(parse_duration)
    )
    port: int = _setting(0, "Port of the local model server (0: a free one).", parse_port)
    server_workers: int = _setting(1, "Worker processes of the local model server.", _positive(parse_int))
    server_log_requests: bool = _setting(
        False, "Let the local model server log every request (costs ~25% of its CPU).", parse_bool
    )
    pipeline_isolation: str = _setting(
        "check",
        "How the local target runs pipeline tasks: 'check' that the harness's environment "
        "satisfies packages_to_install, then run each task as a fork of a warm interpreter; "
        "'subprocess': the same check, each task a fresh python as kfp.local starts it; "
        "'venv': kfp.local's fresh venv per task (slow).",
        choices=("check", "subprocess", "venv"),
    )
    keep: bool = _setting(False, "Leave the deployment up after the run.", parse_bool)
    # load -----------------------------------------------------------------------------------
    load: bool = _setting(True, "Drive load with locust after verification.", parse_bool, group="load")
    users: int = _setting(8, "Concurrent locust users.", _positive(parse_int), group="load")
    spawn_rate: float = _setting(50.0, "Users started per second.", _positive(parse_float), group="load")
    duration: float = _setting(30.0, "Load window, warm-up included.", _positive(parse_duration), group="load")
    rate: float | None = _setting(
        None, "Target request rate (req/s, constant arrival). Default: as fast as users go.", _positive(parse_float), group="load"
    )
    warmup: float = _setting(2.0, "Seconds at the start excluded from the figures.", parse_duration, group="load")
    load_processes: int = _setting(
        0,
        "locust worker processes (0: auto, as many as the local server has workers, else one per core).",
        _non_negative(parse_int),
        group="load",
    )
    batch_size: int = _setting(1, "Rows per inference request under load.", _positive(parse_int), group="load")
    load_protocol: str = _setting(
        "auto",
        "Request kinds under load: 'auto' is 'mixed' when the endpoint speaks V1 and V2, else the one it speaks.",
        choices=("auto", "v1", "v2", "mixed"),
        group="load",
    )
    slo_p50_ms: float | None = _setting(None, "SLO: p50 latency (ms).", _positive(parse_float), group="slo")
    slo_p95_ms: float | None = _setting(100.0, "SLO: p95 latency (ms).", _positive(parse_float), group="slo")
    slo_p99_ms: float | None = _setting(250.0, "SLO: p99 latency (ms).", _positive(parse_float), group="slo")
    slo_error_rate: float | None = _setting(0.001, "SLO: highest error rate (a fraction or a percentage: 0.001 or 0.1%).", parse_fraction, group="slo")
    slo_min_rps: float | None = _setting(None, "SLO: lowest throughput (req/s).", _positive(parse_float), group="slo")
    baseline: str | None = _setting(None, "report.json of an earlier run to compare with.", group="slo")
    baseline_tolerance: float = _setting(
        0.2, "Allowed regression against the baseline (20%).", parse_percent, group="slo"
    )
    # robustness -----------------------------------------------------------------------------
    robustness: bool = _setting(True, "Run the property-based robustness checks.", parse_bool, group="robustness")
    robustness_profile: str = _setting(
        "ci", "Example counts and deadlines.", choices=("ci", "nightly"), group="robustness"
    )
    robustness_severity: str = _setting(
        "fail", "Whether robustness findings fail the run or only warn.", choices=("fail", "warn"), group="robustness"
    )
    accepted_findings: str | None = _setting(
        None,
        "TOML or JSON file of known robustness findings (per category, optionally per status or protocol, "
        "each with a reason): listed as accepted in every report, they do not fail the run.",
        group="robustness",
    )
    # endpoint -------------------------------------------------------------------------------
    url: str | None = _setting(None, "Base URL of an already deployed endpoint.", group="endpoint")
    host_header: str | None = _setting(None, "Host header (KServe behind an ingress).", group="endpoint")
    header: tuple[tuple[str, str], ...] = _setting(
        (), "Extra request header NAME:VALUE (repeatable).", parse_headers, group="endpoint", secret=True
    )
    cookie: str | None = _setting(None, "Cookie for the endpoint (e.g. authservice_session=...).", group="endpoint", secret=True)
    token: str | None = _setting(None, "Bearer token for the endpoint and the KFP API.", group="endpoint", secret=True)
    token_file: str | None = _setting(None, "File holding the bearer token.", group="endpoint")
    model_artifact: str | None = _setting(
        None, "Model directory or model.joblib to check parity against.", group="endpoint"
    )
    protocol: str = _setting(
        "auto",
        "Inference protocol: 'auto' discovers what the server speaks (V1 :predict, V2 /infer) and "
        "checks over all of it; 'v1' or 'v2' uses only that one.",
        choices=("auto", "v1", "v2"),
        group="endpoint",
    )
    output_name: str | None = _setting(
        None,
        "V2 output tensor to read the predictions from. Default: the only output, else one named "
        "'predict' or 'output-0', else the first non-float output.",
        group="endpoint",
    )
    labels: tuple[str, ...] = _setting(
        (),
        "Class names in index order (e.g. setosa,versicolor,virginica), so answers given as names "
        "and as indices compare alike. Default: the model artifact's classes_, if it has names.",
        parse_labels,
        group="endpoint",
    )
    ca_cert: str | None = _setting(
        None,
        "CA bundle (PEM) that verifies an https endpoint. Default: SSL_CERT_FILE or "
        "REQUESTS_CA_BUNDLE if set, else certifi's bundle.",
        group="endpoint",
    )
    insecure: bool = _setting(
        False, "Do not verify the https endpoint's certificate (credentials go out unverified).", parse_bool, group="endpoint"
    )
    max_response_bytes: int = _setting(
        16 * 1024 * 1024,
        "Largest response body the harness reads; a longer one is cut off and reported, never buffered.",
        _positive(parse_int),
        group="endpoint",
    )
    # cluster --------------------------------------------------------------------------------
    cluster_name: str = _setting("mlharness", "Name of the kind/minikube cluster.", group="cluster")
    kubeconfig: str | None = _setting(
        None, "Kubeconfig file (kubeconfig target; kind/minikube write their own).", group="cluster"
    )
    keep_cluster: bool = _setting(False, "Do not delete a cluster this run created.", parse_bool, group="cluster")
    namespace: str | None = _setting(None, "Namespace for the run (default: one per run).", group="cluster")
    kfp_url: str | None = _setting(None, "KFP API URL (default: port-forward svc/ml-pipeline).", group="cluster")
    ingress_url: str | None = _setting(
        None, "Ingress URL for inference (default: port-forward the predictor).", group="cluster"
    )
    versions: tuple[tuple[str, str], ...] = _setting(
        (), "Override pinned versions, NAME=VERSION (kind_node, cert_manager, kserve, kfp, ...).", parse_mapping, group="cluster"
    )
    load_in_cluster: bool = _setting(
        False, "Run locust master and workers as a Job in the cluster.", parse_bool, group="cluster"
    )

    def replace(self, **changes: Any) -> HarnessConfig:
        """A copy with ``changes`` applied (parsed and validated like any source)."""
        return load_config(cli={**_explicit(self), **changes}, env={}, file=None)

    def as_dict(self) -> dict[str, Any]:
        """The settings, secrets masked: safe to write into a report."""
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value:
                value = [[k, "***"] for k, _ in value] if f.name == "header" else "***"
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            data[f.name] = value
        return data

    @property
    def token_value(self) -> str | None:
        """The bearer token from ``token`` or ``token_file``."""
        if self.token:
            return self.token
        if self.token_file:
            try:
                return Path(self.token_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the token file: {exc}", "token_file") from exc
        return None


SETTINGS: tuple[dataclasses.Field[Any], ...] = tuple(dataclasses.fields(HarnessConfig))
SETTING_NAMES = tuple(f.name for f in SETTINGS)


def _explicit(cfg: HarnessConfig) -> dict[str, Any]:
    return {f.name: getattr(cfg, f.name) for f in SETTINGS if getattr(cfg, f.name) != f.default}


def env_var(name: str) -> str:
    """The environment variable of setting ``name``: ``HARNESS_<NAME>``."""
    return ENV_PREFIX + name.upper()


def cli_flag(name: str) -> str:
    """The CLI flag of setting ``name``: ``--name-with-dashes``."""
    return "--" + name.replace("_", "-")


def pytest_flag(name: str) -> str:
    """The pytest option of setting ``name``: ``--harness-name-with-dashes``."""
    return "--harness-" + name.replace("_", "-")


def _parse(field: dataclasses.Field[Any], raw: Any, source: str) -> Any:
    if raw is None:
        return None
    parse = field.metadata["parse"]
    choices = field.metadata["choices"]
    try:
        value = parse(raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{exc} (from {source})", field.name) from None
    if choices and value not in choices:
        raise ConfigError(
            f"{value!r} is not one of {', '.join(choices)} (from {source})", field.name
        )
    return value


def _unknown(key: str, source: str) -> ConfigError:
    close = difflib.get_close_matches(key, SETTING_NAMES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown setting (from {source}){hint}", key)


def read_config_file(path: str | Path | None = None, cwd: str | Path = ".") -> tuple[dict[str, Any], str]:
    """The settings table of a config file, and where it came from.

    With no ``path``: ``harness.toml`` in ``cwd``, else ``[tool.mlharness]`` of its
    ``pyproject.toml``, else nothing. Tables in the file (``[slo]``) are flattened
    with an underscore (``slo.p95_ms`` -> ``slo_p95_ms``).
    """
    base = Path(cwd)
    if path is None:
        for candidate in (base / CONFIG_FILE, base / "pyproject.toml"):
            if candidate.exists() and not candidate.is_file():  # a directory (or a socket) by that name
                raise ConfigError(f"{str(candidate)!r} is not a file; the harness reads its settings from a file of that name", "config")
            if candidate.is_file():
                data, source = _load_toml(candidate)
                if candidate.name == "pyproject.toml":
                    data = _table(data, PYPROJECT_TABLE, source)
                    if not data:
                        continue
                return _flatten(data), source
        return {}, ""
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{str(file)!r} is a directory; give the config file (e.g. {str(file / CONFIG_FILE)!r})", "config")
    if not file.is_file():
        raise ConfigError(f"config file {str(file)!r} does not exist", "config")
    data, source = _load_toml(file)
    if file.name == "pyproject.toml":
        data = _table(data, PYPROJECT_TABLE, source)
    return _flatten(data), source


def _load_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not a UTF-8 text file (byte {exc.start} is 0x{exc.object[exc.start]:02x}); is it a TOML file?", "config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", "config") from None
    try:
        return tomllib.loads(text), str(path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "config") from None


def _table(data: Mapping[str, Any], keys: tuple[str, ...], source: str) -> dict[str, Any]:
    """The nested table ``keys`` (``[tool.mlharness]``), or an empty one; a ConfigError if it is not a table."""
    current: Any = data
    for depth, key in enumerate(keys):
        current = current.get(key, {})
        if not isinstance(current, Mapping):
            raise ConfigError(f"{'.'.join(keys[: depth + 1])} in {source} is not a table", "config")
    return dict(current)


def _flatten(data: Mapping[str, Any], table: str = "") -> dict[str, Any]:
    """Top-level keys as they are; ``[table] key`` as ``table_key`` if that is a setting, else ``key``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        key = key.replace("-", "_")
        name = f"{table}_{key}" if table and f"{table}_{key}" in SETTING_NAMES else key
        if isinstance(value, Mapping) and name not in ("header", "versions"):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def load_config(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    file: Mapping[str, Any] | None = None,
    file_source: str = "config file",
) -> HarnessConfig:
    """Merge the sources (CLI > environment > file > default) into a validated config.

    Args:
        cli: settings given as flags; ``None`` values count as not given.
        env: the environment (default ``os.environ``); only ``HARNESS_*`` keys are read.
        file: the flattened settings of a config file (see :func:`read_config_file`).
        file_source: the file's name, for error messages.

    Raises:
        ConfigError: a key is unknown or a value does not parse; the message names it.
    """
    env = os.environ if env is None else env
    fields = {f.name: f for f in SETTINGS}
    values: dict[str, Any] = {}
    for key, raw in (file or {}).items():
        if key not in fields:
            raise _unknown(key, file_source)
        values[key] = _parse(fields[key], raw, file_source)
    for name, field in fields.items():
        var = env_var(name)
        if var in env and env[var] != "":
            values[name] = _parse(field, env[var], f"environment variable {var}")
    for key, raw in (cli or {}).items():
        if raw is None:
            continue
        if key not in fields:
            raise _unknown(key, "command line")
        values[key] = _parse(fields[key], raw, f"flag {cli_flag(key)}")
    cfg = HarnessConfig(**values)
    validate(cfg)
    return cfg


def validate(cfg: HarnessConfig) -> None:
    """Cross-field rules; raise ConfigError naming the key at fault."""
    if cfg.target == "endpoint" and not cfg.url:
        raise ConfigError("the endpoint target needs --url (HARNESS_URL, or url in the config file)", "url")
    if cfg.url and not re.match(r"^https?://[^/\s]+", cfg.url):
        raise ConfigError(f"expected an http(s) URL, got {cfg.url!r}", "url")
    if cfg.load_in_cluster and cfg.target not in CLUSTER_TARGETS:
        raise ConfigError(
            f"runs locust as Jobs in the cluster, so it needs a cluster target ({', '.join(CLUSTER_TARGETS)}), "
            f"not {cfg.target}",
            "load_in_cluster",
        )
    if cfg.ca_cert and cfg.insecure:
        raise ConfigError("give either ca_cert (verify with this CA) or insecure (do not verify), not both", "insecure")
    if cfg.ca_cert and not Path(cfg.ca_cert).is_file():
        raise ConfigError(f"file {cfg.ca_cert!r} does not exist", "ca_cert")
    if cfg.token and cfg.token_file:
        raise ConfigError("give either token or token_file, not both", "token_file")
    if cfg.load and cfg.warmup >= cfg.duration:
        raise ConfigError(
            f"warm-up ({cfg.warmup:g}s) must be shorter than the load duration ({cfg.duration:g}s)",
            "warmup",
        )
    if cfg.golden_file and not Path(cfg.golden_file).is_file():
        raise ConfigError(f"file {cfg.golden_file!r} does not exist", "golden_file")
    if cfg.baseline and not Path(cfg.baseline).is_file():
        raise ConfigError(f"file {cfg.baseline!r} does not exist", "baseline")
    if cfg.accepted_findings:
        from harness.robustness.accepted import load_accepted

        load_accepted(cfg.accepted_findings)  # exists, parses, every entry has a known category and a reason
    if not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", cfg.model_name):
        raise ConfigError(
            f"{cfg.model_name!r} is not a valid model name (lower-case letters, digits and '-')",
            "model_name",
        )
