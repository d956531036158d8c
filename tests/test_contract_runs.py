"""Whole runs judged by a model contract: the two examples pass end to end on the local target,
a wrong contract stops before the deploy, and injected faults in non-iris models fail
``predict.quality`` (and ``predict.parity`` with an artifact) on the endpoint target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.errors import EXIT_FAILED, EXIT_PASSED, EXIT_USAGE
from harness.run.runner import RunOutcome, run_validation
from harness.serving.local import LocalModelServer

from .helpers.example_models import DIABETES, PENGUINS, WINE, train_diabetes, train_wine

# the load window is short and its latency gates wide: these runs are about the contract
# (latency has its own tests); the error-rate gate stays as it is, so a payload of the wrong
# width (iris rows sent to a wine model) still fails the run
LOAD: dict[str, Any] = {"duration": "4s", "warmup": "1s", "users": 4, "slo_p95_ms": 2000, "slo_p99_ms": 5000}
QUICK: dict[str, Any] = {"target": "endpoint", "load": False, "ready_timeout": "10s", "robustness_profile": "ci"}
EXAMPLES = {
    "wine": (WINE, "pipeline.py:wine_pipeline"),
    "diabetes": (DIABETES, "pipeline.py:diabetes_pipeline"),
    "penguins": (PENGUINS, "pipeline.py:penguins_pipeline"),  # text and numeric columns: per-column requests
}
ROWS = {"wine": 178, "diabetes": 442, "penguins": 300}


def run(tmp_path: Path, **settings: Any) -> RunOutcome:
    return run_validation(load_config(cli=settings, env={}), report_dir=tmp_path / "report")


def statuses(outcome: RunOutcome) -> dict[str, str]:
    return {c["name"]: c["status"] for c in outcome.report["checks"]}


def check(outcome: RunOutcome, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in outcome.report["checks"] if c["name"] == name)
    return found


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_an_example_passes_end_to_end_on_the_local_target(example: str, tmp_path: Path) -> None:
    folder, pipeline = EXAMPLES[example]
    outcome = run(tmp_path, pipeline=f"{folder / pipeline}", contract=str(folder / "contract.toml"), **LOAD)
    result = statuses(outcome)
    judged = ("pipeline.run", "deploy.ready", "predict.golden", "predict.quality", "predict.parity", "predict.protocols",
              "robustness.parity", "robustness.bad_inputs", "slo.p95", "slo.error_rate")
    assert {n: result[n] for n in judged} == dict.fromkeys(judged, "passed"), [(c["name"], c["message"]) for c in outcome.report["checks"]]
    assert outcome.exit_code == EXIT_PASSED
    quality = check(outcome, "predict.quality")["details"]
    assert quality["rows"] == ROWS[example] and quality["task"] == ("regression" if example == "diabetes" else "classification")
    signature = check(outcome, "deploy.ready")["details"]["signature"]
    assert signature["codec"] == ("columns" if example == "penguins" else "tensor"), signature
    assert check(outcome, "predict.parity")["details"]["rows"] == quality["rows"]
    assert outcome.report["load"]["requests"] > 0
    contract = outcome.report["contract"]  # the record keeps the contract the checks followed; the HTML shows it
    assert (contract["name"], contract["rows"], contract["source"]) == (example, quality["rows"], str(folder / "contract.toml"))
    html = (tmp_path / "report" / "report.html").read_text()
    assert "Model contract" in html and f"{example} ({quality['task']})" in html


def test_a_contract_the_trained_model_contradicts_fails_before_the_deploy(tmp_path: Path) -> None:
    outcome = run(tmp_path, pipeline=f"{WINE / 'pipeline.py:wine_pipeline'}", contract=str(DIABETES / "contract.toml"),
                  load=False, robustness=False)
    assert outcome.exit_code == EXIT_USAGE
    assert "deploy.ready" not in statuses(outcome) and statuses(outcome)["pipeline.run"] == "passed"
    error = str(outcome.report["error"])
    assert "the contract" in error and "the artifact" in error and "regression" in error and "classification" in error, error


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    servers: list[LocalModelServer] = []

    def start(model_dir: Path, name: str) -> str:
        server = LocalModelServer(model_dir, name, tmp_path / f"{name}-{len(servers)}.log")
        servers.append(server)
        return server.start(ready_timeout=60).base_url

    yield start
    for server in servers:
        server.stop()


def test_a_wine_model_trained_on_shuffled_labels_fails_quality_and_parity(serve: Any, tmp_path: Path) -> None:
    good = train_wine(tmp_path / "good")
    url = serve(train_wine(tmp_path / "shuffled", shuffled=True), "wine")
    outcome = run(tmp_path, **QUICK, url=url, model_name="wine", contract=str(WINE / "contract.toml"), model_artifact=str(good),
                  robustness=False)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_FAILED and result["deploy.ready"] == "passed"
    assert result["predict.quality"] == "failed" and result["predict.parity"] == "failed", result
    assert "accuracy" in check(outcome, "predict.quality")["message"] and "< threshold 0.95" in check(outcome, "predict.quality")["message"]


def test_a_regressor_whose_answers_are_offset_fails_quality_and_parity(serve: Any, tmp_path: Path) -> None:
    good = train_diabetes(tmp_path / "good")
    url = serve(train_diabetes(tmp_path / "offset", offset=100.0), "diabetes")
    outcome = run(tmp_path, **QUICK, url=url, model_name="diabetes", contract=str(DIABETES / "contract.toml"),
                  model_artifact=str(good), robustness=False)
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_FAILED and result["predict.quality"] == "failed" and result["predict.parity"] == "failed", result
    message = check(outcome, "predict.quality")["message"]
    assert "MAE" in message and "> threshold 50" in message and "R²" in message, message
    assert result["predict.golden"] == "failed"  # 201.7 expected, 301.7 served


def test_an_endpoint_with_a_contract_and_no_artifact_skips_parity_with_the_reason(serve: Any, tmp_path: Path) -> None:
    url = serve(train_wine(tmp_path / "wine"), "wine")
    outcome = run(tmp_path, **QUICK, url=url, model_name="wine", contract=str(WINE / "contract.toml"))
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_PASSED, [(c["name"], c["message"]) for c in outcome.report["checks"]]
    assert result["predict.quality"] == "passed" and result["predict.golden"] == "passed"
    parity = check(outcome, "predict.parity")
    assert parity["status"] == "skipped" and "--model-artifact" in parity["message"] and "contract's data" in parity["message"]
    assert result["robustness.bad_inputs"] == "passed"


def test_an_endpoint_with_an_artifact_and_data_infers_the_contract(serve: Any, tmp_path: Path) -> None:
    model = train_diabetes(tmp_path / "diabetes")
    url = serve(model, "diabetes")
    outcome = run(tmp_path, **QUICK, url=url, model_name="diabetes", model_artifact=str(model), data=str(DIABETES / "data.csv"))
    result = statuses(outcome)
    assert outcome.exit_code == EXIT_PASSED, [(c["name"], c["message"]) for c in outcome.report["checks"]]
    for name in ("predict.quality", "predict.parity", "predict.protocols", "robustness.parity", "robustness.bad_inputs"):
        assert result[name] == "passed", (name, check(outcome, name)["message"])
    assert result["predict.golden"] == "skipped"  # an inferred contract has no golden cases
    assert check(outcome, "predict.quality")["details"]["task"] == "regression"


def test_the_committed_data_is_what_the_pipelines_load_step_writes(tmp_path: Path) -> None:
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("penguins_pipeline", PENGUINS / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.load.python_func(SimpleNamespace(path=str(tmp_path / "data.csv")))
    assert (tmp_path / "data.csv").read_bytes() == (PENGUINS / "data.csv").read_bytes()
