"""Plans as data: every command and every wait of bringing a cluster up, before any runs.

Providers and the installer describe their work as a list of :class:`Step`; the same list
is executed (:func:`execute`) or printed by ``--dry-run`` (:func:`format_plan`), so the plan
shown is exactly what runs: the command with its pinned versions, the wait with its timeout.
``execute`` reports each step it runs to ``on_step``; a test compares that trace with the plan.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from collections.abc import Callable, Sequence

from harness.cluster.kube.commands import CommandRunner
from harness.errors import CommandError, WaitTimeout

# A wait implemented in Python (pods stable over polls): gets the runner, returns nothing,
# raises WaitTimeout.
WaitFn = Callable[[CommandRunner], None]


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a plan.

    Args:
        what: a short description ("install cert-manager v1.17.0").
        argv: the command, or () for a wait implemented in Python.
        timeout: seconds the step may take.
        wait: the Python wait, when ``argv`` is empty.
        when: a condition printed in the plan ("if the cluster does not exist").
        stdin: text fed to the command (a manifest); shown as a file name in the plan.
        stdin_name: how the plan names ``stdin``.
        env: environment variables the command needs (``KUBECONFIG`` for minikube).
        label: how the plan names a Python step ("wait", "write").
        retries: extra attempts after a failure (webhooks that are not serving yet).
        until_exists: the command (a ``kubectl wait``) fails at once while the objects it waits
            for do not exist yet ("no matching resources found", NotFound): run it again every
            few seconds until they do, within ``timeout`` overall.
        until_ok: run the command again every few seconds until it succeeds, within ``timeout``
            overall; a timeout names the command's last error (a webhook that does not answer yet).
    """

    what: str
    argv: tuple[str, ...] = ()
    timeout: float = 60.0
    wait: WaitFn | None = dataclasses.field(default=None, compare=False, repr=False)
    when: str = ""
    stdin: str | None = dataclasses.field(default=None, repr=False)
    stdin_name: str = ""
    env: tuple[tuple[str, str], ...] = ()
    label: str = "wait"
    retries: int = 0
    until_exists: bool = False
    until_ok: bool = False

    @property
    def is_wait(self) -> bool:
        return not self.argv

    def render(self) -> str:
        """The step as one line of the plan."""
        cond = f"[{self.when}] " if self.when else ""
        if self.is_wait:
            limit = f" (timeout {self.timeout:g}s)" if self.timeout > 0 else ""
            return f"{cond}{self.label}: {self.what}{limit}"
        cmd = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        cmd = (cmd + " " if cmd else "") + shlex.join(self.argv)
        if self.stdin is not None:
            cmd += f" < {self.stdin_name or 'stdin'}"
        retry = f", {self.retries} retries" if self.retries else ""
        if self.until_exists:
            retry += ", repeated while the objects do not exist yet"
        if self.until_ok:
            retry += f", repeated every {UNTIL_OK_DELAY:g}s until it succeeds"
        return f"{cond}run: {cmd}  # {self.what}; timeout {self.timeout:g}s{retry}"


RETRY_DELAY = 10.0
MISSING_DELAY = 3.0
UNTIL_OK_DELAY = 5.0
# What kubectl prints when a wait finds nothing to wait for (kubectl wait with a selector or
# --all: "error: no matching resources found"; a named object: 'Error from server (NotFound)').
_MISSING = ("no matching resources found", "(NotFound)")


def _missing(exc: CommandError) -> bool:
    return any(text in exc.output for text in _MISSING)


def _run_until_exists(step: Step, runner: CommandRunner, progress: Callable[[str], None], delay: float) -> None:
    deadline = time.monotonic() + step.timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            runner.run(step.argv, timeout=max(remaining, 1.0), input=step.stdin, env=dict(step.env) or None)
            return
        except CommandError as exc:
            if not _missing(exc):
                raise
            if time.monotonic() + delay >= deadline:
                raise WaitTimeout(step.what, step.timeout, "the objects to wait for never appeared: "
                                  + exc.output.strip()[-200:]) from exc
            progress(f"{step.what}: nothing to wait for yet, again in {delay:g}s")
            time.sleep(delay)


def _run_until_ok(step: Step, runner: CommandRunner, progress: Callable[[str], None], delay: float) -> None:
    deadline = time.monotonic() + step.timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            runner.run(step.argv, timeout=max(min(remaining, 60.0), 1.0), input=step.stdin, env=dict(step.env) or None)
            return
        except (CommandError, WaitTimeout) as exc:
            last = (exc.output if isinstance(exc, CommandError) else str(exc)).strip()
            if time.monotonic() + delay >= deadline:
                raise WaitTimeout(step.what, step.timeout, "last error: " + (last[-400:] or "none")) from exc
            progress(f"{step.what}: not yet ({last.splitlines()[-1][-160:] if last else 'no output'}), again in {delay:g}s")
            time.sleep(delay)


def execute(
    steps: Sequence[Step],
    runner: CommandRunner,
    progress: Callable[[str], None] = lambda _m: None,
    retry_delay: float = RETRY_DELAY,
    on_step: Callable[[Step], None] = lambda _s: None,
    missing_delay: float = MISSING_DELAY,
    until_ok_delay: float | None = None,
) -> None:
    """Run the steps in order, reporting each to ``on_step``; the first failure (after its retries) raises."""
    for step in steps:
        on_step(step)
        progress(step.what)
        if step.wait is not None:
            step.wait(runner)
            continue
        if step.until_exists:
            _run_until_exists(step, runner, progress, missing_delay)
            continue
        if step.until_ok:
            _run_until_ok(step, runner, progress, UNTIL_OK_DELAY if until_ok_delay is None else until_ok_delay)
            continue
        for attempt in range(step.retries + 1):
            try:
                runner.run(step.argv, timeout=step.timeout, input=step.stdin, env=dict(step.env) or None)
                break
            except CommandError:
                if attempt == step.retries:
                    raise
                progress(f"{step.what}: failed, retrying in {retry_delay:g}s")
                time.sleep(retry_delay)


def format_plan(sections: Sequence[tuple[str, Sequence[Step]]]) -> str:
    """The plan as text: one titled section per phase, one numbered line per step."""
    lines: list[str] = []
    n = 0
    for title, steps in sections:
        lines.append(f"# {title}")
        for step in steps:
            n += 1
            lines.append(f"{n:>3}. {step.render()}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
