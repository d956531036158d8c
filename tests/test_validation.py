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


def _pipeline(name: str, content: str, func: str = "") -> Setup:
    return lambda cwd: ["run", "--pipeline", f"{_write(name, content)(cwd)}{':' + func if func else ''}"]


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


def _contract(body: str, *extra: str) -> Setup:
    return lambda cwd: ["run", "--no-load", "--contract", str(_write("contract.toml", "[model]\n" + body + "\n")(cwd)), *extra]


def _data(content: str) -> Setup:
    return lambda cwd: ["run", "--no-load", "--data", str(_write("data.csv", content)(cwd))]


IRIS_ROWS = "".join(f"{5 + i / 10},3.0,1.5,0.2,{i % 3}\n" for i in range(9))
LOADED = {"requests": 100, "failures": 0, "rps": 50.0, "latency_ms": {"p95": 10.0, "p99": 20.0}}


def _compare_reports(a: dict[str, object], b: dict[str, object], *extra: str) -> Setup:
    def make(cwd: Path) -> list[str]:
        return ["compare", str(_write("a.json", json.dumps({**REPORT, **a}))(cwd)), str(_write("b.json", json.dumps({**REPORT, **b}))(cwd)), *extra]

    return make


def _bad_report_dir(cwd: Path) -> list[str]:
    return ["run", "--report-dir", os.fsdecode(bytes(cwd / "rep") + b"\xff")]


CASES: dict[str, tuple[Setup, str, str]] = {
    # issue 24: a contract file goes through the settings' parsers (same line as the flag)
    "contract: min_accuracy = nan": (_contract("min_accuracy = nan"), "min_accuracy", "finite number, got 'nan' (from contract file"),
    "contract: min_accuracy = 'high'": (_contract('min_accuracy = "high"'), "min_accuracy", "expected a number, got 'high'"),
    "contract: min_accuracy = -1": (_contract("min_accuracy = -1"), "min_accuracy", "between 0 and 1"),
    "contract: min_accuracy = true": (_contract("min_accuracy = true"), "min_accuracy", "between 0 and 1"),
    "contract: min_recall = 1.5": (_contract("min_recall = 1.5"), "min_recall", "between 0 and 1"),
    "contract: features = 'four'": (_contract('features = "four"'), "features", "whole number, got 'four'"),
    "contract: ranges = 'wide'": (_contract('ranges = "wide"'), "ranges", "expected a table"),
    "contract: a range of one number": (_contract("ranges = { a = [1.0] }"), "ranges", "[low, high]"),
    "contract: classes = 'abc'": (_contract('classes = "abc"'), "classes", "non-empty array"),
    "contract: task = 'clustering'": (_contract('task = "clustering"'), "task", "not one of"),
    "contract: golden row with a string": (_contract('features = 4\ntask = "classification"\n[[model.golden]]\ninstances = [[1, "x", 3, 4]]\npredictions = [0]'),
                                           "golden", "holds 'x' for feature 'feature_1', a numeric (float) feature"),
    "flag: min_accuracy nan": (lambda _: ["run", "--min-accuracy", "nan"], "min_accuracy", "finite number, got 'nan' (from flag"),
    # headers: RFC 9110 names, printable ASCII values
    "header value not ASCII": (lambda _: ["run", "--header", "X-Name:caf\u00e9"], "header", "non-ASCII"),
    "header value with CR/LF": (lambda _: ["run", "--header", "X-Name:a\r\nX-Evil: 1"], "header", "line break"),
    "header name with a space": (lambda _: ["run", "--header", "X Name:v"], "header", "RFC 9110 token"),
    "cookie with a line break": (lambda _: ["run", "--cookie", "s=abcdefgh\nx"], "cookie", "line break"),
    # secrets too short or too common to mask
    "URL password too short": (lambda _: ["run", "--target", "endpoint", "--url", "http://u:pw@127.0.0.1:9"], "url", "shorter than 8"),
    "query key too short": (lambda _: ["run", "--target", "endpoint", "--url", "http://127.0.0.1:9/?api_key=k1"], "url", "shorter than 8"),
    "API key header a report word": (lambda _: ["run", "--header", "X-Api-Key:mlharness"], "header", "a word the report itself uses"),
    "gRPC address with credentials": (lambda _: ["run", "--grpc-url", "u:pw-12345678@127.0.0.1:9"], "grpc_url", "holds no credentials"),
    "token too short": (lambda _: ["run", "--token", "failed"], "token", "shorter than 8"),
    # paths, pipeline references, golden files and data: before the report directory
    "report dir not UTF-8": (_bad_report_dir, "report_dir", "not valid UTF-8"),
    "pipeline file missing": (lambda _: ["run", "--pipeline", "nope.py:f"], "pipeline", "does not exist"),
    "pipeline file that does not parse": (_pipeline("p.py", "def pipeline(:\n    pass\n", "pipeline"), "pipeline", "does not parse: line 1"),
    "pipeline function missing": (_pipeline("p.py", "from kfp import dsl\n\ndef train():\n    pass\n", "pipeline"), "pipeline",
                                  "has no function 'pipeline' at its top level (its functions: train)"),
    "pipeline package not YAML": (_pipeline("p.yaml", "a: [1,\n"), "pipeline", "is not valid YAML"),
    # the release diff's candidate: once, and served by the harness on the local target only
    "diff: two candidates": (lambda _: ["diff", "--candidate-artifact", "m", "--candidate-pipeline", "builtin:iris"], "candidate_pipeline",
                             "give the candidate once, not --candidate-artifact and --candidate-pipeline"),
    "diff: a candidate pipeline on the endpoint target": (lambda _: ["diff", "--target", "endpoint", "--url", "http://127.0.0.1:9",
                                                                     "--candidate-pipeline", "builtin:iris"], "candidate_pipeline",
                                                          "served by the local target only"),
    "diff: a candidate gRPC address without its URL": (lambda _: ["diff", "--candidate-artifact", "m", "--candidate-grpc-url", "127.0.0.1:9"],
                                                       "candidate_grpc_url", "goes with its URL"),
    "diff: a candidate gRPC address with credentials": (lambda _: ["diff", "--candidate-url", "http://127.0.0.1:9",
                                                                   "--candidate-grpc-url", "u:pw-12345678@127.0.0.1:9"],
                                                        "candidate_grpc_url", "holds no credentials"),
    "diff: a candidate pipeline that does not parse": (lambda cwd: ["diff", "--candidate-pipeline", f"{_write('c.py', 'def (:')(cwd)}:pipe"],
                                                       "candidate_pipeline", "does not parse: line 1"),
    "golden rows of the wrong width": (_golden(json.dumps([{"instances": [[1, 2, 3]], "predictions": [1]}])), "golden_file", "the model takes 4 features"),
    "golden row with a string": (_golden(json.dumps([{"instances": [[1, "2", 3, 4]], "predictions": [1]}])), "golden_file",
                                 "instance 0 holds '2' for feature 'sepal_width', a numeric (float) feature"),
    "data of one row": (_data("a,b,c,d,label\n5.0,3.0,1.5,0.2,0\n"), "data", "at least 5"),
    "data with nan": (_data("a,b,c,d,label\n" + IRIS_ROWS + "nan,3.0,1.5,0.2,0\n"), "data", "a nan or empty value in feature 'a'"),
    "data with inf": (_data("a,b,c,d,label\n" + IRIS_ROWS + "5.0,inf,1.5,0.2,0\n"), "data", "an infinite value (inf) in feature 'b'"),
    # baselines a run can have measured, of the same system
    "baseline p95 negative": (_baseline(json.dumps({**REPORT, "load": {**LOADED, "latency_ms": {"p95": -5.0}}})), "baseline", "above zero"),
    "baseline p95 zero": (_baseline(json.dumps({**REPORT, "load": {**LOADED, "latency_ms": {"p95": 0.0}}})), "baseline", "above zero"),
    "baseline failures over requests": (_baseline(json.dumps({**REPORT, "load": {**LOADED, "failures": 200}})), "baseline", "more than load.requests"),
    "baseline where every request failed": (_baseline(json.dumps({**REPORT, "load": {**LOADED, "failures": 100}})), "baseline", "measured nothing"),
    "baseline of another model": (_baseline(json.dumps({**REPORT, "endpoint": {"model_name": "wine"}})), "baseline", "model 'wine' (baseline) vs 'sklearn-iris'"),
    "compare: different models": (_compare_reports({"endpoint": {"model_name": "a"}}, {"endpoint": {"model_name": "b"}}), "current", "different systems"),
    "compare: different URLs": (_compare_reports({"target": "endpoint", "endpoint": {"base_url": "http://a:1"}}, {"target": "endpoint", "endpoint": {"base_url": "http://b:1"}}),
                                "current", "url 'http://a:1' (baseline)"),
    "compare: different signatures": (_compare_reports({"contract": {"task": "classification", "features": [{"name": "a"}]}},
                                                       {"contract": {"task": "regression", "features": [{"name": "a"}]}}), "current", "signature"),
    "compare: baseline where every request failed": (_compare_reports({"load": {**LOADED, "failures": 100}}, {}), "baseline", "measured nothing"),
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


def test_compare_of_different_systems_runs_when_told_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _compare_reports({"endpoint": {"model_name": "a"}}, {"endpoint": {"model_name": "b"}}, "--allow-different")(tmp_path)
    assert main(argv) == 0, capsys.readouterr()
    assert "no regression" in capsys.readouterr().out


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
