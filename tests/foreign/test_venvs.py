"""The venv helper: cache location, reuse, and which failures skip (index unreachable) or fail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from . import venvs
from .venvs import IndexUnreachable, VenvBuildError, VenvSpec


def test_cache_root_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert venvs.cache_root() == tmp_path / "mlharness" / "foreign"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert venvs.cache_root() == Path.home() / ".cache" / "mlharness" / "foreign"


def test_the_venv_name_changes_with_the_pins() -> None:
    a = VenvSpec("x", ("pkg==1.0",), "")
    assert a.digest() == VenvSpec("x", ("pkg==1.0",), "other reason").digest()
    assert a.digest() != VenvSpec("x", ("pkg==1.1",), "").digest()


def test_a_ready_venv_is_reused_without_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = VenvSpec("fake", ("nothing-installs-this==0",), "")
    venv = venvs.venv_dir(spec, tmp_path)
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / venvs.READY_MARKER).write_text(json.dumps({"pins": spec.pins}))
    monkeypatch.setattr(venvs, "_run", lambda *a, **k: pytest.fail("pip ran for a ready venv"))
    assert venvs.ensure_venv(spec, root=tmp_path) == venv


def _script(code: str) -> list[str]:
    """A stand-in for pip: prints what pip would and exits as it would."""
    return [sys.executable, "-c", code]


def test_a_connection_error_in_pips_output_is_unreachable(tmp_path: Path) -> None:
    argv = _script("print(\"WARNING: Retrying after connection broken by 'NewConnectionError(...)'\"); raise SystemExit(1)")
    with pytest.raises(IndexUnreachable, match="NewConnectionError"):
        venvs._run(argv, tmp_path / "log", 30, "installing x")


def test_an_index_that_does_not_answer_is_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.procs import free_port

    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple")  # nothing listens there
    argv = _script("print('ERROR: No matching distribution found for x'); raise SystemExit(1)")
    with pytest.raises(IndexUnreachable, match="127.0.0.1"):
        venvs._run(argv, tmp_path / "log", 30, "installing x", project="x")


def test_other_pip_failures_fail_with_the_output(tmp_path: Path) -> None:
    argv = _script("print('ERROR: ResolutionImpossible: a conflict'); raise SystemExit(1)")
    with pytest.raises(VenvBuildError, match="ResolutionImpossible"):
        venvs._run(argv, tmp_path / "log", 30, "installing x")


def test_a_build_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    argv = _script("import time; print('collecting', flush=True); time.sleep(60)")
    with pytest.raises(VenvBuildError, match="did not finish within 0.5s"):
        venvs._run(argv, tmp_path / "log", 0.5, "installing x")


def test_pins_name_their_project() -> None:
    assert venvs._project("tritonclient[http]==2.73.0") == "tritonclient"
    assert venvs._project("mlserver==1.7.1") == "mlserver"
