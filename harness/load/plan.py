"""What a load run will do, and the locust command lines that do it.

This is the seam between the harness and locust's processes. :class:`LoadPlan` holds
everything the locustfile needs; :func:`locust_argv` and :func:`locust_env` turn it into
the command line and environment of a local run (``--processes``: one master that forks
its workers, fast to start; a single standalone process when ``processes`` is 1) or of a
separate ``master`` and ``worker`` (``--master`` / ``--worker``: what a Kubernetes Job
runs). Nothing here imports locust.

Example:
    >>> plan = LoadPlan.from_config(Endpoint("http://127.0.0.1:8080", "iris"), HarnessConfig())  # doctest: +SKIP
    >>> locust_argv(plan, "local", out_dir)  # doctest: +SKIP
    ['.../python', '-m', 'locust', '-f', '.../locustfile.py', '--headless', '--processes', '2', ...]
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from harness.config import HarnessConfig
from harness.config.urls import masked
from harness.contract.resolve import read_contract
from harness.errors import ConfigError
from harness.inference import tls
from harness.inference.encoder import Encoder
from harness.results import Endpoint

WORKER_DIR = Path(__file__).with_name("worker")
LOCUSTFILE = WORKER_DIR / "locustfile.py"
"""The locustfile, a plain module file of :mod:`harness.load.worker` (``locust -f LOCUSTFILE``)."""
LOCUST_MODULES = tuple(sorted(p for p in WORKER_DIR.glob("*.py") if p.name not in ("locustfile.py", "__init__.py")))
"""The modules the locustfile loads from beside itself: ship them with it."""
GEVENT_MODULES = ("http_sender.py", "user.py")
"""Those of :data:`LOCUST_MODULES` that import gevent or locust: the harness never imports them (the
others are plain Python, which the harness may import to read what the workers write)."""
DRAIN_MARGIN_S = 1.0  # as harness.load.worker.settings: past the request timeout, the last figures are written

Role = Literal["local", "master", "worker"]
MASTER_PORT = 5557
WORKER_WAIT_S = 30  # how long a master waits for its workers to connect
ROW_LIMIT = 200  # rows shipped to the workers, from the model contract (iris has 150)
RUN_TIME_BACKSTOP_S = 5  # --run-time = window + this; the locustfile stops the test first
#: when set, a master waits (workers connected) until this file exists before starting the
#: test: the harness starts locust early and releases it when the load phase begins
GO_FILE_ENV = "MLH_LOAD_GO"
#: the pid of the process that started locust: locust exits as soon as it is not its parent
PARENT_ENV = "MLH_LOAD_PARENT"
PROTOCOLS = ("v1", "v2")  # over REST; "grpc" (V2 over gRPC) only when asked for


def load_protocol(requested: str, spoken: Sequence[str]) -> str:
    """The request kinds to load ``v1``, ``v2``, ``mixed`` or ``grpc``, from ``load_protocol`` and what the endpoint speaks.

    ``auto``: ``mixed`` when the endpoint speaks V1 and V2, else the REST one it speaks, else
    ``grpc`` for a gRPC-only endpoint. ``grpc`` only when asked for (or the only one spoken).

    Raises:
        ConfigError: an explicit protocol the endpoint does not speak (named with what it does
            speak), or an endpoint that speaks none.
    """
    speaks = [p for p in PROTOCOLS if p in spoken]
    if requested == "grpc" or (requested == "auto" and not speaks and "grpc" in spoken):
        if "grpc" not in spoken:
            raise ConfigError(
                f"grpc needs V2 gRPC, but the endpoint speaks {' and '.join(p.upper() for p in speaks) or 'no protocol'} "
                "(give its gRPC address with --grpc-url)",
                "load_protocol",
            )
        return "grpc"
    if requested == "auto":
        if not speaks:
            raise ConfigError("the endpoint speaks neither V1 nor V2: nothing to load", "load_protocol")
        return "mixed" if len(speaks) == len(PROTOCOLS) else speaks[0]
    wanted = list(PROTOCOLS) if requested == "mixed" else [requested]
    missing = [p for p in wanted if p not in speaks]
    if missing:
        raise ConfigError(
            f"{requested} needs {' and '.join(m.upper() for m in missing)}, but the endpoint speaks "
            f"{' and '.join(p.upper() for p in speaks) or 'neither V1 nor V2'}; use load_protocol = auto",
            "load_protocol",
        )
    return requested


@dataclasses.dataclass(frozen=True)
class LoadPlan:
    """One load run, independent of where its processes run.

    Args:
        base_url: the endpoint's base URL (``--host`` of locust).
        model_name: the served model's name.
        headers: sent with every request; may hold secrets, so they travel only in the
            environment (``MLH_LOAD_HEADERS``) and never into a file or log.
        protocol: ``v1``, ``v2`` or ``mixed``.
        batch_size: rows per request.
        rows: the payload rows: the model contract's golden cases, then its labelled data
            (iris: the seed's golden case and the 150 iris rows).
        users: concurrent users, over all workers.
        spawn_rate: users started per second.
        duration_s: the load window, warm-up included.
        warmup_s: seconds at the start excluded from the figures.
        rate: target req/s over all users (constant arrival), or None for "as fast as
            the users go".
        processes: worker processes.
        request_timeout_s: total deadline of one request (connect, send, answer, body).
        insecure: do not verify the endpoint's TLS certificate (``--insecure``).
        ca_cert: the CA bundle that verifies it (None: certifi's); a path as seen by the
            locust processes.
        max_response_bytes: the longest body read; a longer answer is a failed request.
        grpc_url: the endpoint's V2 gRPC address, where protocol ``grpc`` sends its calls.
        task: the contract's task (``classification``, ``regression``): what a valid answer holds.
        classes: a classifier's classes (every answer under load must be one of them).
        output_name: the V2 output the answers are read from (the ``output_name`` setting, else the
            contract's; None: chosen as the checks choose).
        labels: the ``labels`` setting: class names an answer may give for the contract's classes.
    """

    base_url: str
    model_name: str
    headers: Mapping[str, str]
    protocol: str
    batch_size: int
    rows: tuple[tuple[float, ...], ...]
    users: int
    spawn_rate: float
    duration_s: float
    warmup_s: float
    rate: float | None
    processes: int
    request_timeout_s: float = 10.0
    insecure: bool = False
    ca_cert: str | None = None
    max_response_bytes: int = 16 * 1024 * 1024
    grpc_url: str | None = None
    task: str = ""
    classes: tuple[Any, ...] = ()
    output_name: str | None = None
    labels: tuple[str, ...] = ()
    request: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_config(cls, endpoint: Endpoint, cfg: HarnessConfig, processes: int | None = None) -> LoadPlan:
        """The plan for ``cfg``'s load settings against ``endpoint``, with ``processes`` workers
        (default: ``load_processes``, else one per core; the target picks its own default).

        Certificates are verified by the harness's one rule (:mod:`harness.inference.tls`).

        Raises:
            ConfigError: ``load_protocol`` names a protocol the endpoint does not speak.
        """
        verify = tls.verify_setting(cfg.endpoint)
        contract = read_contract(cfg)
        largest = endpoint.signature.max_batch_size if endpoint.signature is not None else None
        if largest and cfg.load.batch_size > largest:
            raise ConfigError(f"load_batch_size {cfg.load.batch_size} is above the {largest} rows the server takes per request "
                              f"(max_batch_size, from {endpoint.signature.source('max_batch_size')})", "batch_size")  # type: ignore[union-attr]
        return cls(
            base_url=endpoint.base_url.rstrip("/"),
            model_name=endpoint.model_name,
            headers=dict(endpoint.headers),
            protocol=load_protocol(cfg.load.protocol, endpoint.protocols),
            batch_size=cfg.load.batch_size,
            rows=contract.sample_rows(ROW_LIMIT),
            users=cfg.load.users,
            spawn_rate=cfg.load.spawn_rate,
            duration_s=cfg.load.duration,
            warmup_s=cfg.load.warmup,
            rate=cfg.load.rate,
            processes=processes or cfg.load.processes or os.cpu_count() or 1,
            request_timeout_s=cfg.core.request_timeout,
            insecure=verify is False,
            ca_cert=verify if isinstance(verify, str) else None,
            max_response_bytes=cfg.endpoint.max_response_bytes,
            grpc_url=endpoint.grpc_url,
            task=contract.task,
            classes=tuple(contract.classes),
            output_name=cfg.endpoint.output_name or contract.output,
            labels=tuple(cfg.endpoint.labels),
            request=Encoder(endpoint.signature).template(endpoint.model_name),
        )

    @property
    def tls_description(self) -> str:
        """How the endpoint's certificate is checked, for logs and reports."""
        if self.protocol == "grpc" and self.grpc_url:
            if not self.grpc_url.lower().startswith("grpcs:"):
                return "none (plaintext gRPC)"
        elif not self.base_url.lower().startswith("https:"):
            return "none (http)"
        return "not verified (insecure)" if self.insecure else "verified with " + (self.ca_cert or "certifi's CA bundle")

    @property
    def drain_s(self) -> float:
        """After the window: how long the requests still in flight are waited for (then they are failures)."""
        return self.request_timeout_s + DRAIN_MARGIN_S

    @property
    def rate_per_user(self) -> float | None:
        """Each user's share of the target rate (users keep their own schedule)."""
        return self.rate / self.users if self.rate else None

    def plan_json(self) -> str:
        """The locustfile's settings (``MLH_LOAD_PLAN``); holds no header values."""
        return json.dumps(
            {
                "model_name": self.model_name,
                "protocol": self.protocol,
                "batch_size": self.batch_size,
                "rows": [list(r) for r in self.rows],
                "request": dict(self.request) or Encoder().template(self.model_name),
                "warmup_s": self.warmup_s,
                "duration_s": self.duration_s,
                "rate_per_user": self.rate_per_user,
                "request_timeout_s": self.request_timeout_s,
                "insecure": self.insecure,
                "ca_cert": self.ca_cert,
                "max_response_bytes": self.max_response_bytes,
                "grpc_url": self.grpc_url,
                "answers": {"task": self.task, "classes": list(self.classes), "output": self.output_name, "labels": list(self.labels)},
            }
        )

    def describe(self) -> dict[str, Any]:
        """The plan for logs and reports: header names only, never their values."""
        return {
            "base_url": masked(self.base_url),  # a query key is a secret
            "model_name": self.model_name,
            "header_names": sorted(self.headers),
            "protocol": self.protocol,
            "batch_size": self.batch_size,
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "rate": self.rate,
            "processes": self.processes,
            "request_timeout_s": self.request_timeout_s,
            "max_response_bytes": self.max_response_bytes,
            "tls": self.tls_description,
            **({"grpc_url": self.grpc_url} if self.protocol == "grpc" else {}),
        }


def locust_env(plan: LoadPlan, out_dir: Path | str) -> dict[str, str]:
    """Environment of every locust process of ``plan``.

    ``MLH_LOAD_HEADERS`` carries the endpoint headers (secrets): in a cluster, put it in a
    Secret, not a ConfigMap. ``MLH_LOAD_QUERY`` carries the URL's query string (a gateway's key:
    a secret too), so that it is not on locust's command line (``ps`` shows that to every user
    of the machine): ``--host`` is the URL without it. ``MLH_LOAD_OUT`` is where workers write
    ``results/worker-<pid>.json`` and the master writes ``live.json``.
    """
    env = {
        "MLH_LOAD_PLAN": plan.plan_json(),
        "MLH_LOAD_HEADERS": json.dumps(dict(plan.headers)),
        "MLH_LOAD_OUT": str(out_dir),
        "PYTHONUNBUFFERED": "1",
    }
    query = plan.base_url.partition("?")[2]
    if query:
        env["MLH_LOAD_QUERY"] = query
    return env


def locust_argv(
    plan: LoadPlan,
    role: Role,
    out_dir: Path | str,
    *,
    master_host: str = "127.0.0.1",
    master_port: int = MASTER_PORT,
    bind_host: str = "127.0.0.1",
    python: str = sys.executable,
    locustfile: Path | str = LOCUSTFILE,
    worker_wait_s: int = WORKER_WAIT_S,
) -> list[str]:
    """The command line of one locust process of ``plan``.

    Args:
        role: ``local`` (one master that forks ``plan.processes`` workers on this host),
            ``master`` (waits for ``plan.processes`` workers on ``master_port``) or
            ``worker`` (connects to ``master_host:master_port``).
        bind_host: the address a ``master`` listens on (``0.0.0.0`` in a cluster).
        out_dir: where this process's log file goes (``locust-<role>.log``).
        python: the interpreter that has locust installed.
        locustfile: the locustfile path as seen by that process (a container may mount it
            elsewhere).
        worker_wait_s: how long a master waits for its workers (pods start slower than forks).
    """
    log = Path(out_dir) / f"locust-{role}.log"
    argv = [python, "-m", "locust", "-f", str(locustfile), "--headless", "--logfile", str(log), "--loglevel", "INFO"]
    if role == "worker":
        return argv + ["--worker", "--master-host", master_host, "--master-port", str(master_port)]
    # --run-time only takes whole seconds: it is a backstop a few seconds after the
    # locustfile's own stop, which is exact to the fraction of a second.
    common = [
        "--host", plan.base_url.partition("?")[0],  # the query (a key) travels in MLH_LOAD_QUERY: see locust_env
        "--users", str(plan.users),
        "--spawn-rate", f"{plan.spawn_rate:g}",
        "--run-time", f"{math.ceil(plan.duration_s + plan.drain_s) + RUN_TIME_BACKSTOP_S}s",
        "--stop-timeout", "0",
        "--exit-code-on-error", "0",
        "--only-summary",
        "--expect-workers-max-wait", str(worker_wait_s),
    ]
    if role == "local" and plan.processes == 1:
        # one process: locust's standalone runner, no master to feed (its stats reports and
        # the extra process cost CPU the server could use)
        return argv + common
    if role == "local":
        # an explicit port on 127.0.0.1: locust's default (5557 on every interface) collides
        # with any other load run on the same machine
        return argv + common + [
            "--processes", str(plan.processes),
            "--master-bind-host", bind_host, "--master-bind-port", str(master_port),
            "--master-host", master_host, "--master-port", str(master_port),
        ]
    return argv + common + [
        "--master", "--master-bind-host", bind_host,
        "--master-bind-port", str(master_port), "--expect-workers", str(plan.processes),
    ]
