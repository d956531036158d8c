"""Root conftest: test tiers, given in one collection hook; ``pytester`` for the plugin's tests.

The mlharness plugin itself comes from the ``pytest11`` entry point.

Every collected test gets exactly one tier marker (docs/testing.md):

==============  =========================================================================
``unit``        in-process: no child process, no socket to another process
``integration`` subprocess servers on 127.0.0.1, short locust windows (a few seconds)
``load``        real load windows and capacity searches
``e2e``         whole runs: ``mlharness run``, ``kfp.local`` pipeline runs, the suites
``foreign``     third-party servers in their own venvs (``tests/foreign``)
``browser``     headless Chromium
``cluster``     a live cluster (skipped, with the flag that enables it, on the local target)
==============  =========================================================================

The fast tiers, ``unit`` and ``integration``, are what the README's test command selects
(``-m "unit or integration"``); ``pytest`` with no arguments runs every tier.
A test's tier is, in this order: a tier marker it carries itself (for a module that mixes
tiers); its folder (:data:`FOLDER_TIERS`); its module (:data:`MODULE_TIERS`); ``integration``
when it uses a fixture that starts a child process (:data:`INTEGRATION_FIXTURES`); else ``unit``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent
#: the tier markers (registered, with what each means, in pyproject.toml)
TIERS = ("unit", "integration", "load", "e2e", "foreign", "browser", "cluster")
FAST = ("unit", "integration")
#: folder (relative to the repository) -> the tier of every test in it
FOLDER_TIERS = {"tests/foreign": "foreign", "suites": "e2e"}
#: module (relative to tests/) -> the tier of its tests that carry no tier marker of their own
MODULE_TIERS = {
    # whole runs: run_validation / mlharness run / kfp.local pipeline runs / both front ends
    **dict.fromkeys(("test_local_run.py", "test_contract_runs.py", "test_bounded_requests.py", "test_faults.py",
                     "test_front_ends.py", "test_robustness_controls.py",
                     # whole pytest sessions of a suite in a subprocess (a failed step, Ctrl-C, the exit code)
                     "test_pytest_verdict.py"), "e2e"),
    # load windows of the locust runner, capacity searches
    **dict.fromkeys(("test_load_runner.py", "test_load_hostile.py", "test_load_grpc.py", "test_capacity_run.py",
                     "test_capacity_cli.py", "test_capacity_plugin.py"), "load"),
    "test_report_browser.py": "browser",
    # child processes: servers, compiles, the CLI, pytester subprocess sessions, short locust windows
    **dict.fromkeys(("test_compile.py", "test_console_text.py", "test_endpoint_target.py", "test_grpc.py",
                     "test_grpc_checks.py", "test_hostile_server.py", "test_load_merge.py", "test_locustfile_recorder.py",
                     "test_packaging.py", "test_plugin.py", "test_report_files.py", "test_resources.py", "test_run_end.py",
                     "test_runner.py", "test_runtime.py", "test_serve.py", "test_validation.py", "test_warm_tasks.py",
                     "test_workflows.py", "test_cluster_load_job.py", "test_cluster_up.py", "test_checks.py",
                     # the property test of issue 19: short runs against thread servers
                     "test_no_pass_without_evidence.py", "test_evidence.py"), "integration"),
}
#: fixtures that start a child process: a test of a unit module that uses one is ``integration``
INTEGRATION_FIXTURES = ("served", "grpc_served", "child_servers", "stub", "fault_server", "no_leaked_children")


def tier_of(item: pytest.Item) -> list[str]:
    """The tier(s) of ``item`` by the rules above (exactly one unless a test marks itself twice)."""
    explicit = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
    if explicit:
        return explicit
    path = Path(str(item.path)).resolve()
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
    for folder, tier in FOLDER_TIERS.items():
        if rel.startswith(folder + "/"):
            return [tier]
    module = MODULE_TIERS.get(rel.removeprefix("tests/"))
    if module is not None:
        return [module]
    if set(getattr(item, "fixturenames", ())) & set(INTEGRATION_FIXTURES):
        return ["integration"]
    return ["unit"]


@pytest.hookimpl(tryfirst=True)  # before -m selects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every item its tier marker; an item with two tiers is a collection error."""
    doubled = []
    for item in items:
        tiers = tier_of(item)
        if len(tiers) != 1:
            doubled.append(f"{item.nodeid}: {' and '.join(tiers) or 'none'}")
            continue
        if item.get_closest_marker(tiers[0]) is None:
            item.add_marker(tiers[0])
    if doubled:
        raise pytest.UsageError("every test has exactly one tier (conftest.py); these have not:\n  " + "\n  ".join(doubled))
