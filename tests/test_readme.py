"""The README is the manual: keep it true to the code."""

import os
import re

from harness.cli.main import build_parser
from harness.config import SETTINGS, cli_flag, env_var

from .conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line and not line.startswith("#")]
    assert commands == [
        "python3.11 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/mlharness run",
        ".venv/bin/python -m pytest",
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "\n.venv/bin/python -m pytest\n" in ci


def settings_table() -> str:
    """The settings table of docs/config.md, generated from the settings' metadata."""
    rows = ["| key | flag (`--harness-…` in pytest) | environment | group | default | meaning |", "|---|---|---|---|---|---|"]
    for s in SETTINGS:
        default = "unset" if s.default in ((), None) else s.default
        choices = f" ({'/'.join(s.choices)})" if s.choices else ""
        rows.append(f"| `{s.key}` | `{cli_flag(s.key)}` | `{env_var(s.key)}` | {s.group} | `{default}` | {s.help}{choices} |")
    return "\n".join(rows)


def test_the_settings_table_is_generated_from_the_code() -> None:
    """docs/config.md lists every setting as the code defines it (UPDATE_DOCS=1 rewrites it)."""
    doc = REPO / "docs" / "config.md"
    text = doc.read_text()
    match = re.search(r"(<!-- settings:begin[^\n]*-->\n)(.*?)(\n<!-- settings:end -->)", text, re.S)
    assert match is not None, "docs/config.md lost its settings markers"
    if os.environ.get("UPDATE_DOCS"):
        doc.write_text(text[: match.start(2)] + settings_table() + text[match.end(2) :])
        return
    assert match.group(2) == settings_table(), "docs/config.md is out of date: run UPDATE_DOCS=1 pytest tests/test_readme.py"


def test_every_subcommand_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    missing = [name for name in sub.choices if f"mlharness {name}" not in README]
    assert missing == []


def test_documented_exit_codes_match_the_errors_module() -> None:
    from harness import errors

    for code in (errors.EXIT_PASSED, errors.EXIT_FAILED, errors.EXIT_USAGE, errors.EXIT_INFRA, errors.EXIT_INTERRUPTED):
        assert f"| {code} |" in README
