"""Text from the outside is text: server answers reach the console as sent, never as rich markup."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

from harness.reports.writer import load_report

from .conftest import PYTHON, REPO
from .helpers.hostile_server import HostileServer

AS_SENT = ("[/v1/models/x:predict]", "[kfp-v2-namespace]", "[link=http://evil.invalid/]the docs[/link]", "[bold red]now[/]")


def test_markup_in_error_bodies_fails_the_right_checks_and_shows_as_sent(tmp_path: Path) -> None:
    report_dir = tmp_path / "report"
    with HostileServer("markup", tmp_path) as server:
        proc = subprocess.run(
            [PYTHON, "-m", "harness", "run", "--target", "endpoint", "--url", server.url, "--no-load", "--no-robustness", "--report-dir", str(report_dir)],
            capture_output=True, text=True, timeout=180, cwd=tmp_path,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "MarkupError" not in out and "Traceback" not in out
    report = load_report(report_dir)
    checks = {c["name"]: c["status"] for c in report["checks"]}
    assert report["status"] == "failed"
    assert checks["deploy.ready"] == "passed"  # readiness answers like KServe
    assert checks["predict.golden"] == "failed" and checks["predict.quality"] == "failed"
    golden_line = next(line for line in proc.stdout.splitlines() if "predict.golden" in line and "failed" in line)
    for text in AS_SENT:
        assert text in golden_line, f"{text!r} did not reach the console as sent: {golden_line!r}"


CONSOLE_CALLS = {"print", "status", "update", "log", "rule"}


def test_no_command_hands_an_f_string_to_rich() -> None:
    """A formatted string given to rich is parsed as markup: outside text must go in a Text."""
    offenders = []
    for path in sorted((REPO / "harness").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CONSOLE_CALLS):
                continue
            owner = ast.unparse(node.func.value)
            if not any(word in owner for word in ("console", "status", "spinner")):
                continue
            markup_off = any(k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False for k in node.keywords)
            if node.args and isinstance(node.args[0], ast.JoinedStr) and not markup_off:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert offenders == []
