"""A mixed-type tabular model (issue 20) against servers the harness did not write: the
scikit-learn Pipeline of examples/penguins (OneHotEncoder on two text columns, StandardScaler
on three numeric ones, LogisticRegression), fitted on a DataFrame, served by MLServer 1.7.1
(mlserver-sklearn, its pandas codec) and by KServe's stock sklearn server.

Told only ``--model-artifact`` and ``--data`` (no contract, no signature setting), the harness
reads the text columns from the data, finds that neither server publishes inputs (MLServer
lists none unless model-settings declares them; KServe's ``Model`` lists none) and sends one
input per column with the pandas content type (V2) and named rows (V1): quality, parity and a
short load window pass on both. The same model trained on shuffled labels fails quality and
parity. One server of each kind per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..helpers.example_models import PENGUINS, train_penguins
from .servers import ForeignServer, ForeignServers
from .test_verdicts import checks, run

pytestmark = pytest.mark.foreign

DATA = str(PENGUINS / "data.csv")
LOAD = ("--duration", "3s", "--warmup", "0s", "--users", "2", "--slo-p95-ms", "2000", "--slo-p99-ms", "5000")
JUDGED = ("deploy.ready", "predict.quality", "predict.parity", "slo.error_rate")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("mixed-models")
    return {"good": train_penguins(base / "good"), "shuffled": train_penguins(base / "shuffled", shuffled=True)}


@pytest.fixture(scope="module")
def mlserver_mixed(models: dict[str, Path], foreign_servers: ForeignServers, mlserver_venv: Path) -> ForeignServer:
    return foreign_servers.mlserver(mlserver_venv, models["good"], model_name="penguins")


@pytest.fixture(scope="module")
def kserve_shuffled(models: dict[str, Path], foreign_servers: ForeignServers) -> ForeignServer:
    return foreign_servers.kserve(models["shuffled"], model_name="penguins")


def _passes(server: ForeignServer, tmp_path: Path, protocols: list[str]) -> None:
    code, report, console = run(server, tmp_path / "r", "--no-robustness", "--data", DATA, *LOAD)
    result = checks(report)
    for name in JUDGED:
        assert result[name]["status"] == "passed", (name, result[name]["message"], console[-2000:])
    signature = result["deploy.ready"]["details"]["signature"]
    assert signature["codec"] == "columns", signature
    assert {t["name"]: t["datatype"] for t in signature["inputs"]} == {
        "island": "BYTES", "sex": "BYTES", "bill_length_mm": "FP64", "flipper_length_mm": "FP64", "body_mass_g": "INT64"}
    assert result["predict.parity"]["details"]["protocols"] == protocols and result["predict.quality"]["details"]["rows"] == 300
    assert report["load"]["requests"] > 0 and report["load"]["failures"] == 0, report["load"]
    assert code == 0, console[-2000:]


def test_mlserver_serving_a_mixed_type_pipeline_passes_quality_parity_and_load(mlserver_mixed: ForeignServer, tmp_path: Path) -> None:
    _passes(mlserver_mixed, tmp_path, ["v2"])


def test_kserve_stock_serving_a_mixed_type_pipeline_passes_quality_parity_and_load(
        models: dict[str, Path], foreign_servers: ForeignServers, tmp_path: Path) -> None:
    _passes(foreign_servers.kserve(models["good"], model_name="penguins"), tmp_path, ["v1", "v2"])


def test_a_mixed_type_pipeline_trained_on_shuffled_labels_fails_quality_and_parity(
        models: dict[str, Path], kserve_shuffled: ForeignServer, tmp_path: Path) -> None:
    code, report, console = run(kserve_shuffled, tmp_path / "r", "--no-load", "--no-robustness", "--data", DATA,
                                artifact=models["good"] / "model.joblib")
    result = checks(report)
    assert result["predict.quality"]["status"] == "failed" and result["predict.parity"]["status"] == "failed", console[-2000:]
    assert code == 1
