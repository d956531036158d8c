"""The README is the manual: keep it true to the code."""

import re

from harness.cli import build_parser
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


def test_every_setting_is_documented() -> None:
    missing = [f.name for f in SETTINGS if f"`{env_var(f.name)}`" not in README or f"`{cli_flag(f.name)}`" not in README]
    assert missing == []


def test_every_subcommand_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    missing = [name for name in sub.choices if f"mlharness {name}" not in README]
    assert missing == []


def test_documented_exit_codes_match_the_errors_module() -> None:
    from harness import errors

    for code in (errors.EXIT_PASSED, errors.EXIT_FAILED, errors.EXIT_USAGE, errors.EXIT_INFRA, errors.EXIT_INTERRUPTED):
        assert f"| {code} |" in README
