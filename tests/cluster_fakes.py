"""A fake of the cluster code's only process boundary (CommandRunner): records argv, answers from rules."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.cluster.commands import CommandResult
from harness.errors import CommandError, ToolMissingError

GOLDEN = Path(__file__).parent / "golden"
Answer = CommandResult | Callable[[tuple[str, ...]], CommandResult]


def ok(stdout: str = "") -> Callable[[tuple[str, ...]], CommandResult]:
    return lambda argv: CommandResult(argv, 0, stdout)


def fail(stderr: str = "NotFound") -> Callable[[tuple[str, ...]], CommandResult]:
    return lambda argv: CommandResult(argv, 1, "", stderr)


def pods_json(*pods: tuple[str, str, bool, str | None]) -> str:
    """``kubectl get pods -o json`` for (name, phase, ready, waiting reason) tuples."""
    items = []
    for name, phase, ready, reason in pods:
        state: dict[str, Any] = {"waiting": {"reason": reason}} if reason else {"running": {}}
        items.append({"metadata": {"name": name}, "status": {"phase": phase, "containerStatuses": [
            {"name": "main", "ready": ready, "state": state}]}})
    return json.dumps({"items": items})


class FakeBackground:
    def __init__(self) -> None:
        self.stopped = False

    def alive(self) -> bool:
        return not self.stopped

    def stop(self) -> None:
        self.stopped = True


class FakeRunner:
    """Answers each command from the first rule whose tokens all appear in its argv, in order.

    Args:
        rules: (tokens, answer) pairs; unmatched commands succeed with empty output.
        tools: the tools "installed".
    """

    def __init__(self, rules: Sequence[tuple[Sequence[str], Answer]] = (), tools: Sequence[str] = ("docker", "kind", "minikube", "kubectl")) -> None:
        self.rules = [(tuple(t), a) for t, a in rules]
        self.tools = set(tools)
        self.calls: list[tuple[tuple[str, ...], dict[str, str], str | None]] = []
        self.started: list[tuple[str, ...]] = []

    def which(self, tool: str) -> str | None:
        return f"/usr/bin/{tool}" if tool in self.tools else None

    def _answer(self, argv: tuple[str, ...]) -> CommandResult:
        for tokens, answer in self.rules:
            it = iter(argv)
            if all(any(tok == a for a in it) for tok in tokens):
                return answer(argv) if callable(answer) else answer
        return CommandResult(argv, 0, "")

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            input: str | None = None, check: bool = True) -> CommandResult:
        argv = tuple(argv)
        assert timeout > 0, f"every command needs a timeout: {argv}"
        if argv[0] not in self.tools:
            raise ToolMissingError(argv[0], "install it")
        self.calls.append((argv, dict(env or {}), input))
        result = self._answer(argv)
        if check and not result.ok:
            raise CommandError(list(argv), result.returncode, result.stdout + result.stderr)
        return result

    def start(self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None) -> FakeBackground:
        self.started.append(tuple(argv))
        return FakeBackground()

    def transcript(self, replace: Mapping[str, str]) -> str:
        """The recorded commands, one per line, with paths replaced by placeholders."""
        lines = []
        for argv, env, stdin in self.calls:
            line = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
            line = (line + " " if line else "") + shlex.join(argv) + (" < stdin" if stdin is not None else "")
            for old, new in replace.items():
                line = line.replace(old, new)
            lines.append(line)
        return "\n".join(lines) + "\n"


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``tests/golden/<name>``; ``UPDATE_GOLDEN=1`` rewrites it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    assert text == expected, f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept):\n{text}"
