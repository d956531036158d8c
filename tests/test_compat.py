"""``deploy.compat`` on real artifacts: one dumped by this scikit-learn, one whose recorded version
is rewritten in the pickle stream, corrupt ones; against the local runtime and KServe's pinned
sklearn server."""

from __future__ import annotations

import pickle
import types
from pathlib import Path

import joblib
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.svm import SVC

from harness.checks.compat import (
    check_artifact,
    deploy_compat,
    pipeline_training,
    read_pickle_facts,
)
from harness.cluster.provision.versions import KSERVE_RELEASES, resolve
from harness.results import CheckStatus
from harness.targets.base import RuntimeVersions
from harness.targets.cluster import kserve_runtime
from harness.targets.local import local_runtime

HERE = sklearn.__version__
OTHER = "1.5.2" if HERE != "1.5.2" else "1.4.2"
assert len(OTHER) == len(HERE), "the rewrite below keeps the string's length"


@pytest.fixture(scope="module")
def model() -> SVC:
    x, y = load_iris(return_X_y=True)
    return SVC().fit(x, y)


@pytest.fixture
def dumped(model: SVC, tmp_path: Path) -> Path:
    """A model directory as the iris pipeline's train writes it (``model.joblib``)."""
    joblib.dump(model, tmp_path / "model.joblib")
    return tmp_path


def rewrite_version(path: Path, old: str, new: str) -> None:
    data = path.read_bytes()
    # SHORT_BINUNICODE <len> <utf-8>: the value joblib's pickler wrote for _sklearn_version
    needle = bytes([0x8C, len(old)]) + old.encode()
    assert needle in data
    path.write_bytes(data.replace(needle, bytes([0x8C, len(new)]) + new.encode()))


def test_an_artifact_of_this_scikit_learn_passes_on_the_local_runtime(dumped: Path) -> None:
    assert read_pickle_facts(dumped / "model.joblib").sklearn == (HERE,)
    result = check_artifact(dumped, None, local_runtime(), load=True)
    assert result.status is CheckStatus.PASSED, result.message
    assert f"scikit-learn {HERE}" in result.message and result.name == "deploy.compat"


def test_a_rewritten_version_warns_naming_both(dumped: Path) -> None:
    rewrite_version(dumped / "model.joblib", HERE, OTHER)
    assert read_pickle_facts(dumped / "model.joblib").sklearn == (OTHER,)
    result = check_artifact(dumped, None, local_runtime(), load=True)
    assert result.status is CheckStatus.WARNED
    assert f"scikit-learn {OTHER} trained it" in result.message and f"scikit-learn {HERE}" in result.message
    assert "InconsistentVersionWarning" in result.message, "the real load warned as well"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "bad-zlib"])
def test_an_artifact_the_server_cannot_load_fails(damage: str, dumped: Path) -> None:
    path = dumped / "model.joblib"
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"<html>404 Not Found</html>", "empty": b"",
                      "bad-zlib": b"\x78\x9c" + b"\x00" * 40}[damage])
    for serving in (local_runtime(), kserve_runtime(resolve().kserve_release.sklearn_server)):
        result = check_artifact(dumped, None, serving)
        assert result.status is CheckStatus.FAILED and "cannot load" in result.message, (damage, result.message)


def test_a_stream_that_looks_whole_but_does_not_unpickle_fails_on_the_local_runtime(dumped: Path) -> None:
    path = dumped / "model.joblib"
    path.write_bytes(pickle.dumps(types.SimpleNamespace, protocol=2).replace(b"types", b"typez"))
    result = check_artifact(dumped, None, local_runtime(), load=True)
    assert result.status is CheckStatus.FAILED and "ModuleNotFoundError" in result.message


@pytest.mark.parametrize("how", [3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)])
def test_compressed_joblib_files_are_read(how: object, model: SVC, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(model, path, compress=how)
    assert read_pickle_facts(path).sklearn == (HERE,)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_plain_pickles_of_any_protocol_are_read(protocol: int, model: SVC, tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model, protocol=protocol))
    facts = read_pickle_facts(path)
    assert facts.sklearn == (HERE,) and facts.numpy_major == 2


def test_kserve_pinned_server_is_compared_with_its_source(dumped: Path) -> None:
    server = KSERVE_RELEASES["v0.20.0"].sklearn_server
    result = check_artifact(dumped, None, kserve_runtime(server))
    assert result.status is CheckStatus.WARNED
    assert f"scikit-learn {HERE} trained it" in result.message and "kserve/sklearnserver:v0.20.0" in result.message
    assert "scikit-learn 1.5.2" in result.message
    assert "uv.lock" in result.details["serving"]["source"]


def test_numpy_2_arrays_cannot_load_on_a_numpy_1_server(dumped: Path) -> None:
    numpy1 = RuntimeVersions("an old server", HERE, numpy="1.26.4")
    result = check_artifact(dumped, None, numpy1)
    assert result.status is CheckStatus.FAILED and "numpy 2" in result.message


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.pipelines.compile import compile_pipeline

    return compile_pipeline(None, tmp_path_factory.mktemp("pkg")).path


def test_without_an_artifact_the_pipelines_pins_stand_in(package: Path) -> None:
    trained = pipeline_training(package)
    assert trained is not None and trained.sklearn == HERE and trained.python == "3.11.10"
    result = deploy_compat(kserve_runtime(KSERVE_RELEASES["v0.20.0"].sklearn_server), False, None, package)
    assert result.status is CheckStatus.WARNED and f"scikit-learn {HERE} trained it" in result.message


def test_the_cluster_target_names_the_pinned_kserve_server(tmp_path: Path) -> None:
    from harness.config import load_config
    from harness.targets.base import TargetContext
    from harness.targets.cluster import KindTarget, KubeconfigTarget
    from tests.helpers.cluster_fakes import FakeRunner

    kind = KindTarget(TargetContext(load_config(cli={"target": "kind", "versions": "kserve=v0.15.0"}, env={}), tmp_path),
                      FakeRunner(), state_root=tmp_path)
    runtime = kind.serving_runtime()
    assert runtime is not None and runtime.where == "kserve/sklearnserver:v0.15.0" and runtime.sklearn == "1.5.1"
    existing = KubeconfigTarget(TargetContext(load_config(cli={"target": "kubeconfig"}, env={}), tmp_path), FakeRunner())
    assert existing.serving_runtime() is None
    assert deploy_compat(existing.serving_runtime(), existing.serves_with_this_python, None, None).status is CheckStatus.SKIPPED


def test_an_unknown_serving_side_is_skipped(dumped: Path) -> None:
    result = deploy_compat(None, False, dumped, None)
    assert result.status is CheckStatus.SKIPPED and "unknown" in result.message
