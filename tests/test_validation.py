"""Every input is checked before any work: one line naming the key or path, exit 2.

Each case runs the real CLI (``harness.cli.main.main``) in a scratch working directory and checks
that it stopped before the run began: no report directory, no child process.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import procs
from harness.cli.main import main
from harness.config import load_config, parse_fraction
from harness.errors import ConfigError

from .conftest import PYTHON, REPO

Setup = Callable[[Path], list[str]]
REPORT = {"schema_version": 1, "tool": "mlharness", "status": "passed", "load": {"requests": 100, "failures": 0, "rps": 50.0, "error_rate": 0.0, "latency_ms": {"p95": 10.0, "p99": 20.0}}}


def _write(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def make(cwd: Path) -> Path:
        path = cwd / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return make


def _baseline(content: str | bytes, *extra: str) -> Setup:
    return lambda cwd: ["run", "--baseline", str(_write("base.json", content)(cwd)), *extra]


def _golden(content: str) -> Setup:
    return lambda cwd: ["run", "--no-load", "--golden-file", str(_write("golden.json", content)(cwd))]


def _dir_named_harness_toml(cwd: Path) -> list[str]:
    (cwd / "harness.toml").mkdir()
    return ["run"]


def _config_dir(cwd: Path) -> list[str]:
    (cwd / "conf").mkdir()
    return ["run", "--config", str(cwd / "conf")]


def _toml(content: str | bytes) -> Setup:
    def make(cwd: Path) -> list[str]:
        _write("harness.toml", content)(cwd)
        return ["run"]

    return make


def _report_dir_is_a_file(cwd: Path) -> list[str]:
    (cwd / "taken").write_text("a file")
    return ["run", "--report-dir", str(cwd / "taken")]


def _compile_into_a_file(cwd: Path) -> list[str]:
    (cwd / "taken").write_text("a file")
    return ["compile", "-o", str(cwd / "taken")]


def _compare_malformed(load: object) -> Setup:
    def make(cwd: Path) -> list[str]:
        good = _write("a.json", json.dumps(REPORT))(cwd)
        bad = _write("b.json", json.dumps({**REPORT, "load": load}))(cwd)
        return ["compare", str(good), str(bad)]

    return make


CASES: dict[str, tuple[Setup, str, str]] = {
    # rule: (argv for a scratch dir, key named, words of the message)
    "nan p95 gate": (lambda _: ["run", "--slo-p95-ms", "nan"], "slo_p95_ms", "finite"),
    "inf p95 gate": (lambda _: ["run", "--slo-p95-ms", "inf"], "slo_p95_ms", "finite"),
    "nan baseline tolerance": (lambda _: ["run", "--baseline-tolerance", "nan"], "baseline_tolerance", "finite"),
    "nan rate": (lambda _: ["run", "--rate", "nan"], "rate", "finite"),
    "inf spawn rate": (lambda _: ["run", "--spawn-rate", "inf"], "spawn_rate", "finite"),
    "nan error rate": (lambda _: ["run", "--slo-error-rate", "nan%"], "slo_error_rate", "finite"),
    "nan in the config file": (_toml("[slo]\np95_ms = nan\n"), "slo_p95_ms", "finite"),
    "inf duration in the config file": (_toml("[load]\nduration = inf\n"), "duration", "finite"),
    "port above 65535": (lambda _: ["run", "--port", "70000"], "port", "65535"),
    "negative port": (lambda _: ["run", "--port", "-1"], "port", "65535"),
    "zero request timeout": (lambda _: ["run", "--request-timeout", "0"], "request_timeout", "positive"),
    "zero ready timeout": (lambda _: ["run", "--ready-timeout", "0s"], "ready_timeout", "positive"),
    "boolean user count": (_toml("[load]\nusers = true\n"), "users", "whole number"),
    "baseline not JSON": (_baseline("p95 = 3"), "baseline", "not valid JSON"),
    "baseline not JSON, load off": (_baseline("p95 = 3", "--no-load"), "baseline", "not valid JSON"),
    "baseline binary": (_baseline(b"\xff\xfe\x00garbage"), "baseline", "not a JSON text file"),
    "baseline of another schema": (_baseline(json.dumps({"p95": 3})), "baseline", "not an mlharness report"),
    "baseline of another schema, load off": (_baseline(json.dumps([1, 2]), "--no-load"), "baseline", "not an mlharness report"),
    "baseline with wrong types": (_baseline(json.dumps({**REPORT, "load": {"latency_ms": {"p95": "fast"}}})), "baseline", "load.latency_ms.p95"),
    "baseline load is a list": (_baseline(json.dumps({**REPORT, "load": [1]})), "baseline", "not an object"),
    "baseline without load figures": (_baseline(json.dumps({**REPORT, "load": None}), "--no-load"), "baseline", "no load figures"),
    "golden file not JSON": (_golden("{instances"), "golden_file", "cannot read golden cases"),
    "golden rows not lists": (_golden(json.dumps([{"instances": [1, 2], "predictions": [1, 1]}])), "golden_file", "not a row of numbers"),
    "golden file empty list": (_golden("[]"), "golden_file", "no golden cases"),
    "binary harness.toml": (_toml(b"\x89PNG\r\n\x1a\n\x00\x00"), "config", "not a UTF-8 text file"),
    "directory named harness.toml": (_dir_named_harness_toml, "config", "not a file"),
    "--config names a directory": (_config_dir, "config", "is a directory"),
    "report dir is a file": (_report_dir_is_a_file, "report_dir", "it is a file"),
    "compile -o into a file": (_compile_into_a_file, "--output-dir", "it is a file"),
    "compare: load latency not an object": (_compare_malformed({"latency_ms": [1, 2]}), "current", "load.latency_ms is a list"),
    "compare: load figure a string": (_compare_malformed({"requests": "many"}), "current", "load.requests is 'many'"),
}


@pytest.mark.parametrize("rule", list(CASES))
def test_bad_input_is_one_line_and_exit_2_before_any_work(rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    setup, key, words = CASES[rule]
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("HARNESS_")]:
        monkeypatch.delenv(var)
    argv = setup(tmp_path)
    before = set(tmp_path.iterdir())
    children = set(procs.running())  # the session's own servers
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, f"{rule}: exit {code}\n{out}{err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{rule}: expected one line, got {err!r}"
    assert f"{key}:" in lines[0] and words in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert set(tmp_path.iterdir()) == before, "work was done (a report directory?) before the input was checked"
    assert set(procs.running()) == children, "a child process was started before the input was checked"


def test_percentages_are_accepted_wherever_rates_are() -> None:
    cfg = load_config(cli={"slo_error_rate": "5%", "min_accuracy": "90%", "baseline_tolerance": "20%"}, env={})
    assert (cfg.slo.error_rate, cfg.model.min_accuracy, cfg.slo.baseline_tolerance) == (pytest.approx(0.05), pytest.approx(0.9), pytest.approx(0.2))
    assert load_config(cli={}, env={"HARNESS_SLO_ERROR_RATE": "0.5%"}).slo.error_rate == pytest.approx(0.005)
    assert parse_fraction(0.001) == 0.001
    for bad in ("101%", "5", "-1%"):
        with pytest.raises(ValueError, match="between 0 and 1"):
            parse_fraction(bad)


def test_every_float_setting_refuses_nan_and_inf() -> None:
    """Walks the settings table: a new float setting is covered without a new case here."""
    from harness.config import SETTINGS

    floats = [s.key for s in SETTINGS if s.field.type in ("float", "float | None")]
    assert {"slo_p95_ms", "rate", "spawn_rate", "baseline_tolerance", "duration", "request_timeout", "min_accuracy"} <= set(floats)
    for name in floats:
        for value in (math.nan, math.inf, "nan", "inf"):
            with pytest.raises(ConfigError) as info:
                load_config(cli={name: value}, env={})
            assert info.value.key == name, f"{name}={value!r}"


def test_a_bad_baseline_stops_the_cli_process_in_one_line(tmp_path: Path) -> None:
    """The same rule through the console script: no traceback, exit 2, before the run starts."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps({**REPORT, "load": {"rps": "fast"}}))
    proc = subprocess.run([PYTHON, "-m", "harness", "run", "--no-load", "--baseline", str(base)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == f"mlharness: error: baseline: {base}: load.rps is 'fast', not a number"
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a read-only tmpfs")
@pytest.mark.parametrize("command", [["run", "--report-dir", "{ro}/report"], ["compile", "-o", "{ro}/out"], ["run", "--report-dir", "{ro}"]])
def test_a_read_only_directory_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    """A real read-only file system (EROFS) in a private mount namespace: root cannot write there either."""
    ro = tmp_path / "ro"
    ro.mkdir()
    argv = " ".join(a.format(ro=ro) for a in command)
    script = f"mount -t tmpfs -o ro,size=64k tmpfs {ro} && cd {tmp_path} && exec {PYTHON} -m harness {argv}"
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    if proc.returncode != 2 and "mount" in proc.stderr and "harness" not in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Read-only file system" in lines[0] and str(ro) in lines[0], proc.stderr
