"""How big is the install of each extra? (rerunnable benchmark)

Builds this checkout's wheel once, then for each extra (the base install, ``[local]``,
``[cluster]``, ``[all]``) creates a fresh venv, ``pip install``s the wheel with that extra and
prints the time the install took, the size of the venv's site-packages (what the install added,
the venv's own pip and setuptools left out) and the number of distributions it installed.
pip's cache is used as usual, so the time is that of an install from a warm cache (a CI job
with a pip cache); the size and the package count do not depend on it.

Run: ``python benchmarks/install_size.py [--extras base,local,cluster,all] [--python python3.11]
[--project PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 1800  # one install from an empty cache, on a slow link


def tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            file = Path(dirpath) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def installed(python: Path) -> set[str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True, timeout=120)
    return {item["name"].lower() for item in json.loads(out.stdout)}


def build_wheel(out: Path, project: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(project)], check=True, timeout=600, capture_output=True)
    return next(out.glob("mlharness-*.whl"))


def measure(wheel: Path, extra: str, python: str, work: Path) -> dict[str, float | int | str]:
    venv = work / f"venv-{extra}"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    before_names, before_size = installed(py), tree_size(site_packages(venv))
    requirement = str(wheel) if extra == "base" else f"mlharness[{extra}] @ {wheel.as_uri()}"
    started = time.perf_counter()
    done = subprocess.run([str(py), "-m", "pip", "install", "-q", requirement], capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise SystemExit(f"pip install {requirement} failed:\n{done.stdout}{done.stderr}")
    seconds = time.perf_counter() - started
    added = installed(py) - before_names
    return {"extra": extra, "seconds": round(seconds, 1), "mb": round((tree_size(site_packages(venv)) - before_size) / 1e6),
            "packages": len(added)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="base,local,cluster,all", help="Comma-separated; 'base' is no extra. Default: %(default)s")
    parser.add_argument("--python", default=sys.executable, help="Interpreter the venvs are made from. Default: %(default)s")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="Checkout to build the wheel from (another one: the install before a change). Default: %(default)s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlharness-install-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist", args.project)
        print(f"{'install':<28} {'time':>8} {'size':>9} {'packages':>9}", flush=True)
        for extra in args.extras.split(","):
            row = measure(wheel, extra.strip(), args.python, work)
            name = "mlharness" if row["extra"] == "base" else f"mlharness[{row['extra']}]"
            print(f"{name:<28} {row['seconds']:>7}s {row['mb']:>6} MB {row['packages']:>9}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
