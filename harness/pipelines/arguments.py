"""The arguments a validation run passes to a pipeline, whatever runs it (kfp.local or KFP)."""

from __future__ import annotations

from pathlib import Path


def pipeline_arguments(package: Path, min_accuracy: float) -> dict[str, float]:
    """Pass ``min_accuracy`` only to pipelines that declare it."""
    import yaml

    spec = yaml.safe_load(package.read_text())
    params = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    return {"min_accuracy": min_accuracy} if "min_accuracy" in params else {}
