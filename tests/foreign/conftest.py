"""Fixtures: third-party counterparts (MLServer, KServe's stock sklearn server, tritonclient).

Layered so a test can take what it needs and override one piece:

- ``iris_model_dir`` / ``faulty_model_dir``: models trained as the reference pipeline trains;
- ``mlserver_venv`` / ``tritonclient_python``: their own venvs, built on first use (skip only
  when the package index is unreachable);
- ``foreign_servers``: a session factory that starts more servers (variants) and stops them all;
- ``mlserver``, ``mlserver_faulty``, ``kserve_stock``, ``kserve_stock_faulty``: started servers
  (:class:`tests.foreign.servers.ForeignServer`), each started the first time a test asks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import ForeignServer, ForeignServers, train_iris
from .venvs import (
    MLSERVER,
    PYTRITON,
    TRITONCLIENT,
    IndexUnreachable,
    VenvSpec,
    ensure_venv,
    python_of,
)


def _venv(spec: VenvSpec) -> Path:
    try:
        return ensure_venv(spec)
    except IndexUnreachable as exc:
        pytest.skip(f"{spec.name} venv: {exc}")


@pytest.fixture(scope="session")
def iris_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model.joblib`` trained as ``harness/pipelines/iris.py`` trains it."""
    return train_iris(tmp_path_factory.mktemp("iris-model"))


@pytest.fixture(scope="session")
def faulty_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same SVC trained on rotated labels: serves fine, answers wrongly."""
    return train_iris(tmp_path_factory.mktemp("faulty-model"), faulty=True)


@pytest.fixture(scope="session")
def mlserver_venv() -> Path:
    return _venv(MLSERVER)


@pytest.fixture(scope="session")
def pytriton_venv() -> Path:
    return _venv(PYTRITON)


@pytest.fixture(scope="session")
def tritonclient_python() -> Path:
    return python_of(_venv(TRITONCLIENT))


@pytest.fixture(scope="session")
def foreign_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForeignServers]:
    servers = ForeignServers(tmp_path_factory.mktemp("foreign"))
    try:
        yield servers
    finally:
        servers.stop_all()


@pytest.fixture(scope="session")
def mlserver(foreign_servers: ForeignServers, mlserver_venv: Path, iris_model_dir: Path) -> ForeignServer:
    """MLServer 1.7.1 + mlserver-sklearn serving the iris model as ``sklearn-iris`` (V2 only)."""
    return foreign_servers.mlserver(mlserver_venv, iris_model_dir)


@pytest.fixture(scope="session")
def mlserver_faulty(foreign_servers: ForeignServers, mlserver_venv: Path, faulty_model_dir: Path) -> ForeignServer:
    return foreign_servers.mlserver(mlserver_venv, faulty_model_dir)


@pytest.fixture(scope="session")
def kserve_stock(foreign_servers: ForeignServers, iris_model_dir: Path) -> ForeignServer:
    """KServe's stock sklearn server (no validation of ours) serving the iris model (V1 and V2)."""
    return foreign_servers.kserve(iris_model_dir)


@pytest.fixture(scope="session")
def kserve_stock_faulty(foreign_servers: ForeignServers, faulty_model_dir: Path) -> ForeignServer:
    return foreign_servers.kserve(faulty_model_dir)
