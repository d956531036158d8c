"""Every package of the library ships: the explicit list in pyproject.toml covers the tree."""

import tomllib

from .conftest import REPO


def test_every_harness_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "harness").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert "mlharness_fixtures" in listed


def test_templates_ship_as_package_data() -> None:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "templates/*" in data["harness.reports"]
    assert list((REPO / "harness" / "reports" / "templates").glob("*.html"))
