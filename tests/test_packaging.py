"""What ships: a wheel built from this tree holds every package under harness/ (found
automatically), the report templates and the pytest plugin as ``mlharness_fixtures``."""

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import REPO


def test_the_wheel_holds_every_package_the_templates_and_the_plugin(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, timeout=180, capture_output=True,
    )
    (wheel,) = tmp_path.glob("mlharness-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    on_disk = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "harness").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert on_disk - names == set(), "modules missing from the wheel"
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "harness" / "reports" / "templates").iterdir()}
    assert templates and templates <= names
    assert "mlharness_fixtures/plugin.py" in names
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)
