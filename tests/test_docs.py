"""Facts stated once: the exit codes, the docs' headings, and the code paths the prose names."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import build_parser
from harness.errors import (
    ConfigError,
    ExitCode,
    HarnessError,
    InfrastructureError,
    Interrupted,
    ToolMissingError,
    WaitTimeout,
    exit_codes_line,
)

from .conftest import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))
PROSE = [REPO / "README.md", REPO / "ARCHITECTURE.md", *DOCS]


def exit_code_table(text: str) -> list[tuple[int, str]]:
    """The rows (code, meaning) of the first table under the heading "Exit codes"."""
    heading = re.search(r"^#+ Exit codes\s*$", text, re.M)
    assert heading is not None, "no 'Exit codes' heading"
    rows: list[tuple[int, str]] = []
    for line in text[heading.end() :].splitlines():
        if line.startswith("#"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) == 2 and cells[0].isdigit():
            rows.append((int(cells[0]), cells[1]))
        elif rows and not line.startswith("|"):
            break
    return rows


@pytest.mark.parametrize("doc", ["README.md", "docs/cli.md"])
def test_the_exit_code_tables_are_the_enum(doc: str) -> None:
    """Each table lists every ExitCode, in order, and each meaning opens with the enum's words."""
    rows = exit_code_table((REPO / doc).read_text())
    assert [code for code, _ in rows] == [code.value for code in ExitCode], f"{doc}: codes differ from ExitCode"
    for (code, meaning), member in zip(rows, ExitCode, strict=True):
        assert meaning.lower().startswith(member.meaning), f"{doc}: exit code {code} reads {meaning!r}, ExitCode says {member.meaning!r}"


def test_the_table_parser_sees_a_wrong_table() -> None:
    """A table that drifted (3 described differently, 130 missing) does not pass for the enum."""
    drifted = "## Exit codes\n\n| code | meaning |\n|---|---|\n| 0 | passed |\n| 3 | infrastructure could not be provisioned |\n\nmore\n"
    rows = exit_code_table(drifted)
    assert rows == [(0, "passed"), (3, "infrastructure could not be provisioned")]
    assert [code for code, _ in rows] != [code.value for code in ExitCode]
    assert not rows[1][1].startswith(ExitCode.INFRA.meaning)


def test_mlharness_help_lists_the_enum() -> None:
    help_text = " ".join(build_parser().format_help().split())
    assert exit_codes_line() in help_text
    for code in ExitCode:
        assert f"{code.value} {code.meaning}" in help_text


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (HarnessError("x"), ExitCode.FAILED),
        (ConfigError("x", "users"), ExitCode.USAGE),
        (InfrastructureError("x"), ExitCode.INFRA),
        (ToolMissingError("kind", "install it"), ExitCode.INFRA),
        (WaitTimeout("the endpoint", 1.0), ExitCode.INFRA),
        (Interrupted("x"), ExitCode.INTERRUPTED),
    ],
)
def test_each_error_kind_has_its_exit_code(error: HarnessError, code: ExitCode) -> None:
    assert error.exit_code is code


def test_the_old_names_are_the_enum_members() -> None:
    from harness import errors

    old = [errors.EXIT_PASSED, errors.EXIT_FAILED, errors.EXIT_USAGE, errors.EXIT_INFRA, errors.EXIT_INTERRUPTED]
    assert old == list(ExitCode) and all(isinstance(code, ExitCode) for code in old)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_doc_opens_with_a_top_heading(doc: Path) -> None:
    first = doc.read_text().splitlines()[0]
    assert re.match(r"# \S", first), f"{doc.name} opens with {first!r}, not a '# ' heading"


@pytest.mark.parametrize("doc", PROSE, ids=lambda p: p.name)
def test_no_leftover_section_markers(doc: Path) -> None:
    assert "README-SECTION" not in doc.read_text()


def named_paths(text: str) -> set[str]:
    """Paths of this repository's code named in backticks: `harness/load/run.py`, `fixtures/plugin.py`."""
    found = re.findall(r"`((?:harness|fixtures|suites|benchmarks)/[^`\s:#]*)", text)
    return {path.rstrip("/.") for path in found}


@pytest.mark.parametrize("doc", PROSE, ids=lambda p: p.name)
def test_named_code_paths_exist(doc: Path) -> None:
    missing = sorted(path for path in named_paths(doc.read_text()) if not (REPO / path).exists())
    assert missing == [], f"{doc.name} names paths that do not exist: {missing}"


def resolves(dotted: str) -> bool:
    """Whether ``harness.a.b.c`` is a module, or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


@pytest.mark.parametrize("doc", PROSE, ids=lambda p: p.name)
def test_named_dotted_names_resolve(doc: Path) -> None:
    """`harness.checks.slo.compare_loads`, `python -m harness.serving.runtime`: each still exists."""
    names = set(re.findall(r"\bharness(?:\.[A-Za-z_]\w*)+", doc.read_text())) - {"harness.toml"}
    assert sorted(name for name in names if not resolves(name)) == []


def test_the_path_checks_see_a_stale_name() -> None:
    stale = "lives in `harness/record.py` and `harness.run_end.finish`"
    assert named_paths(stale) == {"harness/record.py"} and not (REPO / "harness/record.py").exists()
    assert not resolves("harness.run_end.finish")


def test_the_baseline_schema_has_one_home() -> None:
    """The `baseline` section's JSON is written out in docs/reports.md only; docs/load.md links to it."""
    homes = [doc.name for doc in DOCS if re.search(r'```jsonc?\n\{\n\s*"baseline":', doc.read_text())]
    assert homes == ["reports.md"]
    assert "reports.md#baseline" in (REPO / "docs" / "load.md").read_text()


def test_architecture_names_every_package_and_loose_module() -> None:
    """A package or a loose module added to harness/ needs its line in ARCHITECTURE.md."""
    text = (REPO / "ARCHITECTURE.md").read_text()
    harness = REPO / "harness"
    packages = {f"harness/{p.parent.relative_to(harness).as_posix()}/" for p in harness.rglob("__init__.py") if p.parent != harness}
    loose = {f"harness/{p.name}" for p in harness.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    named = set(re.findall(r"harness/[\w/]+(?:\.py|/)", text))
    for short in re.findall(r"`(provision|kube|kubeflow|worker)/`", text):  # named within their parent's line
        named |= {p for p in packages if p.endswith(f"/{short}/")}
    assert sorted((packages | loose) - named) == []
    assert "(ARCHITECTURE.md)" in (REPO / "README.md").read_text(), "the README links ARCHITECTURE.md"


def heading_anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings (code blocks left out)."""
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.*)$", text, re.M)}


@pytest.mark.parametrize("doc", PROSE, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    """A topic has one home and the others link to it: the links must land."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if re.match(r"\w+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path) if path else doc
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in heading_anchors(file)):
            broken.append(target)
    assert broken == []


def test_the_link_check_sees_a_broken_anchor() -> None:
    assert "baseline" in heading_anchors(REPO / "docs" / "reports.md")
    assert "baselines-the-baseline-section" not in heading_anchors(REPO / "docs" / "load.md")
