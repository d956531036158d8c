"""The model contract against a server the harness did not write: MLServer 1.7.1
(mlserver-sklearn, V2 only) serving the example models passes the contract's checks, and the
shuffled-label wine model fails ``predict.quality`` and ``predict.parity`` there too.

Each test runs ``mlharness run --target endpoint --contract ...`` as a child process, as a user
would (see test_verdicts.py for MLServer's known robustness findings, left out here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..helpers.example_models import DIABETES, WINE, train_diabetes, train_wine
from .servers import ForeignServer, ForeignServers
from .test_verdicts import checks, run

JUDGED = ("deploy.ready", "predict.golden", "predict.quality", "predict.parity")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("contract-models")
    return {"wine": train_wine(base / "wine"), "shuffled": train_wine(base / "shuffled", shuffled=True),
            "diabetes": train_diabetes(base / "diabetes")}


@pytest.mark.parametrize(("model", "contract"), [("wine", WINE), ("diabetes", DIABETES)])
def test_mlserver_serving_an_example_model_passes_its_contract(model: str, contract: Path, models: dict[str, Path],
                                                              foreign_servers: ForeignServers, mlserver_venv: Path, tmp_path: Path) -> None:
    server: ForeignServer = foreign_servers.mlserver(mlserver_venv, models[model], model_name=model)
    code, report, console = run(server, tmp_path / "r", "--no-load", "--no-robustness", "--contract", str(contract / "contract.toml"))
    result = checks(report)
    for name in JUDGED:
        assert result[name]["status"] == "passed", (name, result[name]["message"], console[-2000:])
    assert code == 0 and "over V2" in result["predict.golden"]["message"]
    assert result["predict.quality"]["details"]["protocol"] == "v2"


def test_mlserver_serving_a_wine_model_trained_on_shuffled_labels_fails_quality_and_parity(
        models: dict[str, Path], foreign_servers: ForeignServers, mlserver_venv: Path, tmp_path: Path) -> None:
    server = foreign_servers.mlserver(mlserver_venv, models["shuffled"], model_name="wine")
    code, report, _ = run(server, tmp_path / "r", "--no-load", "--no-robustness", "--contract", str(WINE / "contract.toml"),
                          artifact=models["wine"] / "model.joblib")
    result = checks(report)
    assert code == 1 and result["predict.quality"]["status"] == "failed" and result["predict.parity"]["status"] == "failed", result
