"""The README is the manual: keep it true to the code."""

import os
import re

from harness.cli.main import build_parser
from harness.config import SETTINGS, cli_flag, env_var

from .conftest import REPO

README = (REPO / "README.md").read_text()


def readme_commands() -> list[str]:
    """The commands of the README's first ``bash`` block (comments left out)."""
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block is not None, "the README lost its opening bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_opens_with_the_main_job_and_the_test_command() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    setup, tests = commands
    assert setup.startswith("python3.11 -m venv .venv") and setup.endswith(".venv/bin/mlharness run")
    assert tests.startswith(".venv/bin/python -m pytest")


def test_ci_and_tox_run_the_readme_test_command() -> None:
    """.ci/run runs the README's test command (the fast tiers) first; tox's default env runs it too."""
    args = readme_commands()[1].removeprefix(".venv/bin/python -m pytest").strip()
    ci = (REPO / ".ci" / "run").read_text()
    fast = re.search(r'^tier "[^"]*" no (.*)$', ci, re.M)
    assert fast is not None, ".ci/run lost its fast-tier line"
    assert fast.group(1) == args
    assert ci.index(fast.group(0)) < min(ci.index(f"-m {t}") for t in ("load", "e2e", "foreign", "browser"))
    tox = (REPO / "tox.ini").read_text()
    assert f"python -m pytest {args} {{posargs}}" in tox


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
