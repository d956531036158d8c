"""Checks as one registry: each check exists once, and both front ends run it.

A :class:`Check` has a name (``predict.golden``), what it needs (``endpoint``, ``client``,
``artifact``, ``pipeline``, ``load``, ``comparison``...) and a ``run`` that returns a
:class:`~harness.results.CheckResult`. ``mlharness run`` walks :data:`REGISTRY` in order; the
pytest plugin turns the same entries into test items (``harness_check``). A check whose needs
cannot be met (no endpoint after a failed deploy, a target that runs no pipeline, load turned
off) is recorded as *skipped* with the reason, so both front ends report the same check names.

No verdict without evidence: a check's result carries what it sent, compared or measured as
counts in ``details["evidence"]`` (:meth:`~harness.results.CheckResult.with_evidence`), and a
*passed* result whose evidence is missing or zero is recorded as *error* ("passed with no
evidence: ..."). The rule is enforced once, by :func:`vouch`, where the run records every result
(built-in checks, steps' checks and yours alike).

Your own checks register with the :func:`check` decorator, in a ``conftest.py`` for pytest, in
a file or module named by the ``checks`` setting for the CLI (``--checks my_checks.py``), or
from an installed package through the ``mlharness.checks`` entry point group:

Example:
    >>> from harness.checks import check
    >>> from harness.results import CheckResult, CheckStatus
    >>> @check("custom.two_rows", needs=("client",))  # doctest: +SKIP
    ... def two_rows(ctx):
    ...     answer = ctx.client.classify([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]])
    ...     ok = len(answer.outputs) == 2
    ...     result = CheckResult("custom.two_rows", CheckStatus.PASSED if ok else CheckStatus.FAILED, f"{answer.outputs}")
    ...     return result.with_evidence({"requests": 1, "rows": 2}, say=True)
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contract import IRIS, ModelContract
from harness.errors import ConfigError
from harness.results import CheckResult, CheckStatus, evidence_text

if TYPE_CHECKING:
    from harness.checks.slo import BaselineRun
    from harness.config import HarnessConfig
    from harness.contract.golden import GoldenCase

#: what a check may need; the run produces each on first use (see harness.run.runner)
NEEDS = ("package", "pipeline", "endpoint", "client", "artifact", "load", "baseline", "comparison", "capacity", "resources",
         "candidate", "diff")
#: built-in groups in run order; a check's group is the part of its name before the first dot
GROUPS = ("pipeline", "deploy", "predict", "robustness", "slo", "baseline", "diff")
ENTRY_POINT_GROUP = "mlharness.checks"
#: the key of a skipped result's ``details`` that names the failed steps it could not run without
BLOCKED_BY = "blocked_by"
#: old check names still found under their new ones (``harness_check("predict.accuracy")``)
RENAMED = {"predict.accuracy": "predict.quality"}


class Unavailable(Exception):
    """A need cannot be met; the message is the reason the checks that need it are skipped.

    ``failed``: the step that should have produced it failed (and decided a failed check), as
    opposed to a need that does not apply (a target that runs no pipeline, load turned off).
    """

    def __init__(self, reason: str, *, failed: bool = False) -> None:
        super().__init__(reason)
        self.failed = failed


@dataclasses.dataclass(frozen=True)
class RunInputs:
    """What the run's settings point to, already read: extra golden cases, the baseline run
    and the model contract (its golden cases first, then the golden file's)."""

    golden_cases: tuple[GoldenCase, ...] = ()
    baseline: BaselineRun | None = None
    contract: ModelContract = IRIS


class CheckContext:
    """What a check's ``run`` gets: the settings and the run's resources, produced on first use.

    Args:
        cfg: the run's settings.
        inputs: the files the settings point to, already read (golden cases, baseline).
        report_dir: where the run writes (a check may write a file of its own there).
        resolve: produces a need by name, or raises :class:`Unavailable`.
    """

    def __init__(self, cfg: HarnessConfig, inputs: RunInputs, report_dir: Path, resolve: Callable[[str], Any]) -> None:
        self.cfg = cfg
        self.inputs = inputs
        self.report_dir = report_dir
        self._resolve = resolve

    def need(self, what: str) -> Any:
        if what not in NEEDS:
            raise ValueError(f"unknown need {what!r}; one of {', '.join(NEEDS)}")
        return self._resolve(what)

    @property
    def endpoint(self) -> Any:
        return self.need("endpoint")

    @property
    def client(self) -> Any:
        """An :class:`~harness.inference.client.InferenceClient` for the endpoint, with the run's settings."""
        return self.need("client")

    @property
    def artifact(self) -> Path | None:
        """The trained model as a local file tree, or None (the model stays in a cluster's store)."""
        artifact: Path | None = self.need("artifact")
        return artifact

    @property
    def load(self) -> Any:
        """The load run's :class:`~harness.load.results.LoadResult`."""
        return self.need("load")


Run = Callable[[CheckContext], CheckResult]
Enabled = Callable[["HarnessConfig"], str | None]


@dataclasses.dataclass(frozen=True)
class Check:
    """One named check.

    Args:
        name: ``group.name``; the group (``predict``) places it in the run order.
        run: returns the check's result; None for a step's check (``pipeline.run``), which the
            step that produces its need decides and the run records as it lands.
        needs: what must exist before it runs (see :data:`NEEDS`).
        description: one line for listings and reports.
        skip_unless: returns a reason to skip it under these settings (load turned off...), or None.
        evidence: what its result counts in ``details["evidence"]`` (``("requests", "rows")``);
            a passed result must carry each of them, above zero (:func:`vouch`).
    """

    name: str
    run: Run | None
    needs: tuple[str, ...] = ()
    description: str = ""
    skip_unless: Enabled | None = None
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if "." not in self.name or not all(self.name.split(".")):
            raise ValueError(f"a check's name is group.name, got {self.name!r}")
        if self.run is None and not self.needs:
            raise ValueError(f"check {self.name}: a step's check (no run) names the need whose step decides it")
        unknown = [n for n in self.needs if n not in NEEDS]
        if unknown:
            raise ValueError(f"check {self.name}: unknown needs {unknown}; one of {', '.join(NEEDS)}")

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]


class Registry:
    """The checks in run order: the built-in groups first (in :data:`GROUPS` order), then other
    groups in the order they were first registered; within a group, in registration order (a
    user's ``predict.*`` check runs after the built-in ones)."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, check: Check, *, replace: bool = False) -> Check:
        if check.name in self._checks and not replace and self._checks[check.name] is not check:
            raise ValueError(f"a check named {check.name!r} is registered already")
        self._checks[check.name] = check
        return check

    def remove(self, name: str) -> None:
        self._checks.pop(name, None)

    def get(self, name: str) -> Check:
        name = RENAMED.get(name, name) if name not in self._checks else name
        try:
            return self._checks[name]
        except KeyError:
            raise KeyError(f"no check named {name!r}; registered: {', '.join(self._checks)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __iter__(self) -> Iterator[Check]:
        return iter(self.ordered())

    def ordered(self) -> list[Check]:
        groups = list(GROUPS) + [c.group for c in self._checks.values() if c.group not in GROUPS]
        position = {g: i for i, g in reversed(list(enumerate(groups)))}
        return sorted(self._checks.values(), key=lambda c: position[c.group])  # sorted() is stable: registration order within a group

    def names(self, groups: Iterable[str] | None = None) -> list[str]:
        wanted = None if groups is None else set(groups)
        return [c.name for c in self.ordered() if wanted is None or c.group in wanted]


REGISTRY = Registry()


def vouch(result: CheckResult, declared: Sequence[str] = ()) -> CheckResult:
    """No verdict without evidence: ``result`` as it may be recorded. A *passed* result whose
    evidence (``details["evidence"]``) is empty, holds a count of zero, or lacks a count its check
    declared (``declared``) becomes *error*, "passed with no evidence: ...", its message kept after
    the reason. Other outcomes are left alone: a failure or a skip says what it lacked itself.
    """
    if result.status is not CheckStatus.PASSED:
        return result
    counts = result.evidence
    missing = [what for what in declared if what not in counts]
    zero = [what for what, n in counts.items() if n <= 0]
    if counts and not missing and not zero:
        return result
    if not counts:
        why = "it recorded nothing it sent, compared or measured" + (f" (it counts {', '.join(declared)})" if declared else "")
    else:
        parts = [f"no count of {', '.join(missing)}"] if missing else []
        parts += [f"{evidence_text({w: counts[w] for w in zero})}"] if zero else []
        why = "; ".join(parts)
    return dataclasses.replace(result, status=CheckStatus.ERROR, message=f"passed with no evidence: {why}; it said: {result.message}")


def check(
    name: str,
    *,
    needs: Sequence[str] = (),
    description: str = "",
    skip_unless: Enabled | None = None,
    registry: Registry | None = None,
    evidence: Sequence[str] = (),
) -> Callable[[Run], Run]:
    """Register ``fn(ctx) -> CheckResult`` as the check ``name`` (a decorator; returns ``fn``).

    The rule of the built-in checks holds for yours: a passed result carries what it sent,
    compared or measured in ``details["evidence"]`` (``result.with_evidence({"rows": 2})``), or it
    is recorded as *error*; ``evidence`` names the counts it must carry (``("requests", "rows")``).
    Registering the same function again is harmless: a conftest imported twice, or a file both
    listed in the ``checks`` setting and imported by a conftest (one source file, two module
    names); another function under a taken name is an error.
    """

    def register(fn: Run) -> Run:
        target = registry or REGISTRY
        existing = target._checks.get(name)
        new = Check(name, fn, tuple(needs), description or (fn.__doc__ or "").strip().split("\n")[0], skip_unless, tuple(evidence))
        if existing is not None and existing.run is not None and _same_function(existing.run, fn):
            target.add(new, replace=True)
        else:
            target.add(new)
        return fn

    return register


def _same_function(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """One function defined once: the same qualified name in the same module, or in the same
    source file (a file imported under two module names)."""
    if getattr(a, "__qualname__", None) != getattr(b, "__qualname__", None):
        return False
    if getattr(a, "__module__", None) == getattr(b, "__module__", None):
        return True
    files = [getattr(getattr(inspect.unwrap(f), "__code__", None), "co_filename", None) for f in (a, b)]
    return None not in files and Path(str(files[0])).resolve() == Path(str(files[1])).resolve()


def load_user_checks(sources: Sequence[str], *, entry_points: bool = True) -> list[str]:
    """Import what registers users' checks: files (``my_checks.py``), modules (``pkg.checks``),
    and the ``mlharness.checks`` entry points of installed packages. Returns what was loaded.

    Raises:
        ConfigError: a file or module of ``sources`` does not exist or fails to import (naming it).
    """
    loaded = []
    for source in sources:
        path = Path(source)
        try:
            if source.endswith(".py") or path.exists():
                if not path.is_file():
                    raise ConfigError(f"{source!r} is not a file", "checks")
                name = f"mlharness_user_checks_{abs(hash(path.resolve()))}"
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise ConfigError(f"cannot import {source!r}", "checks")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            else:
                importlib.import_module(source)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - a user's module failing to import is a config error naming it
            raise ConfigError(f"importing {source!r} failed: {type(exc).__name__}: {exc}", "checks") from None
        loaded.append(source)
    if entry_points:
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin names itself
                raise ConfigError(f"the {ENTRY_POINT_GROUP} entry point {entry.name!r} ({entry.value}) failed to load: {exc}", "checks") from None
            loaded.append(f"entry point {entry.name}")
    return loaded


__all__ = ["BLOCKED_BY", "GROUPS", "NEEDS", "REGISTRY", "Check", "CheckContext", "Registry", "Unavailable", "check", "load_user_checks", "vouch"]
