"""Build the run's :class:`~harness.contract.ModelContract`, and hold it against the artifact.

Sources, strongest first: the ``model`` settings given explicitly (flags, environment, the
config file's ``[model]`` table), the contract file (``--contract FILE``, TOML), then what the
artifact (``n_features_in_``, ``feature_names_in_``, ``classes_``, its estimator type) and the
data file (columns, ranges, labels) show. With no contract file, no data and no model
settings, the contract is the built-in :data:`~harness.contract.IRIS`. Wherever two sources
speak of the same thing they must agree: a contradiction (13 features in the contract, 4 in
the artifact; a label in the data the contract does not know) is a
:class:`~harness.errors.ConfigError` that names both sides, raised before anything is deployed.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.config import HarnessConfig
from harness.config.settings import BY_KEY
from harness.contract import (
    CLASSIFICATION,
    IRIS,
    REGRESSION,
    TASKS,
    Feature,
    LabelledData,
    ModelContract,
    Thresholds,
)
from harness.contract.artifact import load_model
from harness.contract.data import infer_classes, infer_features, infer_task, read_data
from harness.contract.golden import GoldenCase
from harness.contract.spec import (
    NUMERIC_DTYPES,
    STRING_DTYPES,
    check_golden_case,
    check_row_types,
    check_spec,
)
from harness.errors import ConfigError
from harness.signature import DATATYPES, TensorSpec

#: keys a contract file may hold (in a ``[model]`` table or at the top level)
CONTRACT_KEYS = frozenset({
    "name", "task", "features", "feature_names", "classes", "data", "label_column", "output", "ranges", "dtypes",
    "golden", "min_accuracy", "min_recall", "max_mae", "max_rmse", "min_r2", "values", "inputs", "codec",
})
THRESHOLD_KEYS = ("min_accuracy", "min_recall", "max_mae", "max_rmse", "min_r2")
#: model settings that, given explicitly, make the contract something other than iris
SHAPING_KEYS = ("contract", "data", "task", "features", "feature_names", "classes")


def _explicit(cfg: HarnessConfig, key: str) -> Any:
    """The setting's value if it differs from its default, else None."""
    value = cfg.get(key)
    return None if value == BY_KEY[key].default else value


def read_contract_file(path: str) -> dict[str, Any]:
    """The contract table of a TOML file (``[model]`` or the top level); relative ``data`` is
    resolved against the file's folder."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the contract file {path!r}: {exc.strerror or exc}", "contract") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "contract") from None
    table = data.get("model", data)
    if not isinstance(table, Mapping):
        raise ConfigError(f"[model] in {path} is not a table", "contract")
    unknown = sorted(set(table) - CONTRACT_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown contract key(s) {unknown}; known: {', '.join(sorted(CONTRACT_KEYS))}", "contract")
    spec = check_spec(table, path)  # the same parsers and checks as the settings' flags
    if isinstance(spec.get("data"), str) and not Path(spec["data"]).is_absolute():
        spec["data"] = str(file.parent / spec["data"])
    return spec


def _label(value: Any) -> Any:
    """A class label as the data and the artifact give it: ``"1"`` from a flag is ``1``."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    if isinstance(value, float) and value == int(value):
        return int(value)
    return value


def _golden(spec: Sequence[Any], source: str, features: Sequence[Feature] = ()) -> tuple[GoldenCase, ...]:
    """The golden cases, each value checked against its feature (a string where a feature is
    numeric, a category outside its allowed values: one line, exit 2)."""
    cases = []
    for i, case in enumerate(spec):
        check_golden_case(case, i, source, "golden")
        for j, row in enumerate(case["instances"]):
            check_row_types(row, features, f"golden case {i} in {source}: instance {j}", "golden")
        rows = tuple(tuple(v if isinstance(v, str) else float(v) for v in r) for r in case["instances"])
        cases.append(GoldenCase(rows, tuple(case["predictions"]), f"{Path(source).name}#{i}"))
    return tuple(cases)


@dataclasses.dataclass(frozen=True)
class ArtifactFacts:
    """What a fitted scikit-learn model says about its inputs and outputs (None: it does not say)."""

    source: str
    task: str | None
    n_features: int | None
    feature_names: tuple[str, ...]
    classes: tuple[Any, ...]


def artifact_facts(model: Any, source: str) -> ArtifactFacts:
    """Read ``n_features_in_``, ``feature_names_in_``, ``classes_`` and the estimator type."""
    from sklearn.base import is_classifier, is_regressor

    task = CLASSIFICATION if is_classifier(model) else REGRESSION if is_regressor(model) else None
    n = getattr(model, "n_features_in_", None)
    names = getattr(model, "feature_names_in_", None)
    classes = getattr(model, "classes_", None)
    return ArtifactFacts(
        source, task, int(n) if n is not None else None,
        tuple(str(v) for v in names) if names is not None else (),
        tuple(_label(c) for c in classes) if classes is not None and task == CLASSIFICATION else (),
    )


def _agree(what: str, ours: Any, ours_from: str, theirs: Any, theirs_from: str) -> None:
    if ours is not None and theirs is not None and ours not in ((), "") and theirs not in ((), "") and ours != theirs:
        raise ConfigError(f"{what}: {ours_from} says {_show(ours)}, {theirs_from} says {_show(theirs)}", "contract")


def _show(value: Any) -> str:
    return f"{list(value)}" if isinstance(value, tuple) else repr(value) if isinstance(value, str) else str(value)


def check_against_artifact(contract: ModelContract, facts: ArtifactFacts) -> None:
    """Raise a ConfigError naming both sides where the contract and the artifact disagree."""
    side = f"the contract ({contract.source})"
    _agree("the task", contract.task, side, facts.task, f"the artifact ({facts.source})")
    _agree("the feature count", contract.n_features, side, facts.n_features, f"the artifact's n_features_in_ ({facts.source})")
    if facts.feature_names and not contract.feature_names[0].startswith("feature_"):
        _agree("the feature names", contract.feature_names, side, facts.feature_names, f"the artifact's feature_names_in_ ({facts.source})")
    if contract.is_classifier and facts.classes:
        unknown = [c for c in contract.classes if c not in facts.classes]
        if unknown:
            raise ConfigError(f"the classes: {side} names {unknown}, unknown to the artifact's classes_ {list(facts.classes)} ({facts.source})",
                              "contract")


def _check_data(contract: ModelContract, data: LabelledData) -> None:
    width = len(data.feature_names)
    _agree("the feature count", contract.n_features, f"the contract ({contract.source})", width, f"the data ({data.source})")
    if contract.is_classifier:
        unknown = sorted({v for v in data.labels if v not in contract.classes}, key=str)
        if unknown:
            raise ConfigError(f"the labels: the data ({data.source}) holds {unknown[:5]}, unknown to the contract's classes "
                              f"{list(contract.classes)} ({contract.source})", "data")
    else:
        bad = [v for v in data.labels if not isinstance(v, int | float)]
        if bad:
            raise ConfigError(f"the labels: a regression contract ({contract.source}) needs numbers, the data ({data.source}) holds {bad[:3]}", "data")
    for case in contract.golden:
        widths = {len(r) for r in case.instances}
        if widths != {contract.n_features}:
            raise ConfigError(f"golden case {case.source}: rows of {sorted(widths)} values, the contract ({contract.source}) "
                              f"has {contract.n_features} features", "contract")


def resolve_contract(cfg: HarnessConfig, model: Any = None) -> ModelContract:
    """The run's contract (see the module's docstring); ``model`` is the loaded artifact, if any.

    Raises:
        ConfigError: a file cannot be read, or two sources contradict each other (both named).
    """
    spec: dict[str, Any] = read_contract_file(cfg.model.contract) if cfg.model.contract else {}
    for key in ("data", "label_column", "task", "features", "feature_names", "classes", *THRESHOLD_KEYS):
        value = _explicit(cfg, key)
        if value is not None:
            spec[key] = list(value) if isinstance(value, tuple) else value
    artifact_source = str(cfg.endpoint.model_artifact or "the artifact")
    facts = artifact_facts(model, artifact_source) if model is not None else None
    shaped = bool(cfg.model.contract) or any(_explicit(cfg, k) is not None for k in SHAPING_KEYS)
    if not shaped:
        contract = dataclasses.replace(IRIS, thresholds=_thresholds(cfg, {}, CLASSIFICATION), output=cfg.endpoint.output_name)
        if facts is not None:  # iris's feature names are nominal: an artifact fitted on other column names is still iris
            check_against_artifact(contract, dataclasses.replace(facts, feature_names=()))
        return contract
    source = cfg.model.contract or ("inferred from " + " and ".join(
        s for s in (f"the artifact ({artifact_source})" if facts else "", f"the data ({spec['data']})" if spec.get("data") else "") if s)
        or "the model settings")
    names = tuple(str(n) for n in spec.get("feature_names", ()))
    dtypes = spec.get("dtypes", {})
    text = tuple(sorted({str(n) for n, d in dtypes.items() if d in STRING_DTYPES}
                        | {str(n) for n in spec.get("values", {}) if dtypes.get(n) not in NUMERIC_DTYPES}))
    data = read_data(str(spec["data"]), str(spec.get("label_column", "label")), names, text) if spec.get("data") else None
    task = spec.get("task") if spec.get("task") not in (None, "auto") else None
    if task is not None and task not in TASKS:
        raise ConfigError(f"task {task!r} in {source} is not one of {', '.join(TASKS)}", "task")
    task = task or (facts.task if facts else None) or (infer_task(data.labels) if data else None)
    if task is None:
        raise ConfigError(f"cannot tell whether the model classifies or regresses from {source}: set task", "task")
    features = _features(spec, data, facts, source)
    classes: tuple[Any, ...] = ()
    if task == CLASSIFICATION:
        classes = tuple(_label(c) for c in spec.get("classes", ())) or (facts.classes if facts else ()) or (
            infer_classes(data.labels) if data else ())
    declared = tuple(dataclasses.replace(f, values=tuple(spec.get("values", {}).get(f.name, ()))) for f in features)
    if data is not None:
        _check_values(declared, data, source)
    golden = _golden(spec.get("golden", []), source, declared)
    contract = ModelContract(
        name=str(spec.get("name") or Path(str(spec.get("data") or cfg.endpoint.model_artifact or "model")).stem),
        task=task, features=features, classes=classes, golden=golden, data=data,
        output=cfg.endpoint.output_name or spec.get("output"), thresholds=_thresholds(cfg, spec, task), source=source,
        inputs=_inputs(spec.get("inputs", ()), source), codec=spec.get("codec"),
    )
    if facts is not None:
        check_against_artifact(contract, facts)
    if data is not None:
        _check_data(contract, data)
    else:
        raise ConfigError(f"the contract ({source}) has no labelled data to judge the model on: give data (--data FILE)", "data")
    return contract


def _features(spec: Mapping[str, Any], data: LabelledData | None, facts: ArtifactFacts | None, source: str) -> tuple[Feature, ...]:
    """Features by name and order, with ranges: the contract's, else the data's, else the artifact's."""
    names = tuple(str(n) for n in spec.get("feature_names", ()))
    count = spec.get("features")
    if count is not None and names and count != len(names):
        raise ConfigError(f"{source}: features = {count}, but {len(names)} feature_names", "features")
    if not names and data is not None:
        names = data.feature_names
    if not names and facts is not None and facts.feature_names:
        names = facts.feature_names
    if not names:
        count = count or (facts.n_features if facts else None)
        if count is None:
            raise ConfigError(f"cannot tell the number of features from {source}: set features or feature_names", "features")
        names = tuple(f"feature_{i}" for i in range(int(count)))
    if count is not None and count != len(names):
        raise ConfigError(f"the feature count: {source} says {count}, the data ({data.source if data else '?'}) has {len(names)}", "features")
    observed = {f.name: f for f in infer_features(data)} if data is not None else {}
    ranges = spec.get("ranges", {})
    dtypes = spec.get("dtypes", {})
    allowed = spec.get("values", {})
    unknown = sorted(set(dtypes) - set(names)) or sorted(set(allowed) - set(names)) or sorted(set(ranges) - set(names))
    if unknown:
        raise ConfigError(f"{source} gives dtypes, values or ranges for {unknown}, not among the features {list(names)}", "contract")
    features = []
    for name in names:
        seen = observed.get(name, Feature(name))
        dtype = str(dtypes.get(name, "category" if name in allowed else seen.dtype))
        if dtype in NUMERIC_DTYPES and seen.is_string:
            raise ConfigError(f"feature {name!r}: {source} declares it {dtype}, the data ({data.source if data else '?'}) holds text "
                              f"such as {seen.values[0] if seen.values else '?'!r}", "dtypes")
        if dtype in NUMERIC_DTYPES and name in allowed:
            raise ConfigError(f"feature {name!r} is {dtype} in {source}: allowed values are for string or category features "
                              "(give a numeric one a range)", "values")
        if dtype in STRING_DTYPES:
            if name in ranges:
                raise ConfigError(f"feature {name!r} is {dtype} in {source}: a range is for numeric features (give allowed values)", "ranges")
            features.append(Feature(name, dtype, values=tuple(allowed.get(name, seen.values))))
            continue
        low, high = ranges.get(name, (seen.low, seen.high))
        features.append(Feature(name, dtype, low, high))
    return tuple(features)


def _check_values(features: Sequence[Feature], data: LabelledData, source: str) -> None:
    """Every text value in the data is one of its feature's allowed values (where the contract gives them)."""
    for j, feature in enumerate(features):
        if feature.is_string and feature.values:
            outside = sorted({row[j] for row in data.rows} - set(feature.values))
            if outside:
                raise ConfigError(f"feature {feature.name!r}: the data ({data.source}) holds {outside[:5]}, not among its allowed values "
                                  f"{list(feature.values)} ({source})", "values")


def _inputs(entries: Sequence[Any], source: str) -> tuple[TensorSpec, ...]:
    """The contract's ``[[model.inputs]]``: name, datatype (the Open Inference Protocol's) and shape."""
    out = []
    for entry in entries:
        datatype = str(entry["datatype"]).upper()
        if datatype not in DATATYPES:
            raise ConfigError(f"input {entry['name']!r} in {source} has datatype {entry['datatype']!r}, not one of {', '.join(DATATYPES)}",
                              "inputs")
        out.append(TensorSpec(entry["name"], datatype, tuple(entry.get("shape", ()))))
    return tuple(out)


def _thresholds(cfg: HarnessConfig, spec: Mapping[str, Any], task: str) -> Thresholds:
    """Explicit settings, else the contract file's, else the settings' defaults (for this task)."""

    def pick(key: str) -> Any:
        value = _explicit(cfg, key)
        return value if value is not None else spec.get(key, cfg.get(key))

    if task == CLASSIFICATION:
        return Thresholds(min_accuracy=pick("min_accuracy"), min_recall=pick("min_recall"))
    return Thresholds(max_mae=pick("max_mae"), max_rmse=pick("max_rmse"), min_r2=pick("min_r2"))


def hold_against_artifact(contract: ModelContract, path: str | Path) -> None:
    """Check a trained artifact (a model directory or file) against the contract; an artifact
    that cannot be loaded is left to ``deploy.compat`` and ``predict.parity`` to report.

    Raises:
        ConfigError: the artifact contradicts the contract (both sides named).
    """
    try:
        model = load_model(str(path))
    except Exception:  # noqa: BLE001 - not loadable here: the checks that load it report why
        return
    facts = artifact_facts(model, str(path))
    if contract.data is None:  # the built-in iris: its feature names are nominal
        facts = dataclasses.replace(facts, feature_names=())
    check_against_artifact(contract, facts)


def read_contract(cfg: HarnessConfig) -> ModelContract:
    """The run's contract; the ``model_artifact``, when given and loadable, is held against it."""
    model = None
    if cfg.endpoint.model_artifact:
        try:
            model = load_model(cfg.endpoint.model_artifact)
        except Exception:  # noqa: BLE001 - an unloadable artifact is predict.parity's failure to report, not the contract's
            model = None
    return resolve_contract(cfg, model)
