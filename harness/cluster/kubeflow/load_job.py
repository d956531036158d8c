"""Load from inside the cluster: the locust master and workers as Kubernetes Jobs.

Why: a port-forward to the predictor throttles load (one kubectl process relays every byte),
so with ``load_in_cluster`` the generator runs next to the model instead. Same plan, same
locustfile, same command lines and same exact merge as the local runner
(:mod:`harness.load`); only the launcher differs:

1. delete leftovers of an earlier load in the namespace (same labels), waiting for them;
2. ``kubectl apply`` a Secret (the request headers: cookie, token), a ConfigMap (locustfile +
   plan, no secrets), the master's Service and Job, the workers' Job (``--expect-workers N``);
3. wait for the master Job to complete (timeout: duration + start-up allowance for image pull
   and ``pip install hdrhistogram``), then for the workers' Job;
4. read each worker pod's result from ``kubectl logs`` (printed between marker lines: a pod's
   files vanish with it), merge exactly, and return the same :class:`LoadResult` as the
   local runner, with ``via="in-cluster"``;
5. delete what it created (the run's namespace goes on teardown anyway).

On a timeout or a failed Job the diagnostics bundle (pods, events, describe, every pod's
log) goes to ``<report dir>/diagnostics/load-job/`` and is named in the error.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.cluster.kube import diagnostics, manifests
from harness.cluster.kube.kubectl import Kubectl
from harness.config import HarnessConfig
from harness.errors import HarnessError, InfrastructureError, WaitTimeout
from harness.load import LOCUSTFILE, LoadPlan, LoadResult
from harness.load.plan import LOCUST_MODULES
from harness.load.run import result_from_docs
from harness.procs.waiting import wait_until
from harness.redact import SENSITIVE_HEADERS, redact, register_secrets
from harness.results import Endpoint

Progress = Callable[[str], None]
NAME = "mlh-load"
DEFAULT_WORKERS = 2  # worker pods when load_processes is not set (not the harness host's CPUs)
STARTUP_S = 600.0  # image pull + pip install + workers connecting, on top of the load window
STOP_S = 120.0  # after the master: workers print their results and exit
POLL_S = 5.0
# must match harness/load/worker/recording.py (a round-trip test pins both sides)
RESULT_BEGIN, RESULT_DATA, RESULT_END = "MLH-LOAD-RESULT-BEGIN", "MLH-LOAD-RESULT-DATA", "MLH-LOAD-RESULT-END"


def in_cluster_plan(url: str, endpoint: Endpoint, cfg: HarnessConfig) -> LoadPlan:
    """The local runner's plan (:meth:`LoadPlan.from_config`) aimed at ``url`` from inside the cluster.

    The ``Host`` header is dropped: it routes an ingress, and ``url`` already names the
    Service. Other headers (cookie, token) are kept. Workers are pods: ``load_processes``
    of them, or :data:`DEFAULT_WORKERS`, never the harness machine's CPU count.
    """
    headers = {k: v for k, v in endpoint.headers.items() if k.lower() != "host"}
    target = Endpoint(url.rstrip("/"), endpoint.model_name, headers, endpoint.protocols, f"in-cluster {url}", signature=endpoint.signature)
    plan = LoadPlan.from_config(target, cfg)
    return dataclasses.replace(plan, processes=cfg.load.processes or DEFAULT_WORKERS)


def load_objects(name: str, namespace: str, plan: LoadPlan, *, deadline_s: int) -> list[dict[str, Any]]:
    """Secret (headers) + ConfigMap + Service + master Job + workers Job of ``plan``."""
    secret = manifests.load_headers_secret(name, namespace, json.dumps(dict(plan.headers)))
    return [secret] + manifests.load_job(
        name, namespace, LOCUSTFILE.read_text(), plan.base_url,
        users=plan.users, spawn_rate=plan.spawn_rate, duration_s=plan.duration_s, workers=plan.processes,
        plan_json=plan.plan_json(), headers_secret=secret["metadata"]["name"], deadline_s=deadline_s,
        modules={module.name: module.read_text() for module in LOCUST_MODULES},
    )


def parse_worker_log(text: str) -> list[dict[str, Any]]:
    """The result documents a worker printed between marker lines (complete blocks only).

    Raises:
        InfrastructureError: a block is cut off or its JSON does not parse.
    """
    docs: list[dict[str, Any]] = []
    chunks: list[str] | None = None
    expected = 0
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if line.startswith(RESULT_BEGIN + " "):
            chunks = []
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            expected = int(fields.get("chars", "-1"))
        elif chunks is not None and line.startswith(RESULT_DATA + " "):
            chunks.append(line[len(RESULT_DATA) + 1:])
        elif chunks is not None and line.startswith(RESULT_END):
            body = "".join(chunks)
            if len(body) != expected:
                raise InfrastructureError(f"a worker's result block has {len(body)} characters, expected {expected}")
            try:
                docs.append(json.loads(body))
            except json.JSONDecodeError as exc:
                raise InfrastructureError(f"a worker's result block is not JSON: {exc}") from None
            chunks = None
    return docs


def wait_job(kubectl: Kubectl, namespace: str, job: str, *, timeout: float, interval: float, say: Progress) -> str:
    """Poll Job ``job`` until its ``Complete`` or ``Failed`` condition; return that and its reason.

    Raises:
        WaitTimeout: neither within ``timeout`` (the message says what the Job was doing).
    """
    seen = {"state": "not seen yet"}
    started = time.monotonic()

    def probe() -> str | None:
        result = kubectl.run("get", "job", job, "-n", namespace, "-o", "json", timeout=30.0, check=False)
        try:
            status = json.loads(result.stdout or "{}").get("status", {}) if result.ok else None
        except json.JSONDecodeError:
            status = None
        if status is None:
            seen["state"] = f"kubectl get job failed: {redact(result.stderr.strip())[:200] or 'no output'}"
            return None
        for cond in status.get("conditions") or []:
            if cond.get("status") == "True" and cond.get("type") in ("Complete", "Failed"):
                why = ": ".join(x for x in (cond.get("reason"), cond.get("message")) if x)
                return f"{cond['type']}" + (f" ({why})" if why else "")
        seen["state"] = (f"active {status.get('active', 0)}, succeeded {status.get('succeeded', 0)}, "
                         f"failed {status.get('failed', 0)}")
        say(f"load in cluster: job {job} {seen['state']} ({time.monotonic() - started:.0f}s, at most {timeout:.0f}s)")
        return None

    return wait_until(probe, what=f"Job {namespace}/{job} to finish", timeout=timeout, interval=interval,
                      describe=lambda: seen["state"])


def _delete(kubectl: Kubectl, namespace: str, name: str, *, wait: bool) -> None:
    """Delete the load objects of ``name``; ``wait``: until their pods are gone too."""
    args = ["delete", "job,service,configmap,secret", "-n", namespace, "-l", f"app.kubernetes.io/name={name}",
            "--ignore-not-found"]
    args += ["--cascade=foreground", "--wait=true", "--timeout=120s"] if wait else ["--wait=false"]
    kubectl.run(*args, timeout=150.0 if wait else 60.0)


def _fail(kubectl: Kubectl, namespace: str, out_dir: Path, message: str, exc: HarnessError | None = None) -> HarnessError:
    """The error to raise, after writing the diagnostics bundle it names."""
    where = out_dir / "diagnostics" / "load-job"
    diagnostics.collect(kubectl, [namespace], where, all_logs=True)
    if isinstance(exc, WaitTimeout):
        return WaitTimeout(message, exc.timeout, f"{exc.last}; diagnostics in {where}")
    return InfrastructureError(f"{message}; diagnostics in {where}")


def run_load_in_cluster(
    kubectl: Kubectl,
    namespace: str,
    url: str,
    endpoint: Endpoint,
    cfg: HarnessConfig,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    name: str = NAME,
    startup_s: float = STARTUP_S,
    stop_s: float = STOP_S,
    interval: float = POLL_S,
) -> LoadResult:
    """Drive ``cfg``'s load from Jobs in ``namespace`` against ``url``; what the workers measured.

    Args:
        kubectl: kubectl bound to the cluster (its runner is the command seam).
        url: the predictor's in-cluster URL (``http://<model>-predictor.<ns>.svc.cluster.local``).
        endpoint: the deployed model: its name and headers (headers travel only in a Secret).
        cfg: load settings, as for :func:`harness.load.run_load`.
        out_dir: the run's report directory (``load/`` and ``diagnostics/load-job/`` go there).
        progress: a short status line while waiting.
        startup_s: allowance on top of the load window for image pull, pip install, workers.
        stop_s: how long the workers' Job may take to finish after the master's.

    Raises:
        WaitTimeout: the master Job did not finish in time (diagnostics written).
        InfrastructureError: a Job failed or no worker reported figures (diagnostics written).
    """
    say = progress or (lambda _m: None)
    plan = in_cluster_plan(url, endpoint, cfg)
    register_secrets(v for k, v in plan.headers.items() if k.lower() in SENSITIVE_HEADERS)
    load_dir = out_dir / "load"
    shutil.rmtree(load_dir / "results", ignore_errors=True)
    shutil.rmtree(load_dir / "pods", ignore_errors=True)
    (load_dir / "results").mkdir(parents=True, exist_ok=True)
    (load_dir / "pods").mkdir(parents=True, exist_ok=True)
    describe = {**plan.describe(), "via": "in-cluster", "namespace": namespace, "image": manifests.LOCUST_IMAGE}
    (load_dir / "plan.json").write_text(json.dumps(describe, indent=2) + "\n")
    timeout = plan.duration_s + plan.drain_s + startup_s  # the window, the wait for its last answers, start-up
    objects = load_objects(name, namespace, plan, deadline_s=math.ceil(timeout + stop_s))
    _delete(kubectl, namespace, name, wait=True)
    launched = time.time()
    try:
        say(f"load in cluster: starting {name} in {namespace} (1 master, {plan.processes} workers, {manifests.LOCUST_IMAGE})")
        kubectl.apply(objects, timeout=120.0)
        try:
            state = wait_job(kubectl, namespace, f"{name}-master", timeout=timeout, interval=interval, say=say)
        except WaitTimeout as exc:
            raise _fail(kubectl, namespace, out_dir, f"the in-cluster load master Job {namespace}/{name}-master to "
                        f"finish ({plan.duration_s:g}s of load + {startup_s:g}s start-up)", exc) from None
        if not state.startswith("Complete"):
            raise _fail(kubectl, namespace, out_dir, f"the in-cluster load master Job {namespace}/{name}-master ended {state}")
        finished = True
        try:
            workers_state = wait_job(kubectl, namespace, f"{name}-worker", timeout=stop_s, interval=interval, say=say)
            if not workers_state.startswith("Complete"):
                say(f"load in cluster: workers Job ended {workers_state}; reading what they printed")
        except WaitTimeout as exc:
            finished = False
            say(f"load in cluster: {exc}; reading what the workers printed so far")
        docs = _collect(kubectl, namespace, name, load_dir)
        if not docs:
            raise _fail(kubectl, namespace, out_dir, f"no worker of {namespace}/{name}-worker printed its figures "
                        f"(logs in {load_dir / 'pods'})")
    finally:
        try:
            _delete(kubectl, namespace, name, wait=False)
        except HarnessError as exc:
            say(f"load in cluster: could not delete the load Jobs: {exc}")
    first = min(float(d["t0"]) for d in docs)
    return result_from_docs(
        plan, docs, via="in-cluster", finished=finished,
        startup_s=round(first - launched, 3) if first >= launched else None,
        files={"logs": str(load_dir / "pods"), "results": str(load_dir / "results")},
        locust_version=manifests.LOCUST_IMAGE.rsplit(":", 1)[-1],
    )


def _collect(kubectl: Kubectl, namespace: str, name: str, load_dir: Path) -> list[dict[str, Any]]:
    """Each worker pod's result, from its log; the logs (redacted) and results saved under ``load_dir``."""
    pods = kubectl.get_json("pods", "-n", namespace, "-l", f"app.kubernetes.io/name={name},mlharness/role=worker")
    docs: list[dict[str, Any]] = []
    for pod in sorted(p["metadata"]["name"] for p in pods.get("items", [])):
        log = kubectl.run("logs", pod, "-n", namespace, "-c", "locust", timeout=60.0, check=False)
        (load_dir / "pods" / f"{pod}.log").write_text(redact(log.stdout + log.stderr))
        for i, doc in enumerate(parse_worker_log(log.stdout)):
            (load_dir / "results" / f"worker-{pod}-{i}.json").write_text(json.dumps(doc))
            docs.append(doc)
    return docs
