"""The settings, by concern: one frozen dataclass per concern, one field per setting.

Each field carries its metadata (help, parser, choices, whether it is a secret) and its
*key*: the flat name it has as a config-file key (``users``), an environment variable
(``HARNESS_USERS``), a CLI flag (``--users``) and a pytest option (``--harness-users``). The
attribute name inside its concern may be shorter (``cfg.slo.p95_ms`` has the key
``slo_p95_ms``). :data:`SETTINGS` lists them all; every front end is generated from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from harness.config.parsers import (
    non_negative,
    parse_bool,
    parse_duration,
    parse_float,
    parse_fraction,
    parse_header_value,
    parse_headers,
    parse_int,
    parse_labels,
    parse_list,
    parse_mapping,
    parse_percent,
    parse_port,
    positive,
)
from harness.signature import DATATYPES

TARGETS = ("local", "endpoint", "kind", "minikube", "kubeconfig")
CLUSTER_TARGETS = ("kind", "minikube", "kubeconfig")


def _setting(
    default: Any,
    help: str,
    parse: Callable[[Any], Any] = str,
    *,
    key: str | None = None,
    choices: Sequence[str] | None = None,
    secret: bool = False,
) -> Any:
    """A dataclass field carrying the metadata of one setting (``key``: its flat name, if not the attribute's)."""
    meta = {"help": help, "parse": parse, "choices": choices, "secret": secret, "key": key}
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class CoreSettings:
    """What every run needs: where, what, and how long to wait."""

    target: str = _setting("local", "Where the system under test runs.", choices=TARGETS)
    report_dir: str | None = _setting(None, "Report directory. Default: reports/<timestamp>.")
    pipeline: str | None = _setting(
        None, "Pipeline to validate: FILE.py:FUNC or a compiled YAML. Default: the built-in iris pipeline."
    )
    model_name: str = _setting("sklearn-iris", "Name the model is served under.")
    golden_file: str | None = _setting(None, "JSON file of extra golden cases [{instances, predictions}].")
    ready_timeout: float = _setting(60.0, "How long to wait for the endpoint to get ready.", positive(parse_duration))
    pipeline_timeout: float = _setting(900.0, "How long a pipeline run may take.", positive(parse_duration))
    request_timeout: float = _setting(10.0, "Timeout of one inference request.", positive(parse_duration))
    compile_timeout: float = _setting(
        120.0, "How long importing and compiling a pipeline file may take (it runs in a child process).", positive(parse_duration)
    )
    diagnostics_timeout: float = _setting(
        60.0, "How long collecting diagnostics after a failed run may take (a second Ctrl-C cuts it short).", positive(parse_duration)
    )
    keep: bool = _setting(False, "Leave the deployment up after the run.", parse_bool)
    checks: tuple[str, ...] = _setting(
        (),
        "Python files or modules that register checks of your own (harness.checks.check), run after the built-in "
        "ones of their group. Installed packages can also register them through the 'mlharness.checks' entry point.",
        parse_list,
    )
    state_dir: str = _setting(".mlharness", "Where cluster state (kubeconfigs, markers) is kept.")


@dataclasses.dataclass(frozen=True)
class LocalSettings:
    """The local target's model server and pipeline runner."""

    port: int = _setting(0, "Port of the local model server (0: a free one).", parse_port)
    server_workers: int = _setting(1, "Worker processes of the local model server.", positive(parse_int))
    server_log_requests: bool = _setting(
        False, "Let the local model server log every request (costs ~25% of its CPU).", parse_bool
    )
    server_grpc: bool = _setting(
        True, "Let the local model server serve V2 gRPC too, on its own free port of 127.0.0.1.", parse_bool
    )
    pipeline_isolation: str = _setting(
        "check",
        "How the local target runs pipeline tasks: 'check' that the harness's environment "
        "satisfies packages_to_install, then run each task as a fork of a warm interpreter; "
        "'subprocess': the same check, each task a fresh python as kfp.local starts it; "
        "'venv': kfp.local's fresh venv per task (slow).",
        choices=("check", "subprocess", "venv"),
    )


@dataclasses.dataclass(frozen=True)
class LoadSettings:
    """The load window and its generator."""

    enabled: bool = _setting(True, "Drive load with locust after verification.", parse_bool, key="load")
    users: int = _setting(8, "Concurrent locust users.", positive(parse_int))
    spawn_rate: float = _setting(50.0, "Users started per second.", positive(parse_float))
    duration: float = _setting(30.0, "Load window, warm-up included.", positive(parse_duration))
    rate: float | None = _setting(
        None, "Target request rate (req/s, constant arrival). Default: as fast as users go.", positive(parse_float)
    )
    warmup: float = _setting(2.0, "Seconds at the start excluded from the figures.", parse_duration)
    processes: int = _setting(
        0,
        "locust worker processes (0: auto, as many as the local server has workers, else one per core).",
        non_negative(parse_int),
        key="load_processes",
    )
    batch_size: int = _setting(1, "Rows per inference request under load.", positive(parse_int))
    protocol: str = _setting(
        "auto",
        "Request kinds under load: 'auto' is 'mixed' when the endpoint speaks V1 and V2, else the one it speaks "
        "(V2 gRPC only when asked for: 'grpc').",
        choices=("auto", "v1", "v2", "mixed", "grpc"),
        key="load_protocol",
    )


@dataclasses.dataclass(frozen=True)
class SloSettings:
    """The gates on the load figures, and the baseline they are compared with."""

    p50_ms: float | None = _setting(None, "SLO: p50 latency (ms).", positive(parse_float), key="slo_p50_ms")
    p95_ms: float | None = _setting(100.0, "SLO: p95 latency (ms).", positive(parse_float), key="slo_p95_ms")
    p99_ms: float | None = _setting(250.0, "SLO: p99 latency (ms).", positive(parse_float), key="slo_p99_ms")
    error_rate: float | None = _setting(
        0.001, "SLO: highest error rate (a fraction or a percentage: 0.001 or 0.1%).", parse_fraction, key="slo_error_rate"
    )
    min_rps: float | None = _setting(None, "SLO: lowest throughput (req/s).", positive(parse_float), key="slo_min_rps")
    baseline: str | None = _setting(None, "report.json of an earlier run to compare with.")
    baseline_tolerance: float = _setting(0.2, "Allowed regression against the baseline (20%).", parse_percent)
    allow_different: bool = _setting(
        False, "Compare with a baseline of another model, URL or model signature (refused otherwise).", parse_bool,
        key="baseline_allow_different",
    )


@dataclasses.dataclass(frozen=True)
class RobustnessSettings:
    """The property-based robustness checks."""

    enabled: bool = _setting(True, "Run the property-based robustness checks.", parse_bool, key="robustness")
    profile: str = _setting("ci", "Example counts and deadlines.", choices=("ci", "nightly"), key="robustness_profile")
    severity: str = _setting(
        "fail", "Whether robustness findings fail the run or only warn.", choices=("fail", "warn"), key="robustness_severity"
    )
    accepted_findings: str | None = _setting(
        None,
        "TOML or JSON file of known robustness findings (per category, optionally per status or protocol, "
        "each with a reason): listed as accepted in every report, they do not fail the run.",
    )


@dataclasses.dataclass(frozen=True)
class EndpointSettings:
    """How the model is reached and read: URL, auth, protocol, outputs, TLS."""

    url: str | None = _setting(None, "Base URL of an already deployed endpoint.")
    grpc_url: str | None = _setting(
        None,
        "V2 gRPC address of the endpoint: host:port or grpc://host:port (plaintext), grpcs://host:port (TLS). "
        "Given, gRPC must answer ready too, and every check runs over it as well.",
    )
    host_header: str | None = _setting(None, "Host header (KServe behind an ingress).", parse_header_value)
    header: tuple[tuple[str, str], ...] = _setting((), "Extra request header NAME:VALUE (repeatable).", parse_headers, secret=True)
    cookie: str | None = _setting(None, "Cookie for the endpoint (e.g. authservice_session=...).", parse_header_value, secret=True)
    token: str | None = _setting(None, "Bearer token for the endpoint and the KFP API.", parse_header_value, secret=True)
    token_file: str | None = _setting(None, "File holding the bearer token.")
    model_artifact: str | None = _setting(None, "Model directory or model.joblib to check parity against.")
    protocol: str = _setting(
        "auto",
        "Inference protocol: 'auto' discovers what the server speaks (V1 :predict, V2 /infer, V2 gRPC "
        "where there is a gRPC address) and checks over all of it; 'v1', 'v2' or 'grpc' uses only that one.",
        choices=("auto", "v1", "v2", "grpc"),
    )
    output_name: str | None = _setting(
        None,
        "V2 output tensor to read the predictions from. Default: the only output, else one named "
        "'predict' or 'output-0', else the first non-float output.",
    )
    input_name: str | None = _setting(
        None,
        "V2/gRPC input tensor the requests carry. Default: the server's metadata (GET /v2/models/NAME, gRPC "
        "ModelMetadata), else the harness's default (harness.signature).",
    )
    input_datatype: str | None = _setting(
        None,
        "V2/gRPC datatype of that input. Default: the server's metadata, else the harness's default (harness.signature).",
        choices=DATATYPES,
    )
    input_codec: str = _setting(
        "auto",
        "How a V2/gRPC request carries the rows: 'tensor' (one [N, F] input) or 'columns' (one input per feature, the "
        "pandas content type, strings as BYTES). 'auto': the contract's codec or [[model.inputs]], else the server's "
        "metadata, else 'columns' when a feature is text.",
        choices=("auto", "tensor", "columns"),
    )
    model_version: str | None = _setting(None, "Model version the V2 requests name (/v2/models/NAME/versions/V). Default: the server's choice.")
    labels: tuple[str, ...] = _setting(
        (),
        "Class names in index order (e.g. setosa,versicolor,virginica), so answers given as names "
        "and as indices compare alike. Default: the model artifact's classes_, if it has names.",
        parse_labels,
    )
    ca_cert: str | None = _setting(
        None,
        "CA bundle (PEM) that verifies an https endpoint. Default: SSL_CERT_FILE or "
        "REQUESTS_CA_BUNDLE if set, else certifi's bundle.",
    )
    insecure: bool = _setting(False, "Do not verify the https endpoint's certificate (credentials go out unverified).", parse_bool)
    max_response_bytes: int = _setting(
        16 * 1024 * 1024,
        "Largest response body the harness reads; a longer one is cut off and reported, never buffered.",
        positive(parse_int),
    )


@dataclasses.dataclass(frozen=True)
class ClusterSettings:
    """The kind, minikube and kubeconfig targets."""

    name: str = _setting("mlharness", "Name of the kind/minikube cluster.", key="cluster_name")
    kubeconfig: str | None = _setting(None, "Kubeconfig file (kubeconfig target; kind/minikube write their own).")
    keep: bool = _setting(False, "Do not delete a cluster this run created.", parse_bool, key="keep_cluster")
    namespace: str | None = _setting(None, "Namespace for the run (default: one per run).")
    kfp_url: str | None = _setting(None, "KFP API URL (default: port-forward svc/ml-pipeline).")
    ingress_url: str | None = _setting(None, "Ingress URL for inference (default: port-forward the predictor).")
    versions: tuple[tuple[str, str], ...] = _setting(
        (), "Override pinned versions, NAME=VERSION (kind_node, cert_manager, kserve, kfp, ...).", parse_mapping
    )
    load_in_cluster: bool = _setting(False, "Run locust master and workers as a Job in the cluster.", parse_bool)


@dataclasses.dataclass(frozen=True)
class ModelSettings:
    """The model contract: what the model takes and returns, the data it is judged on, and the
    quality it must reach (see docs/contract.md). Unset, the built-in iris contract applies.

    Every quality threshold lives here (``min_accuracy``, ``min_recall``, ``max_mae``,
    ``max_rmse``, ``min_r2``), as it does in a contract file; the gates on load figures are
    :class:`SloSettings` (with ``slo_capacity_rps`` and ``slo_rss_growth`` beside the
    capacity search and the resource sampling they judge)."""

    contract: str | None = _setting(
        None, "Contract file (TOML): features, task, classes, data, golden cases, thresholds. Default: built-in iris, or inferred."
    )
    data: str | None = _setting(None, "Labelled data to judge the model on: CSV, JSON lines or Parquet, with a label column.")
    label_column: str = _setting("label", "Column of the data file that holds the label.")
    task: str = _setting(
        "auto", "What the model does: 'auto' reads it from the contract, the artifact or the data.",
        choices=("auto", "classification", "regression"),
    )
    features: int | None = _setting(None, "Number of input features. Default: from the contract, the artifact or the data.", positive(parse_int))
    feature_names: tuple[str, ...] = _setting((), "Input feature names, in order. Default: from the contract, the artifact or the data.", parse_list)
    classes: tuple[str, ...] = _setting((), "Class labels the classifier answers. Default: from the contract, the artifact or the data.", parse_list)
    model_output: str | None = _setting(
        None, "Which output artifact of type dsl.Model is the model, TASK.OUTPUT or OUTPUT, when a pipeline outputs several."
    )
    min_accuracy: float = _setting(0.9, "Accuracy the trained and the served model must reach (0.9 or 90%).", parse_fraction)
    min_recall: float | None = _setting(None, "Lowest per-class recall a classifier may have (0.8 or 80%).", parse_fraction)
    max_mae: float | None = _setting(None, "Regression: highest mean absolute error on the data.", non_negative(parse_float))
    max_rmse: float | None = _setting(None, "Regression: highest root-mean-square error on the data.", non_negative(parse_float))
    min_r2: float | None = _setting(0.0, "Regression: lowest R² on the data (0: no better than the mean).", parse_float)
    parity_tolerance: float = _setting(
        1e-6, "A regressor's answers agree (parity, golden, V1 vs V2) when they differ by at most this, times max(1, the expected value).",
        non_negative(parse_float),
    )


@dataclasses.dataclass(frozen=True)
class CapacitySettings:
    """The capacity search: the highest constant request rate that holds the SLO gates."""

    enabled: bool = _setting(
        False, "Search the capacity at SLO after the load window (mlharness run; 'mlharness capacity' always does).",
        parse_bool, key="capacity",
    )
    step: float = _setting(
        6.0, "Measured length of one constant-rate step of the capacity search (after a warm-up of about a second).",
        positive(parse_duration), key="capacity_step",
    )
    budget: float = _setting(
        100.0, "Longest the whole capacity search may take (probe and generator start-up included).",
        positive(parse_duration), key="capacity_budget",
    )
    max_steps: int = _setting(12, "Most constant-rate steps the capacity search runs.", positive(parse_int), key="capacity_max_steps")
    start_rps: float | None = _setting(
        None, "First rate the capacity search offers (req/s). Default: half the throughput of a short closed-loop probe.",
        positive(parse_float), key="capacity_start_rps",
    )
    probe: float = _setting(
        4.0, "Length of the closed-loop probe that picks the first rate.", positive(parse_duration), key="capacity_probe"
    )
    precision: float = _setting(
        0.05, "The bisection stops when the holding and the breaking rate are this close (5%).", parse_percent,
        key="capacity_precision",
    )
    max_users: int = _setting(
        256, "Most connections one capacity step spreads its schedule over.", positive(parse_int), key="capacity_max_users"
    )
    min_rps: float | None = _setting(
        None, "SLO: lowest capacity at SLO (req/s) the slo.capacity_rps gate accepts.", positive(parse_float), key="slo_capacity_rps"
    )


@dataclasses.dataclass(frozen=True)
class ResourceSettings:
    """Server CPU and memory sampled under load, and the soak gate on memory growth."""

    sample: bool = _setting(
        True, "Sample the server's CPU and RSS once a second during the load window, where the target can.",
        parse_bool, key="server_resources",
    )
    rss_growth: float | None = _setting(
        None, "SLO: largest RSS growth of the server under load (MB per minute, least-squares slope after the warm-up).",
        non_negative(parse_float), key="slo_rss_growth",
    )


@dataclasses.dataclass(frozen=True)
class DiffSettings:
    """The release diff (``mlharness diff``): the candidate beside the live model, and the change
    thresholds it is judged by (each with its direction, as TensorFlow Model Analysis's change
    thresholds). The live side is the run's endpoint; an endpoint setting the candidate does not
    override applies to both sides. See docs/diff.md."""

    candidate_url: str | None = _setting(None, "Base URL of the candidate endpoint (the endpoint target's live side is --url).")
    candidate_grpc_url: str | None = _setting(
        None, "V2 gRPC address of the candidate endpoint (as grpc_url); given, it must answer ready and the diff compares over it too.",
    )
    candidate_model_name: str | None = _setting(None, "Name the candidate is served under. Default: the live model's (model_name).")
    candidate_artifact: str | None = _setting(
        None, "Local target: a model directory or model.joblib served as the candidate by a second local model server.",
    )
    candidate_pipeline: str | None = _setting(
        None, "Local target: a pipeline FILE.py[:FUNC] (or a compiled package) trained with kfp.local; its model is the candidate, "
        "served as candidate_artifact is.",
    )
    candidate_host_header: str | None = _setting(None, "Host header of the candidate's requests. Default: host_header.", parse_header_value)
    candidate_header: tuple[tuple[str, str], ...] = _setting(
        (), "Extra header NAME:VALUE of the candidate's requests (repeatable). Default: header.", parse_headers, secret=True,
    )
    candidate_cookie: str | None = _setting(None, "Cookie of the candidate's requests. Default: cookie.", parse_header_value, secret=True)
    candidate_token: str | None = _setting(None, "Bearer token of the candidate's requests. Default: token.", parse_header_value, secret=True)
    candidate_ca_cert: str | None = _setting(None, "CA bundle (PEM) that verifies an https candidate. Default: ca_cert.")
    max_disagreement: float = _setting(
        0.0, "Highest fraction of compared rows on which the candidate may answer otherwise than the live model (0 or 0%).",
        parse_fraction,
    )
    max_quality_drop: float = _setting(
        0.01, "Largest drop of quality on the labelled data: accuracy (absolute, 0.01), or a regressor's MAE and RMSE increase "
        "(absolute, in the label's unit).", non_negative(parse_float),
    )
    max_latency_increase: float = _setting(
        0.2, "Largest relative increase of p50, p95 and p99 latency (20%); a regression also needs a significant "
        "Mann-Whitney U test.", parse_percent,
    )
    max_error_rate_increase: float = _setting(
        0.001, "Largest increase of the error rate in the latency windows (a fraction or a percentage: 0.001 or 0.1%).",
        parse_fraction,
    )
    rows: int = _setting(
        200, "Generated rows (hypothesis, within the feature schema) sent to both sides beside the labelled data.",
        non_negative(parse_int), key="diff_rows",
    )
    shown: int = _setting(20, "Disagreeing rows listed in the report.", positive(parse_int), key="diff_shown")
    windows: int = _setting(5, "Latency windows per side, interleaved in pairs of alternating order: live, candidate, candidate, live, ...", positive(parse_int), key="diff_windows")
    window: float = _setting(1.0, "Length of one latency window.", positive(parse_duration), key="diff_window")
    alpha: float = _setting(
        0.01, "Significance level of the one-sided Mann-Whitney U test on latency.", parse_fraction, key="diff_alpha",
    )


#: the concerns, in the order --help and the docs list them: (attribute of HarnessConfig, class)
CONCERNS: tuple[tuple[str, type], ...] = (
    ("core", CoreSettings),
    ("local", LocalSettings),
    ("load", LoadSettings),
    ("slo", SloSettings),
    ("robustness", RobustnessSettings),
    ("endpoint", EndpointSettings),
    ("cluster", ClusterSettings),
    ("model", ModelSettings),
    ("capacity", CapacitySettings),
    ("resources", ResourceSettings),
    ("diff", DiffSettings),
)

CONCERN_CLASSES: dict[str, Any] = dict(CONCERNS)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting: its flat key, its concern, its attribute there, and its dataclass field."""

    key: str
    group: str
    attr: str
    field: dataclasses.Field[Any]

    @property
    def help(self) -> str:
        return str(self.field.metadata["help"])

    @property
    def parse(self) -> Callable[[Any], Any]:
        parse: Callable[[Any], Any] = self.field.metadata["parse"]
        return parse

    @property
    def choices(self) -> Sequence[str] | None:
        choices: Sequence[str] | None = self.field.metadata["choices"]
        return choices

    @property
    def secret(self) -> bool:
        return bool(self.field.metadata["secret"])

    @property
    def default(self) -> Any:
        return self.field.default

    @property
    def is_bool(self) -> bool:
        return self.parse is parse_bool

    @property
    def repeatable(self) -> bool:
        return self.key in ("header", "candidate_header")


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.metadata["key"] or f.name, group, f.name, f) for group, cls in CONCERNS for f in dataclasses.fields(cls)
)
BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
SETTING_NAMES: tuple[str, ...] = tuple(BY_KEY)
