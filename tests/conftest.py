"""Shared fixtures of the harness's own tests: a trained model and a served one."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import procs
from harness.results import Endpoint
from harness.serving.local import LocalModelServer

from .helpers.fault_server import FaultServer
from .helpers.servers import ChildServers

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent


def train_model(out_dir: Path, *, flip: bool = False) -> Path:
    """An SVC on iris saved as ``out_dir/model.joblib`` (``flip`` trains on wrong labels)."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    data = load_iris()
    labels = (data.target + 1) % 3 if flip else data.target
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(SVC(random_state=0).fit(data.data, labels), out_dir / "model.joblib")
    return out_dir


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="session")
def served(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """The harness's KServe runtime serving ``model_dir`` on 127.0.0.1, for the session."""
    server = LocalModelServer(model_dir, "sklearn-iris", tmp_path_factory.mktemp("server") / "server.log")
    endpoint = server.start(ready_timeout=60)
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def grpc_served(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalModelServer, Endpoint]]:
    """The harness's KServe runtime with V2 gRPC on as well, for the session: the server (for its
    ports) and its endpoint. (``mlharness run`` in-process reaps only its own children: tests
    can share both servers.)"""
    server = LocalModelServer(model_dir, "sklearn-iris", tmp_path_factory.mktemp("grpc-server") / "server.log", grpc=True)
    endpoint = server.start(ready_timeout=90)
    yield server, endpoint
    server.stop()


@pytest.fixture
def child_servers(tmp_path: Path) -> Iterator[ChildServers]:
    """Starts helper servers (``child_servers.start("tests.helpers.load_server", "--delay-ms", "20")``)
    for one test, each on a free 127.0.0.1 port and waited for; stops them all afterwards."""
    servers = ChildServers(tmp_path / "servers")
    try:
        yield servers
    finally:
        servers.stop_all()


@pytest.fixture
def stub(child_servers: ChildServers) -> Callable[..., Endpoint]:
    """Starts ``tests/helpers/load_server.py`` with the given flags (stopped at the test's end)."""

    def start(*args: str) -> Endpoint:
        return Endpoint(child_servers.start("tests.helpers.load_server", *args).url, "stub")

    return start


@pytest.fixture
def fault_server(model_dir: Path, tmp_path: Path) -> Iterator[Callable[[str], FaultServer]]:
    """Start fault servers for one test; all are stopped afterwards."""
    started: list[FaultServer] = []

    def start(fault: str) -> FaultServer:
        server = FaultServer(model_dir, fault, tmp_path / f"fault-{fault}.log").start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def no_leaked_children() -> Iterator[None]:
    """Fails the test if it leaves a tracked child process running."""
    before = set(p.pid for p in procs.running())
    yield
    leaked = [p.pid for p in procs.running() if p.pid not in before]
    assert not leaked, f"child processes left running: {leaked}"


PYTHON = sys.executable
