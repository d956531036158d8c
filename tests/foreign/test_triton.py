"""NVIDIA Triton (tritonserver 2.x from ``nvidia-pytriton`` 0.7.0) with its natural signature:
the harness, told only the URL, the model name, the artifact and the labelled data, reads the
signature from Triton's metadata and speaks it over REST and gRPC (issue 20).

The served model: a scikit-learn classifier of the breast-cancer data, model ``breast_cancer``
(an underscore: refused by the old DNS rule), input ``input__0`` FP32 (or FP64) ``[-1, 30]``,
output ``predict`` INT64 ``[-1, 1]``, ``max_batch_size`` 256. Triton enforces all of it: the
old ``input-0`` request was answered 400 ``unexpected inference input 'input-0'``.
Triton's own answers to malformed requests are real findings (docs/conformance.md); these
tests judge the checks the signature decides, each by name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .servers import ForeignServer, ForeignServers
from .test_verdicts import checks, run

MODEL = "breast_cancer"
FEATURES = 30
ACCEPTED = Path(__file__).resolve().parents[2] / "examples" / "triton" / "accepted-findings.toml"
JUDGED = ("deploy.ready", "predict.quality", "predict.parity", "robustness.parity")


@pytest.fixture(scope="module")
def cancer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``model.joblib`` (scaler + logistic regression) and ``data.csv`` (569 labelled rows, column ``label``)."""
    import joblib
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    base = tmp_path_factory.mktemp("breast-cancer")
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns[:-1]] + ["label"]
    frame.to_csv(base / "data.csv", index=False)
    features = frame.drop(columns="label").to_numpy()
    joblib.dump(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(features, frame["label"]), base / "model.joblib")
    return {"model_dir": base, "data": base / "data.csv"}


def _triton(servers: ForeignServers, venv: Path, cancer: dict[str, Path], **kwargs: object) -> ForeignServer:
    return servers.triton(venv, cancer["model_dir"], model_name=MODEL, features=FEATURES, **kwargs)  # type: ignore[arg-type]


def _run(server: ForeignServer, out: Path, cancer: dict[str, Path], *extra: str) -> tuple[int, dict, str]:
    return run(server, out, "--grpc-url", f"127.0.0.1:{server.ports['grpc']}", "--data", str(cancer["data"]),
               "--duration", "6s", "--warmup", "1s", "--users", "2", *extra)


def test_triton_with_its_natural_signature_passes_over_rest_and_grpc(
        foreign_servers: ForeignServers, pytriton_venv: Path, cancer: dict[str, Path], tmp_path: Path) -> None:
    server = _triton(foreign_servers, pytriton_venv, cancer)
    code, report, console = _run(server, tmp_path / "r", cancer, "--accepted-findings", str(ACCEPTED))
    result = checks(report)
    for name in (*JUDGED, "robustness.bad_inputs"):
        assert result[name]["status"] == "passed", (name, result[name]["message"], console[-3000:])
    assert "V2 and V2 gRPC" in result["predict.quality"]["message"], result["predict.quality"]["message"]
    signature = report["endpoint"]["signature"]
    assert signature["inputs"] == [{"name": "input__0", "datatype": "FP32", "shape": [-1, FEATURES]}]
    assert signature["max_batch_size"] == 256
    assert signature["sources"]["inputs"] == f"the server's metadata (GET /v2/models/{MODEL})"
    load = report["load"]
    assert load["requests"] > 0 and load["failures"] == 0, {k: load.get(k) for k in ("requests", "failures", "errors")}
    assert result["slo.error_rate"]["status"] == "passed"
    assert result["robustness.bad_inputs"]["details"]["accepted"], "Triton's 500s are accepted by the file, not absent"
    assert code == 0, console[-3000:]


def test_an_fp64_triton_model_passes_and_load_over_grpc_has_no_errors(
        foreign_servers: ForeignServers, pytriton_venv: Path, cancer: dict[str, Path], tmp_path: Path) -> None:
    server = _triton(foreign_servers, pytriton_venv, cancer, datatype="FP64")
    code, report, console = _run(server, tmp_path / "r", cancer, "--no-robustness", "--load-protocol", "grpc")
    result = checks(report)
    for name in ("deploy.ready", "predict.quality", "predict.parity", "slo.error_rate"):
        assert result[name]["status"] == "passed", (name, result[name]["message"], console[-3000:])
    assert report["endpoint"]["signature"]["inputs"][0]["datatype"] == "FP64"
    load = report["load"]
    assert load["protocol"] == "grpc" and load["requests"] > 0 and load["failures"] == 0
    assert code == 0, console[-3000:]


def test_a_triton_model_wrong_on_a_tenth_of_its_rows_fails_quality_and_parity(
        foreign_servers: ForeignServers, pytriton_venv: Path, cancer: dict[str, Path], tmp_path: Path) -> None:
    server = _triton(foreign_servers, pytriton_venv, cancer, wrong_every=10)
    code, report, console = _run(server, tmp_path / "r", cancer, "--no-robustness", "--no-load")
    result = checks(report)
    assert result["deploy.ready"]["status"] == "passed", console[-3000:]
    assert result["predict.quality"]["status"] == "failed", result["predict.quality"]["message"]
    assert result["predict.parity"]["status"] == "failed", result["predict.parity"]["message"]
    assert code == 1
