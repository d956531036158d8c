"""The two sides of a release diff, and whether their signatures contradict each other.

Each side is described from what is known before any inference request: its signature
(:class:`harness.signature.Signature`, resolved from the server's metadata and the settings,
:mod:`harness.contract.signature`) gives the row width and, for per-column inputs, the
feature names; a model artifact, where one is known (the local target's, ``model_artifact``,
``candidate_artifact``), gives the task, the classes, ``n_features_in_`` and
``feature_names_in_``. A part known on both sides and different is a contradiction: the diff
stops (exit 2) before any request, naming both sides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.contract.artifact import load_model
from harness.diff.records import Side
from harness.signature import COLUMNS, Signature


def describe_side(role: str, where: str, signature: Signature | None, artifact: Path | None) -> Side:
    """One side from its signature and its artifact (either may be missing)."""
    width: int | None = None
    names: tuple[str, ...] | None = None
    task: str | None = None
    classes: tuple[Any, ...] | None = None
    sources: dict[str, str] = {}
    if signature is not None:
        if signature.codec == COLUMNS:
            width, names = len(signature.inputs), tuple(t.name for t in signature.inputs)
            sources["feature_names"] = sources["width"] = signature.source("inputs")
        elif signature.input.width is not None and signature.source("inputs") != "default":
            width = signature.input.width
            sources["width"] = signature.source("inputs")
    if artifact is not None:
        model = load_model(artifact)
        where_from = f"the model artifact {artifact}"
        known = getattr(model, "n_features_in_", None)
        if known is not None and width is None:
            width, sources["width"] = int(known), where_from
        named = getattr(model, "feature_names_in_", None)
        if named is not None and names is None:
            names, sources["feature_names"] = tuple(str(n) for n in named), where_from
        found = getattr(model, "classes_", None)
        task, sources["task"] = ("classification" if found is not None else "regression"), where_from
        if found is not None:
            classes, sources["classes"] = tuple(c.item() if hasattr(c, "item") else c for c in found), where_from
    return Side(role, where, width, names, task, classes, sources)


def contradictions(live: Side, candidate: Side) -> list[str]:
    """Every part known on both sides that differs, one line each naming both sides."""
    out = []
    for part, label in (("width", "feature count"), ("feature_names", "feature names"), ("task", "task"), ("classes", "classes")):
        a, b = getattr(live, part), getattr(candidate, part)
        if a is not None and b is not None and a != b:
            show_a = list(a) if isinstance(a, tuple) else a
            show_b = list(b) if isinstance(b, tuple) else b
            out.append(f"{label}: live {live.where} has {show_a} ({live.sources.get(part, '?')}), "
                       f"candidate {candidate.where} has {show_b} ({candidate.sources.get(part, '?')})")
    return out
