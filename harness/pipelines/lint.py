"""Lint a pipeline: its Python source (KFP 1.8 leftovers) and its compiled IR spec.

Findings carry a severity; any ``error`` fails the ``pipeline.lint`` check.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One lint finding: which rule, how bad, what to change, where."""

    rule: str
    severity: Severity
    message: str
    location: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity.value, "message": self.message, "location": self.location}

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity.value}: {self.message} [{self.rule}]"


# pip names that no longer install (or install something else), and what to ask for instead
DEPRECATED_PACKAGES = {
    "sklearn": "scikit-learn",
    "tensorflow-gpu": "tensorflow",
    "kfp-server-api": "kfp",
}
IRIS_FEATURES = ("sepal length", "sepal width", "petal length", "petal width")
_PIP_INSTALL = re.compile(r"-m pip install ([^&\n]*)")
_VERSION_TAG = re.compile(r"^v?\d+\.\d+\.\d+")


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


# --- source ---------------------------------------------------------------------------------
def lint_source(text: str, filename: str = "<pipeline>") -> list[Finding]:
    """Findings in a pipeline's Python source that keep it from running on KFP 2."""
    try:
        tree = ast.parse(text, filename)
    except SyntaxError as exc:
        return [Finding("syntax", Severity.ERROR, f"not valid Python: {exc.msg}", f"{filename}:{exc.lineno}")]
    findings: list[Finding] = []
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kfp.v2"):
            findings.append(Finding(
                "kfp-v2-namespace", Severity.ERROR,
                f"'{node.module}' does not exist in KFP 2: import from '{node.module.replace('kfp.v2', 'kfp', 1)}'",
                where,
            ))
        elif isinstance(node, ast.Import) and any(a.name.startswith("kfp.v2") for a in node.names):
            findings.append(Finding("kfp-v2-namespace", Severity.ERROR, "'kfp.v2' does not exist in KFP 2: import 'kfp.dsl'", where))
        elif isinstance(node, ast.Attribute) and node.attr in ("V2_COMPATIBLE", "PipelineExecutionMode"):
            if node.attr == "V2_COMPATIBLE":
                findings.append(Finding(
                    "v2-compatible-mode", Severity.ERROR,
                    "PipelineExecutionMode.V2_COMPATIBLE was removed in KFP 2: call "
                    "kfp.compiler.Compiler().compile(pipeline_func=..., package_path=...) without a mode",
                    where,
                ))
        elif isinstance(node, ast.Attribute) and node.attr == "ContainerOp":
            findings.append(Finding("container-op", Severity.ERROR, "dsl.ContainerOp was removed in KFP 2: use @dsl.container_component", where))
        elif isinstance(node, ast.keyword) and node.arg == "packages_to_install":
            for elt in getattr(node.value, "elts", []):
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    findings.extend(_lint_requirement(elt.value, f"{filename}:{elt.lineno}"))
        elif isinstance(node, ast.List | ast.Tuple):
            findings.extend(_lint_iris_columns(node, where))
    return sorted(set(findings), key=_line_order)


def _line_order(finding: Finding) -> tuple[int, str]:
    _, _, line = finding.location.rpartition(":")
    return (int(line) if line.isdigit() else 0, finding.rule)


def _lint_iris_columns(node: ast.List | ast.Tuple, where: str) -> Iterator[Finding]:
    names = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if len(names) != 4 or len(node.elts) != 4:
        return
    normal = [re.sub(r"[\s_]+", " ", n.lower().replace("(cm)", "")).strip() for n in names]
    if sorted(normal) == sorted(IRIS_FEATURES) and tuple(normal) != IRIS_FEATURES:
        yield Finding(
            "iris-column-order", Severity.ERROR,
            f"iris columns labelled {names}, but load_iris() orders its features "
            f"{list(IRIS_FEATURES)}: use dataset.feature_names",
            where,
        )


def _lint_requirement(text: str, where: str) -> list[Finding]:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        if text.startswith(("git+", "http://", "https://", "-")):
            return [Finding("unpinned-package", Severity.WARNING, f"'{text}' is not a pinned release: pin a version", where)]
        return [Finding("invalid-package", Severity.ERROR, f"'{text}' is not a valid pip requirement", where)]
    name = req.name.lower().replace("_", "-")
    if name in DEPRECATED_PACKAGES:
        return [Finding(
            "deprecated-package", Severity.ERROR,
            f"pip package '{req.name}' is deprecated and no longer installs: ask for "
            f"'{DEPRECATED_PACKAGES[name]}' (with a pinned version)",
            where,
        )]
    pinned = any(s.operator in ("==", "===") and "*" not in s.version for s in req.specifier)
    if not pinned:
        return [Finding(
            "unpinned-package", Severity.WARNING,
            f"'{text}' is not pinned: a run next month may train with another version; use '{req.name}==X.Y.Z'",
            where,
        )]
    return []


# --- compiled spec --------------------------------------------------------------------------
def lint_spec(spec: Mapping[str, Any], kfp_version: str | None = None) -> list[Finding]:
    """Findings in a compiled KFP v2 IR spec (the YAML ``kfp.compiler`` writes)."""
    findings: list[Finding] = []
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    for name, executor in executors.items():
        container = executor.get("container")
        if not container:
            continue
        where = f"executor {name}"
        findings.extend(_lint_image(container.get("image", ""), where))
        for req in packages_to_install(container):
            findings.extend(_lint_requirement(req, where))
        kfp_pin = kfp_requirement(container)
        if kfp_version and kfp_pin and kfp_pin != kfp_version:
            findings.append(Finding(
                "kfp-version-mismatch", Severity.WARNING,
                f"compiled with kfp {kfp_pin}, harness runs kfp {kfp_version}: recompile",
                where,
            ))
        if not container.get("resources"):
            findings.append(Finding(
                "no-resources", Severity.INFO,
                "no CPU/memory requests or limits: set them with .set_cpu_limit()/.set_memory_limit()",
                where,
            ))
    findings.extend(_lint_dead_outputs(spec))
    return findings


def _lint_image(image: str, where: str) -> list[Finding]:
    if not image:
        return [Finding("no-image", Severity.ERROR, "no container image", where)]
    if "@sha256:" in image:
        return []
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    if not tag or tag == "latest":
        return [Finding(
            "unpinned-image", Severity.ERROR,
            f"image '{image}' is not pinned (no tag or 'latest'): pin a version tag or digest",
            where,
        )]
    if not _VERSION_TAG.match(tag):
        return [Finding(
            "floating-image-tag", Severity.WARNING,
            f"image tag '{tag}' floats (no patch version): pin e.g. '{name}:{tag}.N' or a digest",
            where,
        )]
    return []


def _install_args(container: Mapping[str, Any]) -> list[list[str]]:
    script = " ".join(str(part) for part in container.get("command", []))
    return [shlex.split(m.group(1)) for m in _PIP_INSTALL.finditer(script)]


def packages_to_install(container: Mapping[str, Any]) -> list[str]:
    """The component's own ``packages_to_install`` (the kfp install line excluded)."""
    reqs: list[str] = []
    for args in _install_args(container):
        pkgs = [a for a in args if not a.startswith("-")]
        if any(p.startswith("kfp==") for p in pkgs):
            continue  # KFP's own runtime install line
        reqs.extend(pkgs)
    return reqs


def kfp_requirement(container: Mapping[str, Any]) -> str | None:
    """The kfp version the component installs at run time, if pinned."""
    for args in _install_args(container):
        for arg in args:
            if arg.startswith("kfp=="):
                return arg.split("==", 1)[1]
    return None


def _lint_dead_outputs(spec: Mapping[str, Any]) -> list[Finding]:
    components = spec.get("components", {})
    dag = spec.get("root", {}).get("dag", {})
    tasks = dag.get("tasks", {})
    consumed: set[tuple[str, str]] = set()
    for task in tasks.values():
        for kind in ("artifacts", "parameters"):
            for value in task.get("inputs", {}).get(kind, {}).values():
                ref = value.get("taskOutputArtifact") or value.get("taskOutputParameter")
                if ref:
                    consumed.add((ref["producerTask"], ref.get("outputArtifactKey") or ref.get("outputParameterKey")))
    for out in dag.get("outputs", {}).get("artifacts", {}).values():
        for sel in out.get("artifactSelectors", []):
            consumed.add((sel["producerSubtask"], sel["outputArtifactKey"]))
    findings = []
    for task_name, task in tasks.items():
        comp = components.get(task.get("componentRef", {}).get("name", ""), {})
        outputs = comp.get("outputDefinitions", {})
        names = [
            n for n, d in outputs.get("artifacts", {}).items()
            if d.get("artifactType", {}).get("schemaTitle") not in ("system.Metrics", "system.ClassificationMetrics", "system.HTML", "system.Markdown")
        ] + list(outputs.get("parameters", {}))
        unused = [n for n in names if (task_name, n) not in consumed]
        if names and len(unused) == len(names):
            findings.append(Finding(
                "unconsumed-outputs", Severity.WARNING,
                f"no task consumes the outputs of '{task_name}' ({', '.join(unused)}): dead work, or a missing edge",
                f"task {task_name}",
            ))
    return findings
