"""Which ``harness`` package a child process would import: the installed one, or a host's own.

mlharness installs the top-level package ``harness``. A repository that adopts it may have a
folder of that name too; Python finds a package in the working directory or on ``PYTHONPATH``
before the installed one. Children start with ``PYTHONSAFEPATH=1`` (:data:`harness.procs.ISOLATED_ENV`), so
the working directory no longer counts for them, but ``PYTHONPATH`` still does: the CLI checks
it at startup (:func:`shadow_problem`) and stops with one line instead of a child failing with
``No module named 'harness.pipelines'`` minutes later.

Standard library only: the pytest plugin's own check (``mlharness_fixtures.origin``) has to run
before anything of ``harness`` is imported, and says the same thing (:func:`shadow_message`).
"""

from __future__ import annotations

import importlib.machinery
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

PACKAGE = "harness"


def installed_package() -> Path:
    """The directory of the ``harness`` package this code runs from."""
    return Path(__file__).resolve().parents[1]


def found_package(search: Sequence[str]) -> Path | None:
    """The directory ``import harness`` would load from, searching only ``search`` (like ``sys.path``)."""
    spec = importlib.machinery.PathFinder.find_spec(PACKAGE, list(search))
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or ())
    if locations:
        return Path(locations[0]).resolve()
    return Path(spec.origin).resolve().parent if spec.origin else None


def child_search_path(env: Mapping[str, str] | None = None) -> list[str]:
    """Where a child started by :func:`harness.procs.spawn` looks for ``harness`` first: ``PYTHONPATH``.

    The rest of its ``sys.path`` (the standard library, site-packages) is this process's, which
    already resolved ``harness`` to the installed package.
    """
    env = os.environ if env is None else env
    return [entry or os.curdir for entry in env.get("PYTHONPATH", "").split(os.pathsep) if env.get("PYTHONPATH")]


def shadow_message(shadow: Path, installed: Path, where: str, fix: str) -> str:
    """The one line that says which folder shadows the installed package, and what to do."""
    return (
        f"the folder {shadow} ({where}) shadows mlharness's own 'harness' package ({installed}): "
        f"{fix}, or rename your folder (mlharness installs the top-level package name 'harness')"
    )


def shadow_problem(env: Mapping[str, str] | None = None, installed: Path | None = None) -> str | None:
    """None if the CLI's children will import this ``harness``; else the one line naming the shadow."""
    installed = installed or installed_package()
    found = found_package(child_search_path(env))
    if found is None or found == installed:
        return None
    return shadow_message(found, installed, "on PYTHONPATH", "take its parent directory off PYTHONPATH")

if __name__ == "__main__":  # `python -m harness.procs.origin`: where the harness a child imports lives
    print(installed_package())
