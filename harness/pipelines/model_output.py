"""Which output of a pipeline run is the model: found by its type, not by a task's name.

A compiled KFP v2 pipeline declares each component's output artifacts with their type; an
``Output[Model]`` compiles to ``artifactType.schemaTitle: system.Model`` (kubeflow/pipelines,
``sdk/python/kfp/dsl/types/artifact_types.py``: ``class Model(Artifact): schema_title =
'system.Model'``; the IR's ``outputDefinitions.artifacts`` in ``api/v2alpha1/pipeline_spec.proto``).
The model is the one such output among the root DAG's tasks; when a pipeline has several,
the ``model_output`` setting names it (``TASK.OUTPUT``, or ``OUTPUT`` when that is unique).
The local and the cluster targets both ask this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.errors import ConfigError

MODEL_SCHEMA = "system.Model"


def model_outputs(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(task, output) of every ``dsl.Model`` output of the root DAG's tasks, in spec order."""
    components = spec.get("components", {}) or {}
    found = []
    for task_name, task in (spec.get("root", {}).get("dag", {}).get("tasks", {}) or {}).items():
        component = components.get(task.get("componentRef", {}).get("name", ""), {}) or {}
        for output, artifact in (component.get("outputDefinitions", {}).get("artifacts", {}) or {}).items():
            if artifact.get("artifactType", {}).get("schemaTitle") == MODEL_SCHEMA:
                found.append((task_name, output))
    return found


def choose_model_output(spec: Mapping[str, Any], wanted: str | None = None) -> tuple[str, str] | None:
    """The (task, output) that is the model; None when the pipeline outputs no ``dsl.Model``.

    Raises:
        ConfigError: several models and ``wanted`` unset, or ``wanted`` names none of them
            (key ``model_output``; the message lists the candidates).
    """
    candidates = model_outputs(spec)
    names = ", ".join(f"{t}.{o}" for t, o in candidates) or "none"
    if wanted:
        task, _, output = wanted.rpartition(".")
        matches = [c for c in candidates if c[1] == output and (not task or c[0] == task)]
        if len(matches) != 1:
            problem = "matches several" if matches else "is not"
            raise ConfigError(f"{wanted!r} {problem} a dsl.Model output of the pipeline (its models: {names}); give TASK.OUTPUT",
                              "model_output")
        return matches[0]
    if len(candidates) > 1:
        raise ConfigError(f"the pipeline outputs several dsl.Model artifacts ({names}): name the one to serve with model_output",
                          "model_output")
    return candidates[0] if candidates else None
