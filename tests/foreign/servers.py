"""Third-party model servers as test counterparts: started on 127.0.0.1, waited for, stopped.

- **MLServer** 1.7.1 with ``mlserver_sklearn.SKLearnModel`` (Seldon's server; KServe ships it as
  the ``kserve-mlserver`` ClusterServingRuntime), from its own venv (``venvs.MLSERVER``).
- **KServe's stock sklearn server** (:mod:`tests.foreign.kserve_sklearn`), in our venv.

Each runs as a tracked child (:func:`harness.procs.spawn`: its own process group, stopped on
teardown, at exit, and with the harness's reaping on Ctrl-C), behind a tiny launcher that asks
Linux to SIGTERM it if the test process dies outright (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from harness import procs
from harness.errors import WaitTimeout
from harness.results import Endpoint
from tests.helpers.servers import ChildServer

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]
MODEL_NAME = "sklearn-iris"
SEED_ROWS = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
READY_TIMEOUT = 120.0
TRITON_INFER = Path(__file__).with_name("triton_infer.py")

# exec the real server with PR_SET_PDEATHSIG set: it gets SIGTERM if the test process dies
LAUNCH = (
    "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); "
    "os.getppid() != 1 or sys.exit('the test process is gone'); os.execv(sys.argv[1], sys.argv[1:])"
)


def train_iris(out_dir: Path, *, faulty: bool = False) -> Path:
    """``out_dir/model.joblib``: an SVC trained as ``harness/pipelines/iris.py``'s ``train`` does.

    Same split (70 %, stratified, seed 42) and estimator (``SVC(gamma="scale", random_state=42)``).
    ``faulty`` trains on labels rotated by one class (0→1, 1→2, 2→0): a model that loads and
    answers confidently, and wrongly (the seed rows answer ``[2, 2]``).
    """
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    data = load_iris()
    x_train, _, y_train, _ = train_test_split(data.data, data.target, test_size=0.3, random_state=42, stratify=data.target)
    if faulty:
        y_train = (y_train + 1) % 3
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(SVC(gamma="scale", random_state=42).fit(x_train, y_train), out_dir / "model.joblib")
    return out_dir


class ForeignServer(ChildServer):
    """One third-party server process and where it answers (ready when every ready path answers 200).

    Attributes:
        kind: ``"mlserver"`` or ``"kserve"``, for messages.
        command: the server's command line (without the launcher).
        model_name: the model it serves.
        model_dir: the directory holding the served ``model.joblib``.
        protocols: the REST protocols it speaks (``v1``, ``v2``).
        ready_paths: GET paths that must all answer 200 before it counts as ready.
        ports: every port it listens on, by role (``http``, ``grpc``, ``metrics``).
    """

    interval = 0.2
    grace = 5.0

    def __init__(self, *, kind: str, command: list[str], model_name: str, model_dir: Path, protocols: tuple[str, ...],
                 ready_paths: tuple[str, ...], log_path: Path, cwd: Path, ports: dict[str, int], env: Mapping[str, str] | None = None) -> None:
        super().__init__(log_path, port=ports["http"], cwd=cwd, env=env)
        self.kind = kind
        self.command = command
        self.model_name = model_name
        self.model_dir = model_dir
        self.protocols = protocols
        self.ready_paths = ready_paths
        self.ports = ports
        self.what = f"{kind} to serve {model_name}"
        self._last_probe = "no probe yet"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of its REST API."""
        return self.url

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.base_url, self.model_name, protocols=self.protocols, description=f"{self.kind} (third-party)")

    @property
    def model_artifact(self) -> Path:
        return self.model_dir / "model.joblib"

    def argv(self) -> list[str]:
        return [sys.executable, "-c", LAUNCH, *self.command]

    def start(self, timeout: float = READY_TIMEOUT) -> ForeignServer:
        """Start the process and wait until every ready path answers 200.

        Raises:
            WaitTimeout: not ready within ``timeout``, or the process died; the message has the
                last probe's answer and the tail of the server's log. The server is stopped.
        """
        super().start(timeout)
        return self

    def ready(self) -> bool:
        for path in self.ready_paths:
            try:
                status = httpx.get(self.base_url + path, timeout=2.0).status_code
            except httpx.HTTPError as exc:
                self._last_probe = f"GET {path}: {type(exc).__name__}"
                return False
            self._last_probe = f"GET {path}: HTTP {status}"
            if status != 200:
                return False
        return True

    def describe(self) -> str:
        return f"last probe {self._last_probe}; {super().describe()}"


def mlserver(venv: Path, model_dir: Path, work: Path, model_name: str = MODEL_NAME) -> ForeignServer:
    """MLServer serving ``model_dir/model.joblib`` with mlserver-sklearn, all ports on 127.0.0.1.

    Settings (SeldonIO/MLServer 1.7.1, ``mlserver/settings.py``): ``host`` is where the REST,
    gRPC and metrics servers all bind (``rest/server.py``, ``grpc/server.py``,
    ``metrics/server.py``); ``http_port``, ``grpc_port``, ``metrics_port`` default to
    8080/8081/8082; ``metrics_dir`` and ``environments_dir`` default to ``.metrics`` and ``.envs``
    under the working directory and are written when parallel inference is on (the default,
    ``parallel_workers=1``): both go under ``work``, which is also the working directory, so no
    ``.env`` file of the caller's is read. ``mlserver start FOLDER`` reads ``FOLDER/settings.json``
    and every ``model-settings.json`` below it (``mlserver/cli/serve.py``).
    """
    ports = {"http": procs.free_port(HOST), "grpc": procs.free_port(HOST), "metrics": procs.free_port(HOST)}
    repo = work / "models"
    (repo / model_name).mkdir(parents=True, exist_ok=True)
    settings = {
        "host": HOST,
        "http_port": ports["http"],
        "grpc_port": ports["grpc"],
        "metrics_port": ports["metrics"],
        "metrics_dir": str(work / "metrics"),
        "environments_dir": str(work / "envs"),
    }
    (repo / "settings.json").write_text(json.dumps(settings, indent=1))
    model_settings = {
        "name": model_name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(Path(model_dir).resolve() / "model.joblib")},
    }
    (repo / model_name / "model-settings.json").write_text(json.dumps(model_settings, indent=1))
    return ForeignServer(
        kind="mlserver",
        command=[str(venv / "bin" / "mlserver"), "start", str(repo)],
        model_name=model_name,
        model_dir=Path(model_dir),
        protocols=("v2",),
        ready_paths=("/v2/health/ready", f"/v2/models/{model_name}/ready"),
        log_path=work / "mlserver.log",
        cwd=work,
        ports=ports,
    )


def kserve_stock(model_dir: Path, work: Path, model_name: str = MODEL_NAME, env: Mapping[str, str] | None = None) -> ForeignServer:
    """KServe's stock sklearn server (:mod:`tests.foreign.kserve_sklearn`) on a free port.

    ``env`` adds environment variables, e.g. upstream's ``PREDICT_PROBA=true`` (probabilities
    instead of labels).
    """
    port = procs.free_port(HOST)
    work.mkdir(parents=True, exist_ok=True)
    return ForeignServer(
        kind="kserve-sklearn",
        command=[sys.executable, "-m", "tests.foreign.kserve_sklearn", "--model_name", model_name,
                 "--model_dir", str(model_dir), "--http_port", str(port)],
        model_name=model_name,
        model_dir=Path(model_dir),
        protocols=("v1", "v2"),
        ready_paths=(f"/v1/models/{model_name}", f"/v2/models/{model_name}/ready"),
        log_path=work / "kserve-sklearn.log",
        cwd=REPO,  # so ``-m tests.foreign.kserve_sklearn`` resolves
        ports={"http": port},
        env={"PYTHONUNBUFFERED": "1", **(env or {})},
    )


TRITON_SERVER = Path(__file__).with_name("pytriton_server.py")


def triton(venv: Path, model_dir: Path, work: Path, model_name: str, *, features: int, datatype: str = "FP32",
           wrong_every: int = 0) -> ForeignServer:
    """NVIDIA Triton (the tritonserver ``nvidia-pytriton`` 0.7.0 ships) serving ``model_dir/model.joblib``
    with its natural signature (:mod:`tests.foreign.pytriton_server`), every port on 127.0.0.1.

    Its Python backend stub links ``libpython3.11.so`` without a search path: it starts with
    ``LD_LIBRARY_PATH`` set to the venv interpreter's ``LIBDIR`` (else the model fails to load on
    a pyenv Python). It ignores SIGINT in the background; :meth:`ForeignServer.stop` sends SIGTERM.
    """
    python = venv / "bin" / "python"
    libdir = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    ports = {"http": procs.free_port(HOST), "grpc": procs.free_port(HOST), "metrics": procs.free_port(HOST)}
    work.mkdir(parents=True, exist_ok=True)
    argv = [str(python), str(TRITON_SERVER), "--artifact", str(Path(model_dir) / "model.joblib"), "--model-name", model_name,
            "--features", str(features), "--datatype", datatype, "--wrong-every", str(wrong_every),
            "--http-port", str(ports["http"]), "--grpc-port", str(ports["grpc"]), "--metrics-port", str(ports["metrics"])]
    return ForeignServer(
        kind="triton",
        command=argv,
        model_name=model_name,
        model_dir=Path(model_dir),
        protocols=("v2", "grpc"),
        ready_paths=("/v2/health/ready", f"/v2/models/{model_name}/ready"),
        log_path=work / "triton.log",
        cwd=work,
        ports=ports,
        env={"LD_LIBRARY_PATH": libdir, "PYTHONUNBUFFERED": "1"},
    )


class ForeignServers:
    """Starts counterparts on demand and stops them all at the end (the session fixture's object)."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.started: list[ForeignServer] = []

    def _start(self, server: ForeignServer, timeout: float) -> ForeignServer:
        self.started.append(server)
        return server.start(timeout)

    def mlserver(self, venv: Path, model_dir: Path, *, model_name: str = MODEL_NAME, timeout: float = READY_TIMEOUT) -> ForeignServer:
        """A started MLServer serving ``model_dir`` as ``model_name``."""
        work = self.work / f"mlserver-{len(self.started)}"
        return self._start(mlserver(venv, model_dir, work, model_name), timeout)

    def kserve(
        self, model_dir: Path, *, model_name: str = MODEL_NAME, env: Mapping[str, str] | None = None, timeout: float = READY_TIMEOUT,
    ) -> ForeignServer:
        """A started stock KServe sklearn server serving ``model_dir`` as ``model_name``."""
        work = self.work / f"kserve-{len(self.started)}"
        return self._start(kserve_stock(model_dir, work, model_name, env), timeout)

    def triton(self, venv: Path, model_dir: Path, *, model_name: str, features: int, datatype: str = "FP32",
               wrong_every: int = 0, timeout: float = READY_TIMEOUT) -> ForeignServer:
        """A started Triton serving ``model_dir`` as ``model_name`` with input ``input__0`` of ``datatype``."""
        work = self.work / f"triton-{len(self.started)}"
        return self._start(triton(venv, model_dir, work, model_name, features=features, datatype=datatype,
                                  wrong_every=wrong_every), timeout)

    def stop_all(self) -> None:
        for server in reversed(self.started):
            server.stop()


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as Linux's ``/proc/net/tcp*`` shows them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def flat(data: Any) -> list[Any]:
    """Nested tensor data as a flat list (``[[1], [1]]`` -> ``[1, 1]``)."""
    if isinstance(data, list):
        return [item for value in data for item in flat(value)]
    return [data]


def triton_infer(
    python: Path, base_url: str, model_name: str, rows: Sequence[Sequence[float]], *,
    binary: bool, outputs: Sequence[str] = (), timeout: float = 60.0,
) -> dict[str, Any]:
    """One infer call by tritonclient (in its own venv's ``python``): its JSON answer.

    ``{"ok": true, "outputs": {name: values}, "response": {...}}``, or ``{"ok": false, "status":
    ..., "message": ...}`` when the server refused the request.
    """
    argv = [str(python), str(TRITON_INFER), "--url", base_url.removeprefix("http://"), "--model", model_name,
            "--rows", json.dumps([list(r) for r in rows])]
    argv += ["--binary"] if binary else []
    for name in outputs:
        argv += ["--output", name]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise WaitTimeout(f"tritonclient's infer against {base_url}", timeout, str(exc.stderr or "")[-2000:]) from None
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"tritonclient failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
