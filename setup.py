"""Packaging beyond what pyproject.toml can say: the pytest plugin's folder ``fixtures/`` installs
as the package ``mlharness_fixtures`` (a package named ``fixtures`` would clash with the PyPI
project of that name). Everything else, metadata and the harness packages found
automatically, is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["harness", "harness.*"]), "mlharness_fixtures"],
    package_dir={"mlharness_fixtures": "fixtures"},
)
