"""The check registry: one entry per check, run in order, open to the user's own checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.checks import REGISTRY, Check, CheckContext, Registry, check, load_user_checks
from harness.checks.builtin import register_builtins
from harness.errors import ConfigError
from harness.results import CheckResult, CheckStatus

BUILTIN_ORDER = [
    "pipeline.compile", "pipeline.lint", "pipeline.run", "deploy.compat", "deploy.ready",
    "predict.golden", "predict.quality", "predict.parity", "predict.protocols",
    "robustness.parity", "robustness.bad_inputs",
    "slo.p50", "slo.p95", "slo.p99", "slo.error_rate", "slo.min_rps",
    "baseline.p95", "baseline.p99", "baseline.error_rate",
]


def passed(name: str) -> CheckResult:
    return CheckResult(name, CheckStatus.PASSED, "ok")


def test_the_builtin_checks_in_run_order() -> None:
    register_builtins()
    assert [n for n in REGISTRY.names() if n in BUILTIN_ORDER] == BUILTIN_ORDER


def test_a_users_check_runs_after_the_builtin_ones_of_its_group_and_new_groups_last() -> None:
    registry = Registry()
    for name in ("predict.golden", "slo.p95"):
        registry.add(Check(name, lambda ctx, n=name: passed(n)))

    @check("custom.first", registry=registry)
    def first(ctx: CheckContext) -> CheckResult:
        return passed("custom.first")

    @check("predict.mine", needs=("client",), registry=registry)
    def mine(ctx: CheckContext) -> CheckResult:
        """One line that describes it."""
        return passed("predict.mine")

    assert registry.names() == ["predict.golden", "predict.mine", "slo.p95", "custom.first"]
    assert registry.get("predict.mine").description == "One line that describes it."
    assert registry.names(["predict"]) == ["predict.golden", "predict.mine"]


def test_names_and_needs_are_checked_when_registered() -> None:
    registry = Registry()
    with pytest.raises(ValueError, match="group.name"):
        Check("nogroup", lambda ctx: passed("x"))
    with pytest.raises(ValueError, match="unknown needs \\['endpoit'\\]"):
        Check("a.b", lambda ctx: passed("a.b"), ("endpoit",))
    registry.add(Check("a.b", lambda ctx: passed("a.b")))
    with pytest.raises(ValueError, match="registered already"):
        registry.add(Check("a.b", lambda ctx: passed("a.b")))
    with pytest.raises(KeyError, match="no check named 'a.c'"):
        registry.get("a.c")


def test_the_same_function_registered_twice_is_harmless() -> None:
    """A conftest imported by two sessions registers the same function again."""
    registry = Registry()

    def twice(ctx: CheckContext) -> CheckResult:
        return passed("x.twice")

    check("x.twice", registry=registry)(twice)
    check("x.twice", registry=registry)(twice)
    assert registry.names() == ["x.twice"]


def test_one_file_imported_under_two_module_names_registers_once(tmp_path: Path) -> None:
    """Listed in the ``checks`` setting (imported by path) and imported by a conftest (by module
    name): one source file, so harmless; another file's function under that name is an error."""
    import importlib.util

    registry = Registry()
    source = "def same(ctx):\n    return None\n"
    one, other = tmp_path / "one.py", tmp_path / "other.py"
    one.write_text(source)
    other.write_text(source)

    def function_of(path: Path, module: str) -> Callable[[CheckContext], CheckResult]:
        spec = importlib.util.spec_from_file_location(module, path)
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        fn: Callable[[CheckContext], CheckResult] = loaded.same
        return fn

    check("x.same", registry=registry)(function_of(one, "one_by_path"))
    check("x.same", registry=registry)(function_of(one, "one_by_name"))
    assert registry.names() == ["x.same"]
    with pytest.raises(ValueError, match="registered already"):
        check("x.same", registry=registry)(function_of(other, "other_by_name"))


def test_user_checks_load_from_a_file_and_a_bad_one_names_itself(tmp_path: Path) -> None:
    good = tmp_path / "my_checks.py"
    good.write_text(
        "from harness.checks import check\n"
        "from harness.results import CheckResult, CheckStatus\n"
        "@check('filecheck.loaded')\n"
        "def loaded(ctx):\n"
        "    return CheckResult('filecheck.loaded', CheckStatus.PASSED, 'from a file')\n"
    )
    try:
        assert load_user_checks([str(good)], entry_points=False) == [str(good)]
        assert "filecheck.loaded" in REGISTRY
    finally:
        REGISTRY.remove("filecheck.loaded")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('no')\n")
    with pytest.raises(ConfigError, match=r"^checks: importing '.*broken.py' failed: RuntimeError: no"):
        load_user_checks([str(broken)], entry_points=False)
    with pytest.raises(ConfigError, match="importing 'no_such_module_mlh' failed"):
        load_user_checks(["no_such_module_mlh"], entry_points=False)
