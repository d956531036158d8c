"""The signature as part of the model contract: resolved from its sources, strongest first.

1. explicit settings (``--input-name``, ``--input-datatype``, ``--input-codec``, ``--model-version``)
   and the contract's ``[[model.inputs]]`` and ``codec``;
2. the server's own metadata: the Open Inference Protocol's ``GET /v2/models/{name}[/versions/{v}]``
   (else gRPC ``ModelMetadata``), and Triton's ``GET /v2/models/{name}/config`` for
   ``max_batch_size`` where it answers;
3. the contract (its features: the row width; from the contract file, the artifact's
   ``n_features_in_``/``feature_names_in_`` or the data): a contract with a text feature is a
   per-column model, one input per feature named after it (``BYTES`` for text, ``INT64``/``FP64``
   for numbers, as the data or the contract's ``dtypes`` type them), sent with the pandas
   content type, as MLServer's and KServe's pandas codecs read it;
4. today's default (one ``[N, F]`` FP32 tensor ``input-0``: :func:`harness.signature.default_signature`).

A contradiction between two sources (the metadata says 30 features per row, the contract has
29; the metadata says FP32, ``--input-datatype`` says BYTES) is a :class:`~harness.errors.ConfigError`
(exit 2) naming both sides, raised before any inference request. The resolved signature says
where each part came from (``sources``), and the report shows it with the endpoint.

Example:
    >>> sig = from_metadata({"inputs": [{"name": "input__0", "datatype": "INT64", "shape": [-1, 30]}]}, 30, "metadata", "contract")
    >>> sig.input.name, sig.source("inputs")
    ('input__0', 'metadata')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from harness.errors import ConfigError, InferenceError
from harness.inference.client import InferenceClient
from harness.inference.encoder import Encoder
from harness.signature import (
    COLUMNS,
    DATATYPES,
    DEFAULT_SOURCE,
    TENSOR,
    Signature,
    TensorSpec,
    column_input,
    default_signature,
)

EXPLICIT = "explicit setting"


@dataclasses.dataclass(frozen=True)
class Explicit:
    """What the user said (None: not said)."""

    input_name: str | None = None
    datatype: str | None = None
    version: str | None = None
    codec: str | None = None

    @classmethod
    def from_config(cls, cfg: Any) -> Explicit:
        endpoint = cfg.endpoint
        codec = endpoint.input_codec if endpoint.input_codec != "auto" else None
        return cls(endpoint.input_name, endpoint.input_datatype, endpoint.model_version, codec)


def from_contract(contract: Any, codec: str | None) -> Signature | None:
    """The signature the contract gives: its ``[[model.inputs]]``, else one input per feature when
    ``codec`` (explicit, the contract's, or automatic: a text feature) is ``columns``; None: no opinion."""
    where = f"the contract ({contract.source})"
    if contract.inputs:
        inputs = tuple(contract.inputs)
        chosen = codec or (COLUMNS if len(inputs) > 1 else TENSOR)
        if chosen == COLUMNS and len(inputs) != contract.n_features:
            raise ConfigError(f"{where}: {len(inputs)} [[model.inputs]] for {contract.n_features} features: "
                              "a per-column model takes one input per feature")
        return Signature(inputs, (), chosen, sources={"inputs": f"{where}'s [[model.inputs]]", "datatype": f"{where}'s [[model.inputs]]",
                                                      "codec": where if contract.codec else ("explicit setting" if codec else DEFAULT_SOURCE)})
    if codec == TENSOR and contract.has_strings:
        raise ConfigError(f"--input-codec tensor: {where} has text features {[f.name for f in contract.features if f.is_string]}; "
                          "a tensor holds one datatype: use --input-codec columns")
    if (codec or (COLUMNS if contract.has_strings else None)) != COLUMNS:
        return None
    inputs = tuple(column_input(f.name, 'string' if f.is_string else f.dtype) for f in contract.features)
    why = "a text feature" if contract.has_strings and codec is None else "the codec"
    return Signature(inputs, (), COLUMNS, sources={"inputs": f"{where}'s features ({why})", "datatype": f"{where}'s dtypes",
                                                   "codec": f"{where}'s features" if codec is None else "explicit setting"})


def _agree_inputs(ours: Signature, published: Signature) -> None:
    """The contract's inputs and the server's must name the same inputs with the same datatypes."""
    theirs = {t.name: t.datatype for t in published.inputs}
    mine = {t.name: t.datatype for t in ours.inputs}
    if ours.source("inputs").endswith("[[model.inputs]]") and mine != theirs:
        raise ConfigError(f"the inputs: {ours.source('inputs')} says {mine}, {published.source('inputs')} says {theirs}")
    if ours.codec != published.codec:
        raise ConfigError(f"the request codec: {ours.source('codec')} says {ours.codec}, {published.source('inputs')} publishes "
                          f"{len(published.inputs)} input(s) ({published.codec})")


def _specs(entries: Any, what: str, where: str) -> tuple[TensorSpec, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: '{what}' is not a list of tensors: {str(entries)[:200]}")
    out = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("datatype"), str):
            raise ConfigError(f"{where}: an entry of '{what}' has no name or datatype: {str(entry)[:200]}")
        shape = entry.get("shape") or []
        if not isinstance(shape, list) or not all(isinstance(d, int) for d in shape):
            raise ConfigError(f"{where}: {what} {entry['name']!r} has a shape that is not a list of integers: {shape!r}")
        datatype = entry["datatype"].upper()
        if datatype not in DATATYPES:
            raise ConfigError(f"{where}: {what} {entry['name']!r} has datatype {entry['datatype']!r}, not one of the "
                              f"Open Inference Protocol's ({', '.join(DATATYPES)})")
        out.append(TensorSpec(entry["name"], datatype, tuple(shape)))
    return tuple(out)


def from_metadata(metadata: Mapping[str, Any], width: int, where: str, width_from: str,
                  feature_names: Sequence[str] = ()) -> Signature | None:
    """The signature the server's metadata publishes (None: it publishes no inputs).

    Raises:
        ConfigError: the metadata contradicts the contract's ``width`` (from ``width_from``).
    """
    inputs = _specs(metadata.get("inputs"), "inputs", where)
    outputs = _specs(metadata.get("outputs"), "outputs", where)
    if not inputs:
        return None
    sources = {"inputs": where, "datatype": where, "outputs": where if outputs else DEFAULT_SOURCE}
    parameters = metadata.get("parameters")
    pandas = isinstance(parameters, Mapping) and parameters.get("content_type") == "pd"
    if pandas:  # MLServer publishes its model-settings' content type (mlserver/model.py ``metadata``, 1.7.1)
        sources["codec"] = where
    if len(inputs) == 1 and not pandas:
        spec = inputs[0]
        if spec.width is not None and spec.width != width:
            raise ConfigError(f"{where} says input {spec.name!r} takes {spec.width} values per row (shape {list(spec.shape)}); "
                              f"{width_from} has {width} features: give the model's own data or contract")
        return Signature(inputs, outputs, TENSOR, sources=sources)
    if len(inputs) != width:
        raise ConfigError(f"{where} lists {len(inputs)} inputs ({', '.join(t.name for t in inputs)}); {width_from} has "
                          f"{width} features: a per-column model takes one input per feature")
    named = [n for n in feature_names if not n.startswith("feature_")]  # feature_0...: the contract knows no names
    if named and set(named) != {t.name for t in inputs}:
        raise ConfigError(f"{where} lists inputs {sorted(t.name for t in inputs)}; {width_from} has features {sorted(named)}: "
                          "a per-column model's inputs are named after its features")
    if feature_names and set(feature_names) == {t.name for t in inputs}:  # the contract's column order
        by_name = {t.name: t for t in inputs}
        inputs = tuple(by_name[n] for n in feature_names)
    return Signature(inputs, outputs, COLUMNS, sources=sources)


def apply_explicit(signature: Signature, explicit: Explicit) -> Signature:
    """The explicit settings over ``signature``.

    Raises:
        ConfigError: a setting contradicts what the server published.
    """
    first = signature.input
    sources: dict[str, str] = {}
    published = signature.source("inputs") != DEFAULT_SOURCE
    if explicit.input_name and explicit.input_name != first.name:
        if published and signature.codec == TENSOR:
            raise ConfigError(f"--input-name {explicit.input_name!r} contradicts {signature.source('inputs')}: its input is {first.name!r}")
        first = dataclasses.replace(first, name=explicit.input_name)
        sources["inputs"] = EXPLICIT
    if explicit.datatype and explicit.datatype != first.datatype:
        if published:
            raise ConfigError(f"--input-datatype {explicit.datatype} contradicts {signature.source('datatype')}: "
                              f"input {first.name!r} is {first.datatype}")
        first = dataclasses.replace(first, datatype=explicit.datatype)
    if explicit.datatype:
        sources["datatype"] = EXPLICIT if not published else f"{signature.source('datatype')} and {EXPLICIT}"
    out = dataclasses.replace(signature, inputs=(first, *signature.inputs[1:]))
    if explicit.version:
        out = dataclasses.replace(out, version=explicit.version)
        sources["version"] = EXPLICIT
    return out.with_sources(sources)


def read_metadata(client: InferenceClient, protocols: Sequence[str], version: str | None) -> tuple[dict[str, Any] | None, str, str]:
    """(the server's metadata or None, where it came from or why there is none, Triton's config path or "")."""
    name = client.endpoint.model_name
    if "v2" in protocols:
        path = Encoder.model_path(name, version)
        try:
            return client.metadata(version), f"the server's metadata (GET {path})", path + "/config"
        except InferenceError as exc:
            return None, f"no metadata (GET {path}: {exc})", ""
    if "grpc" in protocols:
        try:
            return client.grpc.model_metadata(version), "the server's metadata (gRPC ModelMetadata)", ""
        except InferenceError as exc:
            return None, f"no metadata (gRPC ModelMetadata: {exc})", ""
    return None, "no metadata (V1 publishes no signature)", ""


def max_batch_size(client: InferenceClient, config_path: str, version: str | None) -> tuple[int | None, str]:
    """Triton's ``max_batch_size`` (``GET /v2/models/NAME/config``; None where the server has no such path or says 0)."""
    if not config_path:
        return None, DEFAULT_SOURCE
    try:
        config = client.metadata(version, "/config")
    except InferenceError:
        return None, DEFAULT_SOURCE
    value = config.get("max_batch_size")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, f"the server's model configuration (GET {config_path})"
    return None, DEFAULT_SOURCE


def resolve_signature(contract: Any, client: InferenceClient, protocols: Sequence[str], explicit: Explicit = Explicit()) -> Signature:
    """The signature of the model ``client`` speaks to, from every source (see the module).

    Args:
        contract: the :class:`~harness.contract.ModelContract` (its features: the row width).
        client: a client of the ready endpoint (only metadata is asked; no inference request).
        protocols: what the endpoint speaks (``v2``: REST metadata; ``grpc``: ``ModelMetadata``).
        explicit: the user's settings.

    Raises:
        ConfigError: two sources contradict each other, or the metadata is not a signature.
    """
    width = contract.n_features
    width_from = f"the contract ({contract.source})"
    metadata, where, config_path = read_metadata(client, protocols, explicit.version)
    published = from_metadata(metadata, width, where, width_from, contract.feature_names) if metadata is not None else None
    ours = from_contract(contract, explicit.codec or getattr(contract, "codec", None))
    if published is not None and ours is not None:
        _agree_inputs(ours, published)
    if published is None:
        why = where if metadata is None else f"{where} lists no inputs"
        signature = (ours or default_signature(width)).with_sources({"metadata": why, "width": width_from})
    else:
        if explicit.codec and explicit.codec != published.codec:
            raise ConfigError(f"--input-codec {explicit.codec} contradicts {where}: it publishes {len(published.inputs)} input(s) ({published.codec})")
        signature = published.with_sources({"width": width_from})
    size, size_from = max_batch_size(client, config_path, explicit.version)
    if size is not None:
        signature = dataclasses.replace(signature, max_batch_size=size).with_sources({"max_batch_size": size_from})
    return apply_explicit(signature, explicit)


def describe(signature: Signature) -> str:
    """One line for progress and check messages: ``input 'input__0' FP32 [-1, 30] (from the server's metadata ...)``."""
    if signature.codec == COLUMNS:
        head = f"{len(signature.inputs)} per-column inputs ({', '.join(f'{t.name} {t.datatype}' for t in signature.inputs[:6])}"
        head += ", ...)" if len(signature.inputs) > 6 else ")"
    else:
        head = f"input {signature.input.name!r} {signature.input.datatype} {list(signature.input.shape)}"
    extra = f", max batch {signature.max_batch_size}" if signature.max_batch_size else ""
    return f"{head}{extra} (from {signature.source('inputs')})"
