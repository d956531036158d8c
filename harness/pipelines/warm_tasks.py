"""Run kfp.local's lightweight-component tasks as forks of one warm interpreter.

kfp.local's SubprocessRunner starts every task as a fresh ``python -m kfp.dsl.executor_main``
that imports kfp, then whatever the component imports (pandas, scikit-learn, ...): about
1.7 s a task on this project's 2-core machine, most of a local pipeline's run time. This
module swaps kfp.local's ``run_local_subprocess`` for one that, for exactly that command,
forks a process that has already imported those modules and runs ``executor_main`` in it:

- what runs is unchanged: kfp's own executor loads the component's source from the same
  ``ephemeral_component.py`` file, with the same ``--executor_input``, ``_KFP_RUNTIME=true``
  and task environment, and writes the same ``executor_output.json``;
- each task is still its own process (a fork): its state, crashes and ``sys.exit`` stay in it;
- its output goes through kfp.local's log the same way, and its exit status decides the
  task status as before;
- any other command (a container component, a command this module does not recognise) goes
  to kfp.local's own subprocess runner unchanged.

The difference a component could see: modules it imports are already in ``sys.modules``,
and kfp's compile-time names were imported before ``_KFP_RUNTIME`` was set. Linux only
(``os.fork``); elsewhere kfp.local's runner is used.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import os
import re
import runpy
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.procs import die_with_parent, fast_exit

#: kfp.local's command for a lightweight Python component, after it swapped ``python3`` for
#: the interpreter: ``sh -ec SCRIPT SOURCE --executor_input ... --function_to_execute NAME``.
_SCRIPT = re.compile(
    r'printf "%s" "\$0" > "\$program_path/ephemeral_component\.py"\s*'
    r"_KFP_RUNTIME=true \S+ -m kfp\.dsl\.executor_main\s+"
    r'--component_module_path\s+"\$program_path/ephemeral_component\.py"\s+"\$@"\s*$'
)
#: imported before any component module: what ``python -m kfp.dsl.executor_main`` loads.
EXECUTOR_MODULES = ("kfp.dsl.executor_main",)


def parse_task_command(command: list[str]) -> tuple[str, list[str]] | None:
    """``(component source, executor args)`` for a lightweight-component command, else None."""
    if len(command) < 4 or command[0] != "sh" or command[1] not in ("-c", "-ec"):
        return None
    if not _SCRIPT.search(command[2]):
        return None
    return command[3], list(command[4:])


def imported_modules(source: str, *, in_functions_only: bool = False) -> list[str]:
    """The absolute module names a source imports (in order, once each).

    ``in_functions_only``: only imports inside function bodies, which is where a lightweight
    component's imports live (a pipeline file's module-level imports never reach its tasks).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    scopes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)] if in_functions_only else [tree]
    names: list[str] = []
    for node in (inner for scope in scopes for inner in ast.walk(scope)):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found = [node.module]
        else:
            continue
        names.extend(n for n in found if n not in names)
    return names


def preload(modules: Iterable[str]) -> dict[str, str]:
    """Import ``modules`` now, so forked tasks find them loaded; the ones that failed, with why.

    A module that is missing or fails to import is left alone: the task that imports it
    reports that itself, in its own log, as it would have without this.
    """
    failed: dict[str, str] = {}
    for name in modules:
        try:
            if importlib.util.find_spec(name.split(".")[0]) is None:
                failed[name] = "not installed"
                continue
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any import error is the task's to report
            failed[name] = f"{type(exc).__name__}: {exc}"
    return failed


def strip_install(command: list[str]) -> list[str]:
    """The task command without KFP's ``sh -c "pip install ... && "$0" "$@""`` wrapper."""
    if (
        len(command) > 3
        and command[:2] == ["sh", "-c"]
        and "pip install" in command[2]
        and command[2].rstrip().endswith('"$0" "$@"')
    ):
        return command[3:]
    return command


def component_sources(spec: Mapping[str, Any]) -> list[str]:
    """The sources of the lightweight components in a compiled pipeline spec."""
    sources = []
    for executor in spec.get("deploymentSpec", {}).get("executors", {}).values():
        command = (executor.get("container") or {}).get("command") or []
        parsed = parse_task_command(strip_install(list(command)))
        if parsed:
            sources.append(parsed[0])
    return sources


def _child(module: Path, args: list[str], env_vars: Mapping[str, str], out_fd: int) -> None:
    """In the fork: become ``python -m kfp.dsl.executor_main`` and never return."""
    code = 1
    try:
        die_with_parent()  # PR_SET_PDEATHSIG does not survive fork
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = sys.stdout
        logging.root.handlers.clear()  # executor_main's basicConfig sets its own, as in a fresh python
        os.environ.update(env_vars)
        os.environ["_KFP_RUNTIME"] = "true"
        sys.argv = ["executor_main", "--component_module_path", str(module), *args]
        try:
            runpy.run_module("kfp.dsl.executor_main", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, int | None):
                print(exc.code)
        except BaseException:  # noqa: BLE001 - print as the interpreter would, then exit 1
            traceback.print_exc()
            code = 1
    finally:
        fast_exit(code)  # flushes what the task printed; never returns into the runner's code


def run_forked(source: str, args: list[str], env_vars: Mapping[str, str] | None = None, echo: Callable[[str], None] | None = None) -> int:
    """Run one task in a fork of this process; its output lines go to ``echo``; its exit code."""
    echo = echo or (lambda line: print(line, end=""))
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryDirectory(prefix="kfp-task-") as work:
        module = Path(work) / "ephemeral_component.py"  # where kfp's own command writes it
        module.write_text(source)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child leaves through os._exit
            os.close(read_fd)
            _child(module, args, env_vars or {}, write_fd)
        os.close(write_fd)
        try:
            with open(read_fd, encoding="utf-8", errors="replace") as out:
                for line in out:
                    echo(line)
        finally:
            _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def install(modules: Iterable[str] = ()) -> dict[str, str]:
    """Preload ``modules`` and route kfp.local's lightweight-component tasks to forks.

    Returns the modules that could not be preloaded (with why). Needs ``os.fork``.
    """
    from kfp.local import subprocess_task_handler

    failed = preload([*EXECUTOR_MODULES, *modules])
    original = subprocess_task_handler.run_local_subprocess

    def run_local_subprocess(full_command: list[str], env_vars: dict[str, str] | None = None) -> int:
        parsed = parse_task_command(list(full_command))
        if parsed is None:
            return original(full_command=full_command, env_vars=env_vars)
        code = run_forked(parsed[0], parsed[1], env_vars)
        print("\n")  # as kfp.local's runner does after a task's output
        return code

    subprocess_task_handler.run_local_subprocess = run_local_subprocess
    return failed


def available() -> bool:
    """Whether this platform can fork (Linux and other POSIX systems)."""
    return hasattr(os, "fork") and sys.platform != "win32"
